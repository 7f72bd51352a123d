"""Amar Events: accounts with API keys and login sessions; organizers act only on their own
organizations' events; ticket types are never oversold; stats are computed from the tickets.

What the spec says is read from it: key types, prefixes, permissions and rate limits (`x-key-types`),
who owns what and what goes with an event (`x-ownership`), which statuses hold a place (`x-states`),
admin-only fields (`x-access`), starting values, uniqueness, places never oversold (`x-capacity`),
date order (`x-before`, `x-after`), what a read embeds or counts and what a delete waits for
(`x-embed`, `x-count`, `x-delete`). The plain actions are the generic ones
(`x-resource`, resources.py); this module holds only the behaviour no extension can express.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import sys

from apispec import ext
from apispec.model import contract
from apispec.schema import properties, record_schema

from ..errors import ApiError
from ..fixtures import Record
from ..keytypes import KeyTypes, not_held
from ..resources import deleted, public, shape
from . import Api, handlers

# the collections the mock keeps, and the schema of a stored record (checked at start, fixtures.py);
# `sold` and `available` of a ticket type are counted when it is shown (`x-capacity`, capacity.py)
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


# --- what the spec says, read once --------------------------------------------------------

@functools.cache
def _ticket_status() -> dict:
    """The stored ticket's status schema: its `x-states` say which word is approved, pending, failed,
    and which hold a place of their ticket type's capacity."""
    return properties(record_schema(contract(SLUG).operations["getTicket"].response_schema()))["status"]


def status(role: str):
    return ext.states.word(_ticket_status(), role)


@functools.cache
def _schemes() -> dict:
    raw = contract(SLUG)
    return {name: raw.security_scheme(name) for name in raw.raw["components"]["securitySchemes"]}


@functools.cache
def key_types() -> KeyTypes:
    """The key types of the bearer scheme (`x-key-types`) and their rules (keytypes.py)."""
    return KeyTypes(contract(SLUG))


def session_cookie() -> str:
    return next(s["name"] for s in _schemes().values() if s.get("in") == "cookie")


def account_type(user: dict) -> str:
    """The key type an account stands for: admin accounts are admins whatever their type."""
    return "admin" if user.get("admin") else user["type"]


def key_types_for(user: dict) -> list[str]:
    return key_types().held_by(account_type(user))


# --- authentication -----------------------------------------------------------------------

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
        kind, permissions = key_types().worth(key, account_type(user))
        principal = {"sub": key["user_id"], "key_type": kind, "permissions": permissions,
                     "rate_key": rate_key(key), "key_id": key["id"], "via": "key"}
        if kind != key["key_type"]:
            principal["account_limits"] = key["key_type"]  # the key's own type, beyond its account's
        return principal


# --- shared helpers -----------------------------------------------------------------------

def answer(call, payload, headers=None):
    """The payload in the operation's success envelope (`{success: true, data: ...}`)."""
    return shape(call.operation.response_schema(), payload), call.operation.success_status(), headers or {}


def listing(call, records):
    """One page (or the whole list) of `records`: the generic list, its filters and paging."""
    return call.resources.list(call.operation, call.params, call.request, records=records, principal=call.principal)


def declared(call) -> dict:
    """The body fields the operation's schema declares (unknown fields are ignored, as the API does)."""
    names = properties(call.operation.body_schema())
    return {k: v for k, v in (call.body or {}).items() if k in names}


def lookup(call, collection: str, key, field: str = "id") -> dict:
    return call.resources.get_or_404(collection, key, field)


def me(call) -> dict:
    return lookup(call, "users", call.principal["sub"])


def of_event(store, collection: str, event_id) -> list[dict]:
    return [r for r in store.all(collection) if r.get("event_id") == event_id]


def owned_organizations(store, user_id) -> list[dict]:
    return [o for o in store.all("organizations") if o["user_id"] == user_id]


def tickets_of(store, email: str) -> list[dict]:
    return [t for t in store.all("tickets") if str(t.get("email", "")).lower() == email.lower()]


def managed(call, collection: str, key, field: str = "id") -> dict:
    """A record the caller may change: 404 unless it exists, 403 unless the caller owns it (`x-ownership`)."""
    record = lookup(call, collection, key, field)
    call.resources.ensure_owned(call.principal, collection, record)
    return record


# --- tickets of a ticket type, and stats --------------------------------------------------

