"""Amar Events: accounts with API keys and login sessions; organizers act only on their own
organizations' events; ticket types are never oversold; stats are computed from the tickets.

What the spec says (key types, prefixes, permissions, rate limits, statuses, required fields,
defaults, uniqueness) is read from it; this module holds only the behaviour it cannot express.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import sys

from apispec.model import contract

from ..errors import ApiError
from ..fixtures import Record
from . import Api, handlers
from ..resources import apply_filters, deleted, page_of, public, shape, singular

# the collections the mock keeps, and the schema of a stored record (checked at start, fixtures.py);
# `sold` and `available` of a ticket type are counted when it is shown
COLLECTIONS = {
    "users": Record("User"),
    "keys": Record("ApiKey"),
    "sessions": Record({"type": "object", "required": ["id", "user_id"],
                        "properties": {"id": {"type": "string"}, "user_id": {"type": "integer"},
                                       "created_at": {"type": "string", "format": "date-time"}}}),
    "organizations": Record("Organization"),
    "plans": Record("Plan"),
    "events": Record("Event"),
    "ticket_types": Record("TicketType", derived=("sold", "available")),
    "custom_fields": Record("CustomField"),
    "gallery": Record("GalleryImage"),
    "tickets": Record("Ticket"),
    "donations": Record("Donation"),
}

SLUG = "amarevents"

# Ticket statuses (the spec's TicketStatus) with a meaning here: "approved" is Success (the
# document's stats and "only if no approved tickets"); Pending and Success tickets hold a place
# of their ticket type's capacity, Failed and Refunded ones give it back.
APPROVED, PENDING, FAILED = "Success", "Pending", "Failed"
HOLDS_PLACE = {PENDING, APPROVED}
NEW_DONATION = "pending"
# PUT /donations takes `approved`, which the platform stores as `verified` (decisions table)
DONATION_STORED_AS = {"approved": "verified"}
# "Organizers can update name, description, notice. Admins can also update plan and eventcount."
ADMIN_ONLY_ORGANIZATION_FIELDS = ("plan", "eventcount")
# "This permanently deletes the event, all tickets, ticket types, custom fields, and gallery entries."
EVENT_PARTS = ("tickets", "ticket_types", "custom_fields", "gallery")
AVAILABILITY = ("sold", "available")  # computed on every read of a ticket type, never stored


# --- the spec's security schemes ------------------------------------------------------------

@functools.cache
def _schemes() -> dict:
    return contract(SLUG).raw["components"]["securitySchemes"]


def key_types() -> dict:
    """The `x-key-types` of the bearer scheme: prefix, rate_limit and permissions per key type."""
    return next(s["x-key-types"] for s in _schemes().values() if "x-key-types" in s)


def session_cookie() -> str:
    return next(s["name"] for s in _schemes().values() if s.get("in") == "cookie")


def account_type(user: dict) -> str:
    """The key type an account stands for: admin accounts are admins whatever their type."""
    return "admin" if user.get("admin") else user["type"]


def key_types_for(user: dict) -> list[str]:
    """Key types an account may hold: `x-key-types` lists them from least to most privileged (as
    the document does) and an account holds its own type's keys and every lesser type's."""
    kinds = list(key_types())
    return kinds[: kinds.index(account_type(user)) + 1]


def rank(kind: str) -> int:
    """How privileged a key type is: its place in `x-key-types` (user < organizer < admin)."""
    return list(key_types()).index(kind)


def worth(key: dict, user: dict) -> tuple[str, list[str]]:
    """(key type, permissions) a key acts with: "Requires organizer account", "Requires admin
    account": a key is worth at most what its account may now hold. A key of a type the account
    may no longer hold (demoted, `admin: 0`) acts as its account's own type, with only the
    permissions that type may hold; promoted again, it is worth all it holds again."""
    if key["key_type"] in key_types_for(user):
        return key["key_type"], list(key["permissions"])
    kind = account_type(user)
    allowed = key_types()[kind]["permissions"]
    return kind, [p for p in key["permissions"] if p in allowed]


# --- authentication -------------------------------------------------------------------------

def rate_key(key: dict) -> str:
    return f"key:{key['id']}"


def key_works(key: dict, today: dt.date) -> bool:
    expires = key.get("expires_at")
    return bool(key.get("is_active")) and (expires is None or dt.date.fromisoformat(expires) >= today)


def authenticate(store, scheme, credential):
    """The principal of an API key (Bearer) or a login session (cookie), or None (401)."""
    if not credential:
        return None
    with store.lock:
        if scheme.get("in") == "cookie":
            session = store.get("sessions", credential)
            user = store.get("users", session["user_id"]) if session else None
            if user is None:
                return None
            kind = account_type(user)
            return {"sub": user["id"], "key_type": kind, "permissions": list(key_types()[kind]["permissions"]),
                    "rate_key": f"session:{credential}", "via": "session", "session_id": credential}
        key = store.find("keys", _key=credential)
        user = store.get("users", key["user_id"]) if key is not None else None
        if key is None or not key_works(key, store.clock.today()) or user is None:
            return None
        store.update("keys", key["id"], {"last_used_at": store.clock.now_iso()})
        kind, permissions = worth(key, user)
        principal = {"sub": key["user_id"], "key_type": kind, "permissions": permissions,
                     "rate_key": rate_key(key), "key_id": key["id"], "via": "key"}
        if kind != key["key_type"]:
            principal["account_limits"] = key["key_type"]  # the key's own type, beyond its account's
        return principal


# --- shared helpers -------------------------------------------------------------------------

def properties(schema: dict) -> dict:
    """An object schema's properties, those of its `allOf` parts included."""
    props = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        props.update(properties(part))
    return props


