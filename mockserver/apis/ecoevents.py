"""EcoEvents: its own authentication. Everything else is the spec's: a new event starts as a draft
(its spec's default), and never ends before it starts (`x-after` on `endDate`, mockserver/dates.py)."""

from __future__ import annotations

from ..fixtures import Record
from . import Api, api_key_principal, handlers

# the collections the mock keeps, and the schema of a stored record (checked at start, fixtures.py)
COLLECTIONS = {
    "api_keys": Record({"type": "object", "required": ["id"],
                        "properties": {"id": {"type": "string"}, "owner": {"type": "string"},
                                       "active": {"type": "boolean"}}}),
    "events": Record("Event"),
}


def authenticate(store, scheme, credential):
    return api_key_principal(store, credential)

API = Api(collections=COLLECTIONS, authenticate=authenticate, handlers=handlers(globals(), "ecoevents"))
