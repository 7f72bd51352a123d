"""EcoEvents: its own authentication, and an event never ends before it starts (a new event starts as a
draft by its spec's default)."""

from __future__ import annotations

import datetime as dt

from ..errors import ApiError
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


def _instant(value):
    """A `date-time` as an aware datetime (no offset: UTC), or None when it is not one."""
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def ensure_ends_after_start(event: dict) -> None:
    """400 for an event that ends before it starts ("Event start date and time", "Event end date and
    time"): its endDate must not be earlier than its startDate; the same instant is taken."""
    start, end = _instant(event.get("startDate")), _instant(event.get("endDate"))
    if start and end and end < start:
        raise ApiError(400, f"endDate: {event['endDate']} is before startDate {event['startDate']}; an event "
                            f"cannot end before it starts", field="endDate")


def createEvent(call):
    ensure_ends_after_start(call.body)
    return call.resources.create(call.operation, call.body)


def updateEvent(call):
    """The sent dates against the stored ones: moving only one of them must keep the order too."""
    with call.store.lock:
        event = call.resources.get_or_404("events", call.params["id"])
        ensure_ends_after_start({**event, **{k: v for k, v in call.body.items() if k in ("startDate", "endDate")}})
        return call.resources.update(call.operation, call.params, call.body)

API = Api(collections=COLLECTIONS, authenticate=authenticate, handlers=handlers(globals(), "ecoevents"))