def declared(schema: dict, body) -> dict:
    """The body fields the schema declares (unknown fields are ignored, as the API does)."""
    names = properties(schema)
    return {k: v for k, v in (body or {}).items() if k in names}


def starting_values(schema: dict, now: str, nulls: bool = True) -> dict:
    """What a new object starts with: schema defaults, null where nullable, a creation time."""
    values = {}
    for name, prop in properties(schema).items():
        if "default" in prop:
            values[name] = prop["default"]
        elif nulls and prop.get("nullable"):
            values[name] = None
        elif name == "created_at" and prop.get("format") == "date-time":
            values[name] = now
    return values


def new_record(operation, now: str, body, **extra) -> dict:
    """A record as `operation` creates it: the response object's starting values, then the
    body's defaults and declared fields, then `extra`."""
    record = starting_values(properties(operation.response_schema()).get("data", {}), now)
    record.update(starting_values(operation.body_schema(), now, nulls=False))
    record.update(declared(operation.body_schema(), body))
    record.update(extra)
    return record


def answer(call, payload, headers=None):
    """The payload in the operation's success envelope (`{success: true, data: ...}`)."""
    return shape(call.operation.response_schema(), payload), call.operation.success_status(), headers or {}


def listing(call, records):
    """One page (or the whole list) of `records`, filtered as the operation's parameters say."""
    records = apply_filters(call.operation, [public(r) for r in records], call.params, call.store)
    body, headers = page_of(call.operation, records, call.params)
    return body, 200, headers


def lookup(store, collection: str, key, field: str = "id") -> dict:
    record = store.get(collection, key)
    if record is None:
        what = singular(collection)
        message = f"{what.capitalize()} {key} not found" if field == "id" else f"{field}: {what} {key} not found"
        raise ApiError(404, message, field=field)
    return record


def path_id(call):
    return call.params["id"]


def me(call) -> dict:
    return lookup(call.store, "users", call.principal["sub"])


def is_admin(call) -> bool:
    return call.principal.get("key_type") == "admin"


def of_event(store, collection: str, event_id) -> list[dict]:
    return [r for r in store.all(collection) if r.get("event_id") == event_id]


def owned_organizations(store, user_id) -> list[dict]:
    return [o for o in store.all("organizations") if o["user_id"] == user_id]


def tickets_of(store, email: str) -> list[dict]:
    return [t for t in store.all("tickets") if str(t.get("email", "")).lower() == email.lower()]


def require_organization(call, organization_id, what: str) -> None:
    """403 unless the caller is an admin or owns the organization."""
    if is_admin(call) or organization_id in {o["id"] for o in owned_organizations(call.store, call.principal["sub"])}:
        return
    raise ApiError(403, f"{what} belongs to an organization you do not own")


def managed_event(call, event_id, field: str = "id") -> dict:
    event = lookup(call.store, "events", event_id, field)
    require_organization(call, event["organization_id"], f"Event {event_id}")
    return event


def managed_ticket(call) -> dict:
    ticket = lookup(call.store, "tickets", path_id(call))
    event = call.store.get("events", ticket["event_id"]) or {}
    require_organization(call, event.get("organization_id"), f"Ticket {ticket['id']}")
    return ticket


