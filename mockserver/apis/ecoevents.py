"""EcoEvents: only authentication is its own; a new event starts as a draft by its spec's default."""

from __future__ import annotations

from ..fixtures import Record
from . import api_key_principal

# the collections the mock keeps, and the schema of a stored record (checked at start, fixtures.py)
COLLECTIONS = {
    "api_keys": Record({"type": "object", "required": ["id"],
                        "properties": {"id": {"type": "string"}, "owner": {"type": "string"},
                                       "active": {"type": "boolean"}}}),
    "events": Record("Event"),
}


def authenticate(store, scheme, credential):
    return api_key_principal(store, credential)

