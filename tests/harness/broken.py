"""Broken implementations: the mock behind a middleware that breaks one rule of its contract.

Each `Breakage` names the API, the defect, the operations worth testing and the rule the
contract suite must report. The middleware buffers each response so it can rewrite it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode


@dataclasses.dataclass
class Exchange:
    """One request and its response, as a defect sees and rewrites them."""

    method: str
    path: str
    query: dict
    headers: dict           # request headers, lower-case names
    body: bytes
    status: int = 0
    response_headers: list = dataclasses.field(default_factory=list)
    response_body: bytes = b""

    def json(self):
        try:
            return json.loads(self.response_body)
        except ValueError:
            return None

    def set_json(self, value) -> None:
        self.response_body = json.dumps(value).encode()

    def request_json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class Broken:
    """ASGI middleware: `before(exchange, mock)` may rewrite the request, `after(exchange, mock)` the answer."""

    def __init__(self, app, before: Callable | None = None, after: Callable | None = None):
        self.app = app
        self.mock = app.mock
        self.before = before
        self.after = after

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith("/__admin"):
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        exchange = Exchange(scope["method"], scope["path"], query, headers, body)
        if self.before:
            self.before(exchange, self.mock)
        scope = {**scope, "method": exchange.method, "query_string": urlencode(exchange.query).encode(),
                 "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in exchange.headers.items()
                             if k != "content-length"] + [(b"content-length", str(len(exchange.body)).encode())]}
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": exchange.body, "more_body": False}

        async def capture(message):
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                exchange.response_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                exchange.response_body += message.get("body", b"")

        await self.app(scope, replay, capture)
        if self.after:
            self.after(exchange, self.mock)
        headers = [(k, v) for k, v in exchange.response_headers if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(exchange.response_body)).encode()))
        await send({"type": "http.response.start", "status": exchange.status, "headers": headers})
        await send({"type": "http.response.body", "body": exchange.response_body})


# --- the defects ------------------------------------------------------------------------------

def drop_field(field: str, path_prefix: str):
    def after(ex: Exchange, mock):
        body = ex.json()
        if ex.status == 200 and ex.path.startswith(path_prefix) and isinstance(body, dict) and field in body:
            del body[field]
            ex.set_json(body)
    return after


def created_as_200(ex: Exchange, mock):
    if ex.method == "POST" and ex.status == 201:
        ex.status = 200


def accept_missing_key(header: str, value: str):
    def before(ex: Exchange, mock):
        if header.lower() not in ex.headers:
            ex.headers[header.lower()] = value
    return before


def ignore_query(*names: str):
    def before(ex: Exchange, mock):
        for name in names:
            ex.query.pop(name, None)
    return before


def server_error_when(param: str, predicate):
    def after(ex: Exchange, mock):
        if param in ex.query and predicate(ex.query[param]):
            ex.status = 500
            ex.set_json({"detail": "boom"})
    return after


def server_error_on_long_text(ex: Exchange, mock):
    body = ex.request_json()
    if ex.method == "POST" and isinstance(body, dict) and any(isinstance(v, str) and len(v) > 3 for v in body.values()):
        ex.status = 500
        ex.response_headers = [(b"content-type", b"text/plain")]
        ex.response_body = b"Internal Server Error"


def keep_deleted(collection: str):
    def before(ex: Exchange, mock):
        ex.kept = None
        if ex.method == "DELETE":
            key = ex.path.rstrip("/").rsplit("/", 1)[-1]
            ex.kept = dict(mock.store.get(collection, key) or {}) or None

    def after(ex: Exchange, mock):
        if ex.method == "DELETE" and getattr(ex, "kept", None) and ex.status < 300:
            mock.store.insert(collection, ex.kept)
    return before, after


def lose_created(collection: str):
    def after(ex: Exchange, mock):
        body = ex.json()
        if ex.method == "POST" and ex.status == 201 and isinstance(body, dict):
            created = body.get("data", body) if isinstance(body.get("data"), dict) else body
            mock.store.delete(collection, created.get("id"))
    return after


def plain_error_body(ex: Exchange, mock):
    if ex.status >= 400:
        body = ex.json()
        message = json.dumps(body)[:100] if body is not None else "error"
        ex.set_json({"message": message})


def drop_headers(*names: str):
    lowered = {n.lower().encode() for n in names}

    def after(ex: Exchange, mock):
        ex.response_headers = [(k, v) for k, v in ex.response_headers if k.lower() not in lowered]
    return after


def fixed_header(name: str, value: str):
    lowered = name.lower().encode()

    def after(ex: Exchange, mock):
        ex.response_headers = [(k, value.encode() if k.lower() == lowered else v) for k, v in ex.response_headers]
    return after


def inflate_total(items: str, meta: str):
    def after(ex: Exchange, mock):
        body = ex.json()
        if ex.status == 200 and isinstance(body, dict) and isinstance(body.get(meta), dict) and items in body:
            body[meta]["total"] = body[meta].get("total", 0) + 7
            ex.set_json(body)
    return after


def repair_invalid(path: str, field: str, value):
    """Accept invalid input: replace a bad field with a good one before validation sees it."""
    def before(ex: Exchange, mock):
        body = ex.request_json()
        if ex.method == "POST" and ex.path == path:
            if not isinstance(body, dict):
                body = {}
            if not isinstance(body.get(field), type(value)) or not body.get(field):
                body[field] = value
            ex.body = json.dumps(body).encode()
            ex.headers["content-type"] = "application/json"
    return before


def reverse_order(items: str):
    def after(ex: Exchange, mock):
        body = ex.json()
        if ex.status == 200 and ex.method == "GET" and isinstance(body, dict) and isinstance(body.get(items), list):
            if ex.query.get("order") == "asc":
                body[items] = list(reversed(body[items]))
                ex.set_json(body)
    return after


def upgrade_user_key(user_key: str, to_key: str):
    """Serve user keys as if they were organizer keys: the wrong key type gets through."""
    def before(ex: Exchange, mock):
        if ex.headers.get("authorization") == f"Bearer {user_key}":
            ex.headers["authorization"] = f"Bearer {to_key}"
    return before


def dangling_next_link(ex: Exchange, mock):
    ex.response_headers = [(k, v) for k, v in ex.response_headers if k.lower() != b"link"]
    if ex.status == 200 and ex.method == "GET" and isinstance(ex.json(), list):
        ex.response_headers.append((b"link", b'<http://127.0.0.1:9/api/nowhere/?page=2>; rel="next"'))


# issue 11 item 4 (the new rules): identity, completeness, lost updates, next pages

def token_names_its_user(ex: Exchange, mock):
    """Eventify authenticating by the token alone: whatever username comes with a known token is
    taken to be the token's owner (the document's "token does not match user" never happens)."""
    body = ex.request_json()
    user = mock.store.find("users", _token=body.get("token")) if isinstance(body, dict) and body.get("token") else None
    if user is not None and body.get("username") != user["username"]:
        body["username"] = user["username"]
        ex.body = json.dumps(body).encode()


def any_token_for_a_known_user(ex: Exchange, mock):
    """Eventify checking only that the username exists: any token is accepted for it."""
    body = ex.request_json()
    if not isinstance(body, dict) or not body.get("token") or mock.store.find("users", _token=body["token"]):
        return
    user = mock.store.find("users", username=body.get("username"))
    if user is not None and user.get("_token"):
        body["token"] = user["_token"]
        ex.body = json.dumps(body).encode()


def any_key_of_the_scheme(header: str, value: str):
    """A server that checks only that a key of the right scheme is there, not which key."""
    scheme = value.split(" ", 1)[0]

    def before(ex: Exchange, mock):
        if ex.headers.get(header.lower(), "").startswith(scheme + " "):
            ex.headers[header.lower()] = value
    return before


def wrong_key_plain_body(good_key: str):
    """A key that is there but wrong is refused by another layer (a gateway) in its own body; a
    missing key still gets the API's error body."""
    def after(ex: Exchange, mock):
        sent = ex.headers.get("authorization")
        if ex.status == 401 and sent and not sent.endswith(" " + good_key):
            ex.set_json({"message": "Unauthorized"})
    return after