def ensure_unique(store, collection: str, schema: dict, values: dict, own_id=None) -> None:
    """409 when another record already holds the value of an `x-unique` field (ignoring case)."""
    for name, prop in properties(schema).items():
        value = values.get(name)
        if not prop.get("x-unique") or value is None:
            continue
        for other in store.all(collection):
            if other["id"] != own_id and str(other.get(name, "")).lower() == str(value).lower():
                message = (prop.get("x-messages") or {}).get("unique") or f"{name} '{value}' is already taken"
                raise ApiError(409, message, field=name)


# --- availability and stats -----------------------------------------------------------------

def sold(store, ticket_type_id, ignore=None) -> int:
    return sum(1 for t in store.all("tickets")
               if t.get("ticket_type_id") == ticket_type_id and t["status"] in HOLDS_PLACE and t["id"] != ignore)


def ticket_type_view(store, ticket_type: dict) -> dict:
    """A ticket type with its availability; capacity 0 is unlimited (nothing `available` to count)."""
    taken, capacity = sold(store, ticket_type["id"]), ticket_type["capacity"]
    return {**public(ticket_type), "sold": taken, "available": max(capacity - taken, 0) if capacity else None}


def ensure_place(store, ticket_type: dict, ignore=None) -> None:
    """409 when every place of the ticket type is taken (call under `store.lock`)."""
    capacity = ticket_type["capacity"]
    if capacity and sold(store, ticket_type["id"], ignore) >= capacity:
        raise ApiError(409, f"ticket_type_id: ticket type {ticket_type['id']} ({ticket_type['name']}) is sold out, "
                            f"all {capacity} places are taken", field="ticket_type_id")


def ensure_capacity_holds(store, ticket_type: dict) -> None:
    """409 for a capacity below the places already held (Pending and Success tickets): lowering it
    must not take back a place a registration holds (0 = unlimited holds them all)."""
    capacity, taken = ticket_type["capacity"], sold(store, ticket_type["id"])
    if capacity and capacity < taken:
        raise ApiError(409, f"capacity: ticket type {ticket_type['id']} ({ticket_type['name']}) already has {taken} "
                            f"places held; its capacity cannot go below {taken}", field="capacity")


def type_of_event(store, ticket_type_id, event_id) -> dict:
    ticket_type = store.get("ticket_types", ticket_type_id)
    if ticket_type is None or ticket_type["event_id"] != event_id:
        raise ApiError(404, f"ticket_type_id: ticket type {ticket_type_id} not found for event {event_id}",
                       field="ticket_type_id")
    return ticket_type


def figures(tickets: list[dict]) -> dict:
    count = collections.Counter(t["status"] for t in tickets)
    return {"total": len(tickets), "approved": count[APPROVED], "pending": count[PENDING], "failed": count[FAILED],
            "revenue": min(float(sum(t["amount"] for t in tickets if t["status"] == APPROVED)), sys.float_info.max)}


def event_stats(store, event_id) -> dict:
    tickets = of_event(store, "tickets", event_id)
    groups = [(tt["id"], tt["name"]) for tt in of_event(store, "ticket_types", event_id)]
    known = {type_id for type_id, _ in groups}

    def group(ticket):  # tickets without a (still existing) ticket type make a group of their own
        return ticket["ticket_type_id"] if ticket["ticket_type_id"] in known else None

    if any(group(t) is None for t in tickets):
        groups.append((None, None))
    by_type = []
    for type_id, name in groups:
        mine = figures([t for t in tickets if group(t) == type_id])
        by_type.append({"ticket_type_id": type_id, "name": name,
                        **{k: mine[k] for k in ("total", "approved", "revenue")}})
    return {**figures(tickets), "by_ticket_type": by_type}


def add_ticket_type(call, event_id, fields: dict) -> dict:
    record = new_record(call.contract.operations["createTicketType"], call.store.clock.now_iso(), {**fields, "event_id": event_id})
    for name in AVAILABILITY:
        record.pop(name, None)
    return call.store.insert("ticket_types", record)


def add_organization(call, fields: dict) -> dict:
    record = new_record(call.contract.operations["createOrganization"], call.store.clock.now_iso(), fields,
                        eventcount=fields.get("eventcount", 0))
    return call.store.insert("organizations", record)


def remove_event(store, event_id) -> None:
    for collection in EVENT_PARTS:
        store.delete_where(collection, lambda r: r.get("event_id") == event_id)
    store.delete("events", event_id)


