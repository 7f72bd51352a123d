"""Namak: bookings count against an event's capacity, and are cancelled with their event. (A new
event's draft status, zero attendees and open capacity are the defaults its spec gives the created
event.)"""

from __future__ import annotations

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


CANCELLED = "cancelled"  # a Booking status (the spec's enum)


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
        return call.resources.create(call.operation, body, extra={"status": "confirmed"})


def deleteEvent(call):
    """"Cancel an event": its bookings are cancelled with it (`status: cancelled`, the Booking
    status that says so), not left confirmed for an event that is gone; they stay listed."""
    with call.store.lock:
        answer = call.resources.delete(call.operation, call.params)
        event_id = call.params["id"]
        for booking in [b for b in call.store.all("bookings") if b.get("event_id") == event_id]:
            if booking.get("status") != CANCELLED:
                call.store.update("bookings", booking["id"], {"status": CANCELLED})
    return answer

API = Api(collections=COLLECTIONS, authenticate=authenticate, handlers=handlers(globals(), "namak"))