def date_filter_drops_multi_day(items: str, meta: str, *params: str):
    """A date filter written for one-day events: an event whose end falls on another day than its
    start is left out whenever a date filter is given (the totals agree with what is shown)."""
    def after(ex: Exchange, mock):
        body = ex.json()
        if ex.status != 200 or not any(p in ex.query for p in params) or not isinstance(body, dict):
            return
        kept = [e for e in body.get(items) or [] if str(e.get("startDate"))[:10] == str(e.get("endDate"))[:10]]
        dropped = len(body[items]) - len(kept)
        if dropped and isinstance(body.get(meta), dict):
            page_meta = body[meta]
            page_meta["total"] = max(0, page_meta["total"] - dropped)
            page_meta["totalPages"] = -(-page_meta["total"] // page_meta["limit"])
            page_meta["hasNext"] = page_meta["page"] < page_meta["totalPages"]
            body[items] = kept
            ex.set_json(body)
    return after


def update_not_stored(collection: str):
    """An update answered with the new values, then lost: the stored record stays as it was."""
    def before(ex: Exchange, mock):
        ex.kept = None
        if ex.method in ("PUT", "PATCH"):
            ex.kept = dict(mock.store.get(collection, ex.path.rstrip("/").rsplit("/", 1)[-1]) or {}) or None

    def after(ex: Exchange, mock):
        kept = getattr(ex, "kept", None)
        if kept and 200 <= ex.status < 300:
            mock.store.update(collection, kept["id"], kept)
    return before, after


def no_next_link(ex: Exchange, mock):
    """A list that never tells there is a next page (a Link header lost in a proxy, say)."""
    ex.response_headers = [(k, v) for k, v in ex.response_headers if k.lower() != b"link"]


def total_of_the_page_only(items: str, meta: str):
    """Page metadata counted from the page in hand: total, pages and hasNext all say "this is all"."""
    def after(ex: Exchange, mock):
        body = ex.json()
        if ex.status == 200 and isinstance(body, dict) and isinstance(body.get(meta), dict) and items in body:
            shown = len(body[items])
            body[meta].update(total=shown, totalPages=1 if shown else 0, hasNext=False)
            ex.set_json(body)
    return after


def keys_editable_by_any_key(user_key: str, to_key: str):
    """Amar's PUT /api/keys/{id} without its ownership check: a user key edits any key."""
    def before(ex: Exchange, mock):
        if ex.method == "PUT" and ex.path.startswith("/api/keys/") and ex.headers.get("authorization") == \
                f"Bearer {user_key}":
            ex.headers["authorization"] = f"Bearer {to_key}"
    return before


def tickets_readable_by_any_key(user_key: str, to_key: str):
    """Amar's GET /api/tickets/{id} without its ownership check: a user key reads any ticket."""
    def before(ex: Exchange, mock):
        ticket = ex.path.startswith("/api/tickets/") and ex.path.rstrip("/").rsplit("/", 1)[-1].isdigit()
        if (ex.method == "GET" and ticket
                and ex.headers.get("authorization") == f"Bearer {user_key}"):
            ex.headers["authorization"] = f"Bearer {to_key}"
    return before


@dataclasses.dataclass
class Breakage:
    name: str
    slug: str
    rule: str                      # the rule the suite must name
    before: Callable | None = None
    after: Callable | None = None
    include: tuple[str, ...] = ()  # operationIds to test (speed)
    phases: tuple[str, ...] = ("examples", "coverage", "fuzzing")

    def wrap(self, app):
        return Broken(app, self.before, self.after)


_keep_before, _keep_after = keep_deleted("events")
_lost_before, _lost_after = update_not_stored("events")

BREAKAGES = [
    Breakage("drops a required field", "namak", "response_schema_conformance",
             after=drop_field("title", "/v1/events/"), include=("getEvent",)),
    # Namak, whose table says "201 Created"; EcoEvents never states its create status (a deviation)
    Breakage("turns 201 into 200", "namak", "status_code_conformance",
             after=created_as_200, include=("createEvent",), phases=("examples",)),
    Breakage("accepts a missing key", "namak", "missing_credential_rejected",
             before=accept_missing_key("authorization", "Bearer YOUR_API_KEY"), include=("listEvents",)),
    Breakage("ignores limit", "ecoevents", "page_metadata_consistent",
             before=ignore_query("limit"), include=("listEvents",)),
    Breakage("ignores a filter", "namak", "filters_honoured",
             before=ignore_query("status"), include=("listEvents",)),
    Breakage("ignores page_size", "tickets", "page_within_limit",
             before=ignore_query("page_size"), include=("listEvents",), phases=("coverage", "fuzzing")),
    Breakage("answers 500 to some inputs", "tickets", "not_a_server_error",
             after=server_error_when("page_size", lambda v: v.isdigit() and int(v) > 50), include=("listEvents",)),
    Breakage("keeps a deleted resource readable", "ecoevents", "use_after_free",
             before=_keep_before, after=_keep_after, phases=("stateful",)),
    Breakage("loses a write", "ecoevents", "created_reads_back",
             after=lose_created("events"), include=("createEvent",), phases=("examples",)),
    Breakage("drops the rate-limit headers", "namak", "rate_limit_headers",
             after=drop_headers("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"),
             include=("listEvents",), phases=("fuzzing",)),
    Breakage("never counts down the requests left", "amarevents", "rate_limit_headers",
             after=fixed_header("X-RateLimit-Remaining", "250"), include=("getAdminStats",), phases=("fuzzing",)),
    Breakage("reports a wrong total", "ecoevents", "page_metadata_consistent",
             after=inflate_total("events", "pagination"), include=("listEvents",), phases=("fuzzing",)),
    Breakage("accepts invalid input", "namak", "negative_data_rejection",
             before=repair_invalid("/v1/events", "title", "Repaired"), include=("createEvent",),
             phases=("coverage",)),
    Breakage("sorts in the wrong order", "ecoevents", "sorted_as_requested",
             after=reverse_order("events"), include=("listEvents",)),
    Breakage("links to a next page that is not there", "tickets", "page_metadata_consistent",
             after=dangling_next_link, include=("listEvents",), phases=("fuzzing",)),
    Breakage("crashes on long text", "eventify", "not_a_server_error",
             after=server_error_on_long_text, include=("listEventsByPincode",), phases=("examples", "fuzzing")),
    Breakage("sends the wrong error body", "amarevents", "error_body_matches_api",
             after=plain_error_body, include=("getEvent",)),
    Breakage("lets a user key act as an organizer", "amarevents", "key_permissions_enforced",
             before=upgrade_user_key("ae_u_demo", "ae_o_demo"), include=("createEvent",), phases=("examples",)),
    # issue 11 item 4, the new rules (keep these together at the end)
    Breakage("accepts a token with another user's name", "eventify", "credential_bound_to_identity",
             before=token_names_its_user, include=("getUserStatus",), phases=("examples",)),
    Breakage("accepts any token", "eventify", "wrong_credential_rejected",
             before=any_token_for_a_known_user, include=("listEventTypes",), phases=("examples",)),
    Breakage("accepts any bearer key", "namak", "wrong_credential_rejected",
             before=any_key_of_the_scheme("authorization", "Bearer YOUR_API_KEY"), include=("listEvents",),
             phases=("fuzzing",)),
    Breakage("refuses a wrong key in a body of its own", "ecoevents", "wrong_credential_rejected",
             after=wrong_key_plain_body("YOUR_API_KEY"), include=("listEvents",), phases=("fuzzing",)),
    Breakage("drops multi-day events from date filters", "ecoevents", "filters_complete",
             after=date_filter_drops_multi_day("events", "pagination", "startDate", "endDate"),
             include=("listEvents",), phases=("coverage",)),
    Breakage("answers an update but keeps the old values", "namak", "updated_reads_back",
             before=_lost_before, after=_lost_after, include=("updateEvent",), phases=("examples",)),
    Breakage("hides the next page of a full page", "tickets", "next_page_announced",
             after=no_next_link, include=("listEvents",), phases=("coverage",)),
    Breakage("lets a user key read another user's ticket", "amarevents", "credential_bound_to_identity",
             before=tickets_readable_by_any_key("ae_u_demo", "ae_a_demo"), include=("createTicket",),
             phases=("examples", "coverage")),
    Breakage("lets a user key edit another account's key", "amarevents", "credential_bound_to_identity",
             before=keys_editable_by_any_key("ae_u_demo", "ae_a_demo"), include=("createKey",), phases=("examples",)),
]


# --- issue 11, rules that judge valid cases (rules2): a uniqueness refusal that is not real, errors
# answered 200, a login error body of the wrong shape, a crash on an empty body, an undocumented
# refusal of a valid request; and lenient servers that no rule of ours may fail ----------------------

def _answer_json(ex: Exchange, status: int, body) -> None:
    ex.status = status
    ex.response_headers = [(k, v) for k, v in ex.response_headers if k.lower() != b"content-type"]
    ex.response_headers.append((b"content-type", b"application/json"))
    ex.set_json(body)


def refuse_every_email(path: str, message: str):
    """Every registration with a (valid) email is refused as if the email were taken, in the
    API's own field-error body: the text the old excuse matched."""
    def after(ex: Exchange, mock):
        body = ex.request_json()
        if ex.method == "POST" and ex.path == path and isinstance(body, dict) and "@" in str(body.get("email")):
            _answer_json(ex, 400, {"errors": {"email": [message]}})
    return after


def conflict_on_every_registration(path: str):
    """Every registration answered with the documented 409, naming the username as taken."""
    def after(ex: Exchange, mock):
        body = ex.request_json()
        if ex.method == "POST" and ex.path == path and isinstance(body, dict) and ex.status == 201:
            _answer_json(ex, 409, {"success": False, "error": f"username '{body.get('username')}' is already taken"})
    return after


def errors_as_200(ex: Exchange, mock):
    if ex.status >= 400:
        ex.status = 200


def login_error_shape(path: str):
    def after(ex: Exchange, mock):
        if ex.path == path and ex.status == 401:
            _answer_json(ex, 401, {"detail": "Invalid credentials."})
    return after


def server_error_on_empty_body(ex: Exchange, mock):
    if ex.method in ("POST", "PUT", "PATCH") and not ex.body.strip():
        ex.status = 500
        ex.response_headers = [(b"content-type", b"text/plain")]
        ex.response_body = b"Internal Server Error: 'NoneType' object has no attribute 'get'"


def undocumented_conflict(path: str):
    """A valid request refused with a 409 the operation does not document."""
    def after(ex: Exchange, mock):
        if ex.path == path and ex.status == 200:
            _answer_json(ex, 409, {"status": "error", "message": "conflict"})
    return after


BREAKAGES += [
    Breakage("refuses every valid email as taken", "eventify", "unique_rejection_is_real",
             after=refuse_every_email("/api/user/register/", "Email is already registered."),
             include=("registerUser",), phases=("examples", "fuzzing")),
    Breakage("answers every registration with a documented 409 as taken", "amarevents", "unique_rejection_is_real",
             after=conflict_on_every_registration("/api/auth/register"), include=("registerUser",),
             phases=("examples",)),
    Breakage("answers errors with HTTP 200", "namak", "response_schema_conformance",
             after=errors_as_200, include=("getEvent",), phases=("examples", "fuzzing")),
    Breakage("gives a login error body of the wrong shape", "eventify", "error_body_matches_api",
             after=login_error_shape("/api/user/login/"), include=("loginUser",), phases=("examples", "fuzzing")),
    Breakage("crashes on an empty body", "ecoevents", "not_a_server_error",
             after=server_error_on_empty_body, include=("createEvent",), phases=("coverage",)),
    Breakage("refuses a valid request with an undocumented 409", "eventify", "positive_data_acceptance",
             after=undocumented_conflict("/api/events/type-list/"), include=("listEventTypes",),
             phases=("examples", "fuzzing")),
]


class Counted:
    """A defect that counts how often it changed something (a test of a lenient server proves
    the leniency was exercised)."""

    def __init__(self, before=None, after=None):
        self.times = 0
        self.before = self._counting(before) if before else None
        self.after = self._counting(after) if after else None

    def _counting(self, defect):
        def run(ex: Exchange, mock):
            if defect(ex, mock):
                self.times += 1
        return run


def _refuse_empty_strings(ex: Exchange, mock) -> bool:
    """An empty string refused with the API's 400 body naming the field (EcoEvents' body)."""
    body = ex.request_json()
    fields = [k for k, v in {**ex.query, **(body if isinstance(body, dict) else {})}.items() if v == ""]
    if not fields or ex.status >= 400:
        return False
    _answer_json(ex, 400, {"error": {"code": "INVALID_REQUEST", "message": f"{fields[0]} must not be empty"}})
    return True


_ECO_LIST = {"page": ("int", 1, None), "limit": ("int", 1, 100),
             "status": ("enum", "draft", "published", "cancelled", "completed"),
             "sortBy": ("enum", "createdAt", "startDate", "name", "capacity"), "order": ("enum", "asc", "desc")}


def _ignore_invalid_list_values(ex: Exchange, mock) -> bool:
    """EcoEvents' list ignores a page, limit, status or sort it cannot use (limit=0, sortBy=a,b)
    instead of refusing it, as many servers do."""
    if ex.method != "GET" or ex.path != "/api/events":
        return False
    dropped = False
    for name, rule in _ECO_LIST.items():
        if name not in ex.query:
            continue
        value = ex.query[name]
        if rule[0] == "int":
            ok = value.isdigit() and int(value) >= rule[1] and (rule[2] is None or int(value) <= rule[2])
        else:
            ok = value in rule[1:]
        if not ok:
            del ex.query[name]
            dropped = True
    return dropped


def _ignore_non_string_pincode(ex: Exchange, mock) -> bool:
    """Eventify's pincode filter ignores a pincode that is not text (`pincode: false`)."""
    body = ex.request_json()
    if ex.path != "/api/events/pincode-events/" or not isinstance(body, dict) or "pincode" not in body:
        return False
    if isinstance(body["pincode"], str):
        return False
    del body["pincode"]
    ex.body = json.dumps(body).encode()
    return True


# (name, slug, defect, operations, phases): servers whose leniency no rule of ours may call a violation
LENIENT = [
    ("refuses an empty required string in its own 400 body", "ecoevents",
     lambda: Counted(after=_refuse_empty_strings), ("listEvents", "createEvent"), ("fuzzing",)),
    ("ignores list values it cannot use (limit=0, a list for sortBy)", "ecoevents",
     lambda: Counted(before=_ignore_invalid_list_values), ("listEvents",), ("coverage",)),
    ("ignores a pincode that is not text", "eventify",
     lambda: Counted(before=_ignore_non_string_pincode), ("listEventsByPincode",), ("coverage", "fuzzing")),
]