def remove_user(store, user: dict) -> None:
    """A user and their data: organizations (with their events and donations), keys, sessions, tickets."""
    for organization in owned_organizations(store, user["id"]):
        for event in [e for e in store.all("events") if e["organization_id"] == organization["id"]]:
            remove_event(store, event["id"])
        store.delete_where("donations", lambda d: d.get("organization_id") == organization["id"])  # noqa: B023
        store.delete("organizations", organization["id"])
    for collection in ("keys", "sessions"):
        store.delete_where(collection, lambda r: r.get("user_id") == user["id"])
    store.delete_where("tickets", lambda t: str(t.get("email", "")).lower() == user["email"].lower())
    store.delete("users", user["id"])


def end_sessions(call, user_id) -> None:
    """A new password ends the account's login sessions: whoever logged in with the old one is
    logged out. The session that made the change (the account's own, or an admin resetting their
    own password) stays: it has just proved the password or holds the right to set it. API keys
    are not sessions and stay (revoked only by DELETE /keys or /admin/revoke-key)."""
    keep = call.principal.get("session_id")
    call.store.delete_where("sessions", lambda r: r.get("user_id") == user_id and r["id"] != keep)


def profile(store, user: dict) -> dict:
    organizations = owned_organizations(store, user["id"])
    return {**public(user), "organization": public(organizations[0]) if organizations else None}


# --- auth -----------------------------------------------------------------------------------

def registerUser(call):
    body = call.body
    with call.store.lock:
        ensure_unique(call.store, "users", call.operation.body_schema(), body)
        fields = {k: v for k, v in body.items() if k != "password"}
        user = call.store.insert("users", new_record(call.operation, call.store.clock.now_iso(), fields, type="user", admin=0,
                                                     _password=body["password"]))
    return answer(call, public(user))


def login(call):
    email, password = call.body["email"], call.body["password"]
    with call.store.lock:
        user = next((u for u in call.store.all("users") if u["email"].lower() == email.lower()), None)
        if user is None or user.get("_password") != password:
            raise ApiError(401, "Invalid email or password")
        token = call.store.ids.token_urlsafe(24)
        call.store.insert("sessions", {"id": token, "user_id": user["id"], "created_at": call.store.clock.now_iso()})
    cookie = f"{session_cookie()}={token}; Path=/; HttpOnly; SameSite=Lax"
    return answer(call, public(user), {"Set-Cookie": cookie})


def logout(call):
    token = call.request.cookies.get(session_cookie())
    if token:
        call.store.delete("sessions", token)
    return answer(call, {"message": call.operation.response_example()["message"]},
                  {"Set-Cookie": f"{session_cookie()}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"})


def getAuthMe(call):
    principal = call.principal
    key = call.store.get("keys", principal.get("key_id")) if principal.get("via") == "key" else None
    if key is None:
        return answer(call, {"user": public(me(call)), "auth_method": "session", "key_type": None,
                             "permissions": None, "rate_limit": None})
    # what the key acts with: a key worth more than its account may now hold acts as the account's type
    kind = principal["key_type"]
    limit = key_types()[kind]["rate_limit"] if "account_limits" in principal else key["rate_limit"]
    return answer(call, {"user": public(me(call)), "auth_method": "api_key", "key_type": kind,
                         "permissions": principal["permissions"], "rate_limit": limit})


# --- events ---------------------------------------------------------------------------------

def listEvents(call):
    return listing(call, [e for e in call.store.all("events") if e["privacy"] == "public"])


def ensure_deadline_by_date(event: dict) -> None:
    """400 when registration would close after the event: the deadline is the last day to register
    for it, so it is on or before the event's date (either may be unset: nothing to compare)."""
    date, deadline = event.get("date"), event.get("deadline")
    if date and deadline and deadline > date:  # both YYYY-MM-DD (`format: date`): text order is date order
        raise ApiError(400, f"deadline: {deadline} is after the event's date {date}; registration must close "
                            f"on or before the event", field="deadline")


def ensure_registration_open(event: dict, today: dt.date) -> None:
    """409 for a registration after the event's deadline (the last day it takes one)."""
    deadline = event.get("deadline")
    if deadline and deadline < today.isoformat():  # YYYY-MM-DD: text order is date order
        raise ApiError(409, f"event_id: registration for event {event['id']} ({event['name']}) closed on its "
                            f"deadline, {deadline}", field="event_id")