def type_of_event(store, ticket_type_id, event_id) -> dict:
    ticket_type = store.get("ticket_types", ticket_type_id)
    if ticket_type is None or ticket_type["event_id"] != event_id:
        raise ApiError(404, f"ticket_type_id: ticket type {ticket_type_id} not found for event {event_id}",
                       field="ticket_type_id")
    return ticket_type


def figures(tickets: list[dict]) -> dict:
    count = collections.Counter(t["status"] for t in tickets)
    approved = status("approved")
    return {"total": len(tickets), "approved": count[approved], "pending": count[status("pending")],
            "failed": count[status("failed")],
            "revenue": min(float(sum(t["amount"] for t in tickets if t["status"] == approved)), sys.float_info.max)}


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
    return call.resources.new(call.contract.operations["createTicketType"], {**fields, "event_id": event_id},
                              principal=call.principal)


def remove_user(call, user: dict) -> None:
    """A user and their data: organizations (with their events and donations), keys, sessions, tickets."""
    store = call.store
    for organization in owned_organizations(store, user["id"]):
        for event in [e for e in store.all("events") if e["organization_id"] == organization["id"]]:
            call.resources.remove("events", event["id"])  # with its parts (x-ownership)
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


# --- auth ---------------------------------------------------------------------------------

def registerUser(call):
    body = call.body
    return call.resources.create(call.operation, {k: v for k, v in body.items() if k != "password"},
                                 extra={"_password": body["password"]}, principal=call.principal)


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


# --- events -------------------------------------------------------------------------------

def createEvent(call):
    with call.store.lock:
        event = call.resources.new(call.operation, {k: v for k, v in call.body.items() if k != "ticket_types"},
                                   principal=call.principal)
        for fields in call.body.get("ticket_types") or []:
            add_ticket_type(call, event["id"], fields)
    return answer(call, public(event))


def getEventStats(call):
    event = managed(call, "events", call.params["id"])
    return answer(call, event_stats(call.store, event["id"]))


# --- tickets ------------------------------------------------------------------------------

def listTickets(call):
    """Without `event_id`, the caller's own registrations (by email); with it, the event's tickets,
    for its owner (`x-access` on the parameter admits organizer and admin keys)."""
    call.resources.check_inputs(call.operation, call.principal, call.params, {})
    event_id = call.params.get("event_id")
    if event_id is None:
        return listing(call, tickets_of(call.store, me(call)["email"]))
    event = managed(call, "events", event_id, "event_id")
    return listing(call, of_event(call.store, "tickets", event["id"]))


def createTicket(call):
    body, store = call.body, call.store
    with store.lock:  # check the place and take it in one step: never oversold
        event = lookup(call, "events", body["event_id"], "event_id")
        ticket_type = None
        if body.get("ticket_type_id") is not None:
            ticket_type = type_of_event(store, body["ticket_type_id"], event["id"])
        account = me(call)
        ticket = call.resources.new(
            call.operation, {k: v for k, v in body.items() if k not in ("transaction_id", "custom_fields")},
            extra={"name": body.get("name", account["username"]), "email": body.get("email", account["email"]),
                   "transid": body.get("transaction_id"), "status": status("initial"),
                   "amount": float(body.get("amount", ticket_type["price"] if ticket_type else 0)),
                   "_custom_fields": dict(body.get("custom_fields") or {})})
    return answer(call, public(ticket))


def getTicket(call):
    ticket = lookup(call, "tickets", call.params["id"])
    if ticket["email"].lower() != me(call)["email"].lower():  # a registrant reads their own
        call.resources.ensure_owned(call.principal, "tickets", ticket)
    return answer(call, {**public(ticket), "custom_fields": ticket.get("_custom_fields") or {}})


def updateTicket(call):
    store = call.store
    with store.lock:
        ticket = managed(call, "tickets", call.params["id"])
        after = {**ticket, **declared(call)}
        moved = after["ticket_type_id"] != ticket["ticket_type_id"]
        holds = status("holds_place")
        if after["ticket_type_id"] is not None and (moved or (after["status"] in holds
                                                              and ticket["status"] not in holds)):
            type_of_event(store, after["ticket_type_id"], ticket["event_id"])  # its places: the generic update
        return call.resources.update(call.operation, call.params, call.body, principal=call.principal)


