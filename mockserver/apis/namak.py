"""Namak: bookings count against an event's capacity, and are cancelled with their event. (A new
event's draft status, zero attendees and open capacity, and a new booking's status, are the starting
values its spec gives them.)"""

from __future__ import annotations

import functools

from apispec import ext
from apispec.model import contract
from apispec.schema import properties, record_schema

from ..errors import ApiError
from ..fixtures import Record
from . import Api, api_key_principal, handlers

# the collections the mock keeps, and the schema of a stored record (checked at start, fixtures.py)
COLLECTIONS = {
    "api_keys": Record({"type": "object", "required": ["id"],
                        "properties": {"id": {"type": "string"}, "owner": {"type": "string"},
                                       "active": {"type": "boolean"}}}),
    "events": Record("Event", also=("CreatedEvent", "EventSummary")),
    "bookings": Record("Booking"),
}


@functools.cache
def cancelled() -> str:
    """The Booking status of a booking whose event is cancelled (`x-states` of the spec's enum)."""
    status = properties(record_schema(contract("namak").operations["createBooking"].response_schema()))["status"]
    return ext.states.word(status, "cancelled")


def authenticate(store, scheme, credential):
    return api_key_principal(store, credential)


def createBooking(call):
    body = call.body
    store = call.store
    with store.lock:  # check and count in one step: never oversold
        event = store.get("events", body["event_id"])
        if event is None:
            raise ApiError(404, f"Event {body['event_id']} not found", field="event_id")
        wanted = body["attendees"]
        capacity = event.get("capacity")
        booked = event.get("attendees", 0)
        if capacity is not None and booked + wanted > capacity:
            raise ApiError(409, f"attendees: only {max(capacity - booked, 0)} places left for "
                                f"event {event['id']}", field="attendees")
        store.update("events", event["id"], {"attendees": booked + wanted})
        return call.resources.create(call.operation, body)  # confirmed: the status's default


def deleteEvent(call):
    """"Cancel an event": its bookings are cancelled with it (`status: cancelled`, the Booking
    status that says so), not left confirmed for an event that is gone; they stay listed."""
    with call.store.lock:
        answer = call.resources.delete(call.operation, call.params)
        event_id = call.params["id"]
        for booking in [b for b in call.store.all("bookings") if b.get("event_id") == event_id]:
            if booking.get("status") != cancelled():
                call.store.update("bookings", booking["id"], {"status": cancelled()})
    return answer

API = Api(collections=COLLECTIONS, authenticate=authenticate, handlers=handlers(globals(), "namak"))