def createEvent(call):
    body = call.body
    ensure_deadline_by_date(body)
    with call.store.lock:
        organization = lookup(call.store, "organizations", body["organization_id"], "organization_id")
        require_organization(call, organization["id"], f"Organization {organization['id']}")
        event = call.store.insert("events", new_record(call.operation, call.store.clock.now_iso(), {k: v for k, v in body.items()
                                                                         if k != "ticket_types"}))
        for fields in body.get("ticket_types") or []:
            add_ticket_type(call, event["id"], fields)
    return answer(call, public(event))


def getEvent(call):
    store = call.store
    event = lookup(store, "events", path_id(call))
    ticket_types = [ticket_type_view(store, tt) for tt in of_event(store, "ticket_types", event["id"])]
    return answer(call, {**public(event), "ticket_types": ticket_types,
                         "fields": [public(f) for f in of_event(store, "custom_fields", event["id"])]})


def updateEvent(call):
    with call.store.lock:
        event = managed_event(call, path_id(call))
        changes = declared(call.operation.body_schema(), call.body)
        ensure_deadline_by_date({**event, **changes})
        event = call.store.update("events", event["id"], changes)
    return answer(call, public(event))


def deleteEvent(call):
    with call.store.lock:
        event = managed_event(call, path_id(call))
        remove_event(call.store, event["id"])
    return deleted(call.operation, "events", event["id"])


def listEventTickets(call):
    event = managed_event(call, path_id(call))
    return listing(call, of_event(call.store, "tickets", event["id"]))


def getEventStats(call):
    event = managed_event(call, path_id(call))
    return answer(call, event_stats(call.store, event["id"]))


def getEventGallery(call):
    event = lookup(call.store, "events", path_id(call))
    return listing(call, of_event(call.store, "gallery", event["id"]))


def getEventFields(call):
    event = lookup(call.store, "events", path_id(call))
    return listing(call, of_event(call.store, "custom_fields", event["id"]))


# --- organizations --------------------------------------------------------------------------

def createOrganization(call):
    with call.store.lock:
        lookup(call.store, "users", call.body["user_id"], "user_id")
        organization = add_organization(call, declared(call.operation.body_schema(), call.body))
    return answer(call, public(organization))


def getOrganization(call):
    organization = lookup(call.store, "organizations", path_id(call))
    events = [public(e) for e in call.store.all("events")
              if e["organization_id"] == organization["id"] and e["privacy"] == "public"]
    events.sort(key=lambda e: e.get("date") or "", reverse=True)  # most recent first
    return answer(call, {**public(organization), "events": events})


def updateOrganization(call):
    with call.store.lock:
        organization = lookup(call.store, "organizations", path_id(call))
        require_organization(call, organization["id"], f"Organization {organization['id']}")
        changes = declared(call.operation.body_schema(), call.body)
        if not is_admin(call):
            for name in ADMIN_ONLY_ORGANIZATION_FIELDS:
                changes.pop(name, None)
        organization = call.store.update("organizations", organization["id"], changes)
    return answer(call, public(organization))


# --- tickets --------------------------------------------------------------------------------

def listTickets(call):
    event_id = call.params.get("event_id")
    if event_id is None:
        return listing(call, tickets_of(call.store, me(call)["email"]))
    if call.principal["key_type"] == "user":
        raise ApiError(403, "event_id: listing an event's tickets needs an organizer or admin key", field="event_id")
    event = managed_event(call, event_id, "event_id")
    return listing(call, of_event(call.store, "tickets", event["id"]))


def createTicket(call):
    body, store = call.body, call.store
    with store.lock:  # check the place and take it in one step: never oversold
        event = lookup(store, "events", body["event_id"], "event_id")
        ticket_type = None
        if body.get("ticket_type_id") is not None:
            ticket_type = type_of_event(store, body["ticket_type_id"], event["id"])
        ensure_registration_open(event, store.clock.today())
        if ticket_type is not None:
            ensure_place(store, ticket_type)
        account = me(call)
        fields = {k: v for k, v in body.items() if k not in ("transaction_id", "custom_fields")}
        ticket = store.insert("tickets", new_record(
            call.operation, store.clock.now_iso(), fields,
            name=body.get("name", account["username"]), email=body.get("email", account["email"]),
            transid=body.get("transaction_id"), status=PENDING,
            amount=float(body.get("amount", ticket_type["price"] if ticket_type else 0)),
            _custom_fields=dict(body.get("custom_fields") or {})))
    return answer(call, public(ticket))


