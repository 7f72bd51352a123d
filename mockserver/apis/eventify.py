"""Eventify: the credential is a token and username in the JSON body. Users register (email and
phone number unique), log in (by username or email) and log out (the token stops working).
Events are read through body filters; a month is summarised day by day."""

from __future__ import annotations

import calendar
import collections
import datetime as dt
import functools

from apispec import ext
from apispec.model import contract

from ..errors import ApiError
from ..fixtures import Record
from ..resources import project, shape, unique_conflicts
from . import Api, handlers

# the collections the mock keeps, and the schema of a stored record (checked at start, fixtures.py): a
# user is the profile login answers with (its password and token are the private `_password`, `_token`);
# an event carries what every event answer shows (its images are the private `_images`)
COLLECTIONS = {
    "users": Record("LoginResponse", omit=("message", "token"), extra={"id": {"type": "integer"}}),
    "event_types": Record("EventType"),
    "events": Record("Event", also=("DatedEvent", "PincodeEvent")),
}

# A registered user has only an email, a phone number and a password; the document says
# nothing of the rest of the profile login returns. The mock's choice: the email is also
# the username, the other fields are empty and the coordinates zero.
NEW_USER_PROFILE = {"first_name": "", "last_name": "", "role": "", "pincode": "", "district": "",
                    "state": "", "country": "", "place": "", "latitude": "0", "longitude": "0"}


# --- who is calling -----------------------------------------------------------------------------

@functools.cache
def _credential_fields() -> dict:
    """The body fields that carry the credential (the spec's root `x-body-auth`)."""
    return ext.credentials.body_auth(contract("eventify"))


@functools.cache
def _unauthorized(example: str) -> dict:
    """A named example of the 401 the authenticated operations share (`invalidToken`, `tokenMismatch`):
    the document's own words for it."""
    media = contract("eventify").operations["getUserStatus"].response(401)["content"]["application/json"]
    return media["examples"][example]["value"]


def authenticate_body(store, body: dict) -> dict:
    """The user whose token the body carries; 401 `invalid_token` for an unknown token, the
    standard error body for a token that belongs to another username ("Token Mismatch")."""
    fields = _credential_fields()
    token, username = body.get(fields["token"]), body.get(fields["username"])
    user = store.find("users", _token=token) if token else None
    if user is None:
        raise ApiError(401, _unauthorized("invalidToken")["status"], field=fields["token"])
    if user["username"] != username:
        raise ApiError(401, _unauthorized("tokenMismatch")["message"], field=fields["username"], template="default")
    return user


def _new_token(store) -> str:
    while True:  # 40 hex characters, like the document's tokens
        token = store.ids.token_hex(20)
        if store.find("users", _token=token) is None:
            return token


def _documented(call, field: str):
    """A fixed text of the operation's documented success answer ("Login successful")."""
    return call.operation.response_example()[field]


# --- users ------------------------------------------------------------------------------------

def registerUser(call):
    body, store = call.body, call.store
    with store.lock:  # check and insert in one step: an email or phone number is never taken twice
        refusal = unique_conflicts(store, "users", call.operation.body_schema(), body)  # x-unique's rule
        if refusal is not None:
            raise refusal
        user = store.insert("users", {**NEW_USER_PROFILE, "username": body["email"], "email": body["email"],
                                      "phone_number": body["phone_number"], "_password": body["password"],
                                      "_token": _new_token(store)})
    answer = {"message": _documented(call, "message"), "token": user["_token"]}
    return shape(call.operation.response_schema(), answer), call.operation.success_status()


def loginUser(call):
    body, store = call.body, call.store
    with store.lock:
        user = store.find("users", username=body["username"]) or store.find("users", email=body["username"])
        if user is None or user["_password"] != body["password"]:
            raise ApiError(401, call.operation.response_example(401)["errors"]["username"][0], field="username")
        if not user.get("_token"):  # logged out: a new token (a user holds at most one)
            user = store.update("users", user["id"], {"_token": _new_token(store)})
    schema = call.operation.response_schema()
    return {"message": _documented(call, "message"), "token": user["_token"], **project(schema, user)}


def getUserStatus(call):
    schema = call.operation.response_schema()
    return shape(schema, project(schema, call.principal))


def logoutUser(call):
    call.store.update("users", call.principal["id"], {"_token": None})
    return shape(call.operation.response_schema(), {"message": _documented(call, "message")})


# --- events -----------------------------------------------------------------------------------

def _listed(call, records=None):
    """The generic list (filters from the body), each item cut to the fields the response shows."""
    body, status, headers = call.resources.list(call.operation, call.body, call.request, records=records)
    items_at = ext.paging.of(call.operation)["items"]
    item_schema = call.operation.response_schema()["properties"][items_at]["items"]
    body[items_at] = [project(item_schema, item) for item in body[items_at]]
    return body, status, headers


def _primary_image(event: dict) -> str:
    images = event.get("_images") or []
    primary = next((i for i in images if i.get("is_primary")), images[0] if images else None)
    return primary["image"] if primary else event["thumb_img"]


def listEventsByPincode(call):
    return _listed(call)


def listEventsByDate(call):
    return _listed(call)


def listEventsByCategory(call):
    events = [{**event, "event_image": _primary_image(event)} for event in call.store.all("events")]
    return _listed(call, events)


def _event(call) -> dict:
    return call.resources.get_or_404("events", call.body["event_id"])


def getEventDetails(call):
    event = _event(call)
    schema = call.operation.response_schema()
    return shape(schema, {**project(schema, event), "images": event.get("_images") or []})


def listEventImages(call):
    images = [image["image"] for image in _event(call).get("_images") or []]
    return shape(call.operation.response_schema(), {"images": images})


def _month_number(name: str) -> int:
    """1-12 for a month's English name or its three-letter abbreviation, in any case."""
    return [abbr.lower() for abbr in calendar.month_abbr].index(name[:3].lower())


def getEventsByMonthYear(call):
    """The days of the month with events: a multi-day event counts on each of its days in the
    month; `total_number_of_events` counts each event once."""
    year, month = call.body["year"], _month_number(call.body["month"])
    per_day: collections.Counter = collections.Counter()
    counted = set()
    if dt.MINYEAR <= year <= dt.MAXYEAR:
        first = dt.date(year, month, 1)
        last = dt.date(year, month, calendar.monthrange(year, month)[1])
        for event in call.store.all("events"):
            start = max(dt.date.fromisoformat(event["start_date"]), first)
            end = min(dt.date.fromisoformat(event["end_date"]), last)
            for offset in range((end - start).days + 1):
                per_day[start + dt.timedelta(days=offset)] += 1
                counted.add(event["id"])
    days = sorted(per_day)
    return shape(call.operation.response_schema(), {
        "dates": [day.isoformat() for day in days],
        "total_number_of_events": len(counted),
        "date_events": [{"date_of_event": day.isoformat(), "events_of_date": per_day[day]} for day in days],
    })

API = Api(collections=COLLECTIONS, authenticate_body=authenticate_body, handlers=handlers(globals(), "eventify"))