def verifyTicket(call):
    ticket = managed(call, "tickets", call.params["id"])
    event = lookup(call, "events", ticket["event_id"], "event_id")
    return answer(call, {"ticket_id": ticket["id"], "name": ticket["name"], "email": ticket["email"],
                         "status": ticket["status"], "event": event["name"], "event_date": event["date"],
                         "valid": ticket["status"] == status("approved")})


# --- users --------------------------------------------------------------------------------

def getMe(call):
    """The caller's account, read as the generic read shows it (organization and stats: `x-embed`, `x-count`)."""
    return call.resources.read(call.operation, {}, principal=call.principal, key=call.principal["sub"], name="users")


def updateMe(call):
    with call.store.lock:
        user = me(call)
        changes = declared(call)
        password, current = changes.pop("password", None), changes.pop("current_password", None)
        if password is not None:
            if current != user.get("_password"):
                raise ApiError(403, "current_password is incorrect", field="current_password")
            changes["_password"] = password
        call.resources.ensure_unique(call.operation, "users", changes, own_id=user["id"])
        user = call.store.update("users", user["id"], changes)
        if password is not None:
            end_sessions(call, user["id"])
    return answer(call, public(user))


def listMyTickets(call):
    return listing(call, tickets_of(call.store, me(call)["email"]))


# --- API keys -----------------------------------------------------------------------------

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
            permissions = [p for p in spec["permissions"] if not not_held(call.principal, [p])]
        key_types().check_permissions(kind, permissions)
        key_types().ensure_grantable(call.principal, kind, permissions)
        call.resources.check_order(call.operation, {"expires_at": body.get("expires_at")})  # not past
        raw = spec["prefix"] + call.store.ids.token_hex(16)
        key = call.store.insert("keys", {"user_id": user["id"], "name": body["name"], "key_type": kind,
                                         "permissions": permissions, "rate_limit": spec["rate_limit"],
                                         "is_active": True, "expires_at": body.get("expires_at"),
                                         "last_used_at": None, "created_at": call.store.clock.now_iso(), "_key": raw})
    return answer(call, {**public(key), "key": raw})  # the raw key, this once


def own_key(call) -> dict:
    key = lookup(call, "keys", call.params["id"])
    if key["user_id"] != call.principal["sub"]:
        raise ApiError(403, f"API key {key['id']} belongs to another account")
    key_types().ensure_manageable(call.principal, key)
    return key


def updateKey(call):
    with call.store.lock:
        key = own_key(call)
        changes = declared(call)
        if "permissions" in changes:
            changes["permissions"] = list(dict.fromkeys(changes["permissions"]))
            # its own too: never widened
            key_types().check_permissions(key["key_type"], changes["permissions"])
            key_types().ensure_grantable(call.principal, key["key_type"], changes["permissions"])
        key = call.store.update("keys", key["id"], changes)
    return answer(call, public(key))


def deleteKey(call):
    with call.store.lock:
        key = own_key(call)
        call.store.delete("keys", key["id"])
    return deleted(call.operation, "keys", key["id"])


# --- admin --------------------------------------------------------------------------------

def getAdminStats(call):
    store = call.store
    users, tickets = store.all("users"), store.all("tickets")
    return answer(call, {"users": len(users), "organizers": sum(1 for u in users if u["type"] == "organizer"),
                         "organizations": len(store.all("organizations")), "events": len(store.all("events")),
                         "tickets": len(tickets), "donations": len(store.all("donations")),
                         "api_keys": len(store.all("keys")), "revenue": figures(tickets)["revenue"]})


def adminUpdateUser(call):
    with call.store.lock:
        user = lookup(call, "users", call.params["id"])
        changes = declared(call)
        promote, demote = changes.pop("promote_organizer", False), changes.pop("demote_organizer", False)
        if "password" in changes:
            changes["_password"] = changes.pop("password")
        call.resources.ensure_unique(call.operation, "users", changes, own_id=user["id"])
        if promote:
            changes["type"] = "organizer"
        if demote:
            changes["type"] = "user"
        user = call.store.update("users", user["id"], changes)
        if "_password" in changes:
            end_sessions(call, user["id"])
        if promote and not owned_organizations(call.store, user["id"]):
            call.resources.new(call.contract.operations["createOrganization"],
                               {"name": user["username"], "user_id": user["id"]})
    return answer(call, public(user))


def adminDeleteUser(call):
    with call.store.lock:
        user = lookup(call, "users", call.params["id"])
        remove_user(call, user)
    return deleted(call.operation, "users", user["id"])


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