def getTicket(call):
    ticket = lookup(call.store, "tickets", path_id(call))
    if ticket["email"].lower() != me(call)["email"].lower():
        event = call.store.get("events", ticket["event_id"]) or {}
        require_organization(call, event.get("organization_id"), f"Ticket {ticket['id']}")
    return answer(call, {**public(ticket), "custom_fields": ticket.get("_custom_fields") or {}})


def updateTicket(call):
    store = call.store
    with store.lock:
        ticket = managed_ticket(call)
        changes = declared(call.operation.body_schema(), call.body)
        after = {**ticket, **changes}
        moved = after["ticket_type_id"] != ticket["ticket_type_id"]
        if after["ticket_type_id"] is not None and (moved or (after["status"] in HOLDS_PLACE
                                                              and ticket["status"] not in HOLDS_PLACE)):
            ticket_type = type_of_event(store, after["ticket_type_id"], ticket["event_id"])
            if after["status"] in HOLDS_PLACE:
                ensure_place(store, ticket_type, ignore=ticket["id"])
        ticket = store.update("tickets", ticket["id"], changes)
    return answer(call, public(ticket))


def deleteTicket(call):
    with call.store.lock:
        ticket = managed_ticket(call)
        call.store.delete("tickets", ticket["id"])
    return deleted(call.operation, "tickets", ticket["id"])


def verifyTicket(call):
    ticket = managed_ticket(call)
    event = lookup(call.store, "events", ticket["event_id"], "event_id")
    return answer(call, {"ticket_id": ticket["id"], "name": ticket["name"], "email": ticket["email"],
                         "status": ticket["status"], "event": event["name"], "event_date": event["date"],
                         "valid": ticket["status"] == APPROVED})


# --- ticket types ---------------------------------------------------------------------------

def listTicketTypes(call):
    event = lookup(call.store, "events", call.params["event_id"], "event_id")
    return listing(call, [ticket_type_view(call.store, tt) for tt in of_event(call.store, "ticket_types", event["id"])])


def createTicketType(call):
    with call.store.lock:
        event = managed_event(call, call.body["event_id"], "event_id")
        ticket_type = add_ticket_type(call, event["id"], call.body)
    return answer(call, ticket_type_view(call.store, ticket_type))


def managed_ticket_type(call) -> dict:
    ticket_type = lookup(call.store, "ticket_types", path_id(call))
    managed_event(call, ticket_type["event_id"], "event_id")
    return ticket_type


def updateTicketType(call):
    with call.store.lock:
        ticket_type = managed_ticket_type(call)
        changes = declared(call.operation.body_schema(), call.body)
        ensure_capacity_holds(call.store, {**ticket_type, **changes})
        ticket_type = call.store.update("ticket_types", ticket_type["id"], changes)
    return answer(call, ticket_type_view(call.store, ticket_type))


def deleteTicketType(call):
    store = call.store
    with store.lock:
        ticket_type = managed_ticket_type(call)
        tickets = [t for t in store.all("tickets") if t.get("ticket_type_id") == ticket_type["id"]]
        approved = sum(1 for t in tickets if t["status"] == APPROVED)
        if approved:
            raise ApiError(409, f"Ticket type {ticket_type['id']} has {approved} approved ticket(s) and cannot "
                                f"be deleted", field="id")
        store.delete("ticket_types", ticket_type["id"])
        for ticket in tickets:
            store.update("tickets", ticket["id"], {"ticket_type_id": None})
    return deleted(call.operation, "ticket_types", ticket_type["id"])


# --- donations ------------------------------------------------------------------------------

def listDonations(call):
    donations = call.store.all("donations")
    if not is_admin(call):
        mine = {o["id"] for o in owned_organizations(call.store, call.principal["sub"])}
        donations = [d for d in donations if d["organization_id"] in mine]
    return listing(call, donations)


def createDonation(call):
    with call.store.lock:
        if call.body.get("organization_id") is not None:
            lookup(call.store, "organizations", call.body["organization_id"], "organization_id")
        donation = call.store.insert("donations", new_record(call.operation, call.store.clock.now_iso(), call.body, status=NEW_DONATION))
    return answer(call, public(donation))


def set_donation_status(call):
    with call.store.lock:
        donation = lookup(call.store, "donations", path_id(call))
        require_organization(call, donation["organization_id"], f"Donation {donation['id']}")
        status = call.body["status"]
        donation = call.store.update("donations", donation["id"], {"status": DONATION_STORED_AS.get(status, status)})
    return answer(call, public(donation))


updateDonation = adminUpdateDonation = set_donation_status


# --- users ----------------------------------------------------------------------------------

def getMe(call):
    store, user = call.store, me(call)
    organization_ids = {o["id"] for o in owned_organizations(store, user["id"])}
    stats = {"tickets": len(tickets_of(store, user["email"])),
             "events": sum(1 for e in store.all("events") if e["organization_id"] in organization_ids),
             "api_keys": sum(1 for k in store.all("keys") if k["user_id"] == user["id"])}
    return answer(call, {**profile(store, user), "stats": stats})


def updateMe(call):
    with call.store.lock:
        user = me(call)
        changes = declared(call.operation.body_schema(), call.body)
        password, current = changes.pop("password", None), changes.pop("current_password", None)
        if password is not None:
            if current != user.get("_password"):
                raise ApiError(403, "current_password is incorrect", field="current_password")
            changes["_password"] = password
        ensure_unique(call.store, "users", call.operation.body_schema(), changes, own_id=user["id"])
        user = call.store.update("users", user["id"], changes)
        if password is not None:
            end_sessions(call, user["id"])
    return answer(call, public(user))


def listMyTickets(call):
    return listing(call, tickets_of(call.store, me(call)["email"]))


def own_keys(call):
    return listing(call, [k for k in call.store.all("keys") if k["user_id"] == call.principal["sub"]])


listKeys = listMyKeys = own_keys


# --- API keys -------------------------------------------------------------------------------

def check_permissions(key_type: str, permissions: list[str]) -> None:
    """403 for permissions outside what the key type may hold (`x-key-types`)."""
    outside = [p for p in permissions if p not in key_types()[key_type]["permissions"]]
    if outside:
        raise ApiError(403, f"permissions: a {key_type} key cannot hold {', '.join(outside)}", field="permissions")


# A key's permissions limit what it can do with keys ("a subset of allowed permissions"): it grants
# only what it holds, and it manages (updates, deactivates, deletes) another key of its account only
# if it holds at least all that key holds, of a type no higher than its own. A login session is the
# account itself, not a key: it may manage every key of its account, within what the account may
# hold (the key types of `key_types_for`, the permissions of `x-key-types`).

def by_key(call) -> bool:
    return call.principal.get("via") == "key"


def not_held(call, permissions) -> list[str]:
    """Of `permissions`, those the calling key does not hold (`*` holds them all)."""
    held = set(call.principal.get("permissions") or [])
    return [] if "*" in held else [p for p in permissions if p not in held]


def ensure_grantable(call, kind: str, permissions: list[str]) -> None:
    """403 when the calling key would give a key more than it holds itself."""
    if not by_key(call):
        return
    own = call.principal["key_type"]
    if rank(kind) > rank(own):
        raise ApiError(403, f"key_type: this {own} key cannot create or change {kind} keys: a key creates and "
                            f"changes keys of its own type or a lesser one", field="key_type")
    missing = not_held(call, permissions)
    if missing:
        raise ApiError(403, f"permissions: this key does not hold {', '.join(missing)}, so it cannot grant it",
                       field="permissions")


def ensure_manageable(call, key: dict) -> None:
    """403 when the calling key holds less than another key it would update, deactivate or delete."""
    if not by_key(call) or key["id"] == call.principal.get("key_id"):
        return
    own = call.principal["key_type"]
    if rank(key["key_type"]) > rank(own):
        raise ApiError(403, f"API key {key['id']} is a {key['key_type']} key; this {own} key cannot manage it")
    missing = not_held(call, key["permissions"])
    if missing:
        raise ApiError(403, f"API key {key['id']} holds {', '.join(missing)}, which this key does not: "
                            f"managing a key needs at least what it holds")


def createKey(call):
    body = call.body
    with call.store.lock:
        user, kind = me(call), body["key_type"]
        if kind not in key_types_for(user):
            raise ApiError(403, f"key_type: a {account_type(user)} account cannot create {kind} keys "
                                f"(it may create {', '.join(key_types_for(user))} keys)", field="key_type")
        spec = key_types()[kind]
        if body.get("permissions"):
            permissions = list(dict.fromkeys(body["permissions"]))
        else:  # left out: all the key type's permissions that the creator may give
            permissions = [p for p in spec["permissions"] if not not_held(call, [p])]
        check_permissions(kind, permissions)
        ensure_grantable(call, kind, permissions)
        ensure_expiry_to_come(body.get("expires_at"), call.store.clock.today())
        raw = spec["prefix"] + call.store.ids.token_hex(16)
        key = call.store.insert("keys", {"user_id": user["id"], "name": body["name"], "key_type": kind,
                                         "permissions": permissions, "rate_limit": spec["rate_limit"],
                                         "is_active": True, "expires_at": body.get("expires_at"),
                                         "last_used_at": None, "created_at": call.store.clock.now_iso(), "_key": raw})
    return answer(call, {**public(key), "key": raw})  # the raw key, this once


def ensure_expiry_to_come(expires_at, today: dt.date) -> None:
    """400 for an `expires_at` already past: a key created expired could never be used (a key works
    through its `expires_at` day, `key_works`)."""
    if expires_at is not None and expires_at < today.isoformat():  # YYYY-MM-DD: text order
        raise ApiError(400, f"expires_at: {expires_at} is in the past; a key expires on today's date or a later one",
                       field="expires_at")


def own_key(call) -> dict:
    key = lookup(call.store, "keys", path_id(call))
    if key["user_id"] != call.principal["sub"]:
        raise ApiError(403, f"API key {key['id']} belongs to another account")
    ensure_manageable(call, key)
    return key


def updateKey(call):
    with call.store.lock:
        key = own_key(call)
        changes = declared(call.operation.body_schema(), call.body)
        if "permissions" in changes:
            changes["permissions"] = list(dict.fromkeys(changes["permissions"]))
            check_permissions(key["key_type"], changes["permissions"])
            ensure_grantable(call, key["key_type"], changes["permissions"])  # its own too: never widened
        key = call.store.update("keys", key["id"], changes)
    return answer(call, public(key))


def deleteKey(call):
    with call.store.lock:
        key = own_key(call)
        call.store.delete("keys", key["id"])
    return deleted(call.operation, "keys", key["id"])


# --- admin ----------------------------------------------------------------------------------

def getAdminStats(call):
    store = call.store
    users, tickets = store.all("users"), store.all("tickets")
    return answer(call, {"users": len(users), "organizers": sum(1 for u in users if u["type"] == "organizer"),
                         "organizations": len(store.all("organizations")), "events": len(store.all("events")),
                         "tickets": len(tickets), "donations": len(store.all("donations")),
                         "api_keys": len(store.all("keys")), "revenue": figures(tickets)["revenue"]})


def adminGetUser(call):
    store = call.store
    user = lookup(store, "users", path_id(call))
    return answer(call, {**profile(store, user),
                         "api_keys": [public(k) for k in store.all("keys") if k["user_id"] == user["id"]],
                         "ticket_count": len(tickets_of(store, user["email"]))})


def adminUpdateUser(call):
    with call.store.lock:
        user = lookup(call.store, "users", path_id(call))
        changes = declared(call.operation.body_schema(), call.body)
        promote, demote = changes.pop("promote_organizer", False), changes.pop("demote_organizer", False)
        if "password" in changes:
            changes["_password"] = changes.pop("password")
        ensure_unique(call.store, "users", call.operation.body_schema(), changes, own_id=user["id"])
        if promote:
            changes["type"] = "organizer"
        if demote:
            changes["type"] = "user"
        user = call.store.update("users", user["id"], changes)
        if "_password" in changes:
            end_sessions(call, user["id"])
        if promote and not owned_organizations(call.store, user["id"]):
            add_organization(call, {"name": user["username"], "user_id": user["id"]})
    return answer(call, public(user))


def adminDeleteUser(call):
    with call.store.lock:
        user = lookup(call.store, "users", path_id(call))
        remove_user(call.store, user)
    return deleted(call.operation, "users", user["id"])


def adminListPlans(call):
    return listing(call, call.store.all("plans"))


def adminListRateLimits(call):
    window = call.rate_window
    usage = window.usage() if window else {}
    start = call.store.clock.now() - dt.timedelta(seconds=window.window if window else 60)
    rows = [{"api_key_id": k["id"], "name": k["name"], "key_type": k["key_type"], "user_id": k["user_id"],
             "requests": usage[rate_key(k)], "limit": k["rate_limit"],
             "window_start": start.strftime("%Y-%m-%dT%H:%M:%SZ")}
            for k in call.store.all("keys") if usage.get(rate_key(k))]
    return listing(call, rows)

API = Api(collections=COLLECTIONS, authenticate=authenticate, handlers=handlers(globals(), SLUG))
