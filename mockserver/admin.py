"""The control surface beside each API (WireMock's admin API is the model), outside its paths:

    GET  /__admin/health     liveness and which API this is
    POST /__admin/reset      state back to the fixtures, rate-limit windows cleared
    GET  /__admin/requests   the journal of recent requests and responses (newest last)
    DELETE /__admin/requests clear the journal
    GET  /__admin/state      every collection of the store, as JSON (a download)
    PUT  /__admin/state      load a state (GET's document), checked as fixtures are (state.py)
    GET|POST|DELETE /__admin/faults   latency and faults (faults.py)
    GET  /__admin/           the console page (console.py)

Who may call it (Host, Origin, the admin token, JSON only) is checked first (adminguard.py); what it
shows has its secrets redacted (redact.py); every admin call is journaled apart, marked `"admin": true`
(`GET /__admin/requests?admin=include` lists it beside the API's requests).

It also journals every request to the API and redirects a slashless path to its slashed
form where the spec writes trailing slashes (as Django's APPEND_SLASH does).
"""

from __future__ import annotations

import collections
import json
import re
import time

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from . import console, faults, journal, state
from .adminguard import Guard
from .fixtures import FixtureError
from .redact import Redactor

ADMIN = "/__admin"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BODY_LIMIT = 4096


class ControlSurface:
    def __init__(self, api, mock):
        self.api = api  # pipeline.Api: every API request, and the docs
        self.mock = mock
        self.journal: collections.deque = collections.deque(maxlen=mock.settings.journal_size)
        # admin calls, apart: the console's polling never pushes an API request out of the journal
        self.admin_journal: collections.deque = collections.deque(maxlen=mock.settings.journal_size)
        self.guard = Guard(mock.settings.admin_token, mock.settings.allowed_hosts)
        self.redactor = Redactor(mock.contract)
        self._slashed = [re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", op.path) + "$")
                         for op in mock.contract.operations.values() if op.path.endswith("/")]

    @property
    def store(self):
        return self.mock.store

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.api(scope, receive, send)
            return
        path = scope["path"]
        if _CONTROL.search(path):
            # a route's `[^/]+` takes control characters, and its `$` matches before a final newline:
            # such a path would be taken for an operation's. Percent-encode it (a 404 or a 400).
            path = _CONTROL.sub(lambda m: f"%{ord(m.group()):02X}", path)
            scope = {**scope, "path": path}
        if path == ADMIN or path.startswith(ADMIN + "/"):
            await self._journaled(scope, receive, send, admin=True)
            return
        if not path.endswith("/") and any(p.match(path + "/") for p in self._slashed):
            query = scope.get("query_string", b"").decode("latin-1")
            target = path + "/" + (f"?{query}" if query else "")
            await RedirectResponse(target, status_code=301)(scope, receive, send)
            return
        await self._journaled(scope, receive, send)

    async def _journaled(self, scope, receive, send, admin=False):
        # the journal entry and the operation the pipeline routes to travel in `extensions`, which
        # copies of the scope share (operation-level x-error-body, headers, the console's fields)
        extensions = scope.setdefault("extensions", {})
        entry = {"time": time.time(), "method": scope["method"], "path": scope["path"],
                 "query": scope.get("query_string", b"").decode("latin-1"),
                 "request_body": b"", "status": None, "response_body": b"",
                 "request_headers": scope["headers"], "response_headers": None}
        # ---- the console's fields (journal.py): operation, why, duration --------------------------
        extensions[journal.KEY] = entry
        started = time.perf_counter()

        async def receive_logged():
            message = await receive()
            if message["type"] == "http.request" and len(entry["request_body"]) < _BODY_LIMIT:
                entry["request_body"] += message.get("body", b"")[:_BODY_LIMIT]
            return message

        async def send_logged(message):
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
                entry["response_headers"] = message.get("headers")
            elif message["type"] == "http.response.body" and len(entry["response_body"]) < _BODY_LIMIT:
                entry["response_body"] += message.get("body", b"")[:_BODY_LIMIT]
            await send(message)

        def record():
            entry["operation"] = journal.operation_of(scope) or entry.get("operation")
            entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
            (self.admin_journal if admin else self.journal).append(entry)

        if admin:
            entry["admin"] = True
            try:
                await self._admin(scope, receive_logged, send_logged)
            finally:
                record()
            return
        # ---- latency and faults (faults.py): one cheap check when none is set --------------------------
        if self.mock.faults.rules or b"prefer" in [name for name, _ in scope["headers"]]:
            operation = self.api.operation_id(scope)
            entry["operation"] = operation
            fault = await self.mock.faults.before(scope, operation, entry)
            if fault is not None:
                record()  # journaled before the client can see its connection go
                await faults.break_connection(fault, send)
                return
        try:
            await self.api(scope, receive_logged, send_logged)
        finally:
            record()

    async def _admin(self, scope, receive, send):
        path, method = scope["path"][len(ADMIN):].rstrip("/"), scope["method"]
        # ---- who may call it (adminguard.py) ----------------------------------------------------------
        refused = self.guard.refusal(scope, path, method)
        if refused is not None:
            await refused(scope, receive, send)
            return
        # ---- latency and faults (faults.py) -------------------------------------------------------
        if path == "/faults":
            await (await faults.admin(self.mock.faults, scope, receive, method))(scope, receive, send)
            return
        # ---- the console page (console.py) ----------------------------------------------------------
        if path == "" and method in ("GET", "HEAD"):
            await console.response()(scope, receive, send)
            return
        if path == "/health" and method == "GET":
            response = JSONResponse({"status": "ok", "api": self.mock.contract.slug})
        elif path == "/reset" and method == "POST":
            self.store.reset()
            if self.mock.rate_window is not None:
                self.mock.rate_window.reset()
            self.journal.clear()
            self.mock.faults.clear()
            response = JSONResponse({"status": "reset", "api": self.mock.contract.slug})
        elif path == "/requests" and method == "GET":
            entries = list(self.journal)
            if Request(scope).query_params.get("admin") == "include":
                entries = sorted([*entries, *self.admin_journal], key=lambda e: e["time"])
            response = JSONResponse({"requests": [self._readable(e) for e in entries]})
        elif path == "/requests" and method == "DELETE":
            self.journal.clear()
            response = JSONResponse({"status": "cleared"})
        elif path == "/state" and method in ("GET", "PUT"):
            response = await self._state(scope, receive, method)
        else:
            response = JSONResponse({"error": f"no admin route {method} {scope['path']}"}, status_code=404)
        await response(scope, receive, send)

    # --- the state: download and load (issue 12 item 8; see state.py) -----------------------------
    async def _state(self, scope, receive, method):
        """GET: the store's state as a JSON download. PUT: load one (checked as fixtures are; a bad one is
        a 400 naming every problem, and nothing changes)."""
        slug = self.mock.contract.slug
        if method == "GET":
            redact = self.redactor.state
            if Request(scope).query_params.get("secrets") == "include":
                if not self.guard.token:
                    return JSONResponse({"error": "?secrets=include needs an admin token: start the mock with "
                                                  "--admin-token TOKEN (and send Authorization: Bearer TOKEN)"},
                                        status_code=403)
                redact = None
            # built, redacted and encoded in a worker thread (the store's lock keeps writes out meanwhile):
            # a large store is seconds of work, which on the event loop would hold up every other request
            body = await anyio.to_thread.run_sync(_encoded_state, self.store, redact)
            return Response(body, media_type="application/json",
                            headers={"Content-Disposition": f'attachment; filename="{slug}-state.json"'})
        raw = await Request(scope, receive).body()
        try:
            data = json.loads(raw)
        except ValueError as exc:
            return JSONResponse({"error": f"PUT /__admin/state: the body is not JSON ({exc})"}, status_code=400)
        try:
            # a redacted download loads back: each secret the store holds now at the same place
            collections_in = state.collections_of(slug, data)
            if isinstance(collections_in, dict):
                collections_in, problems = self.redactor.restore(collections_in, state.document(self.store))
                if problems:
                    raise FixtureError([f"PUT /__admin/state: {problem}" for problem in problems])
            state.load(self.mock, collections_in, "PUT /__admin/state")
        except FixtureError as exc:
            return JSONResponse({"error": f"the state was not loaded: {exc.problems[0]}"
                                          + (f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""),
                                 "problems": exc.problems}, status_code=400)
        counts = {name: len(records or []) for name, records in state.collections_of(slug, data).items()}
        return JSONResponse({"status": "loaded", "api": slug, "collections": counts})
    def _readable(self, entry: dict) -> dict:
        out = _readable(entry)
        # ---- secrets redacted (redact.py) ------------------------------------------------------------
        redactor = self.redactor
        out["query"] = redactor.query(out["query"])
        if entry.get("admin") and entry["path"].rstrip("/").endswith("/state"):
            # a state (with its secrets, after ?secrets=include) is no journal entry's business
            out["request_body"] = out["response_body"] = None
        out["request_body"] = redactor.value(out["request_body"])
        out["response_body"] = redactor.value(out["response_body"])
        out["request_headers"] = redactor.header_list(entry.get("request_headers"))
        out["response_headers"] = redactor.header_list(entry.get("response_headers"))
        # ---- the console's fields (journal.py) ------------------------------------------------------
        out.setdefault("operation", None)
        out.setdefault("why", None)
        if out["operation"] is None and entry["status"] in (404, 405):
            out["near_misses"] = journal.near_misses(self.mock.contract, entry["method"], entry["path"])
        return out


def _encoded_state(store, redact=None) -> bytes:
    """The state document (its secrets redacted by `redact`, when given) as JSONResponse encodes it."""
    document = state.document(store)
    if redact is not None:
        document = redact(document)
    return json.dumps(document, ensure_ascii=False, allow_nan=False, indent=None,
                      separators=(",", ":")).encode("utf-8")


def _readable(entry: dict) -> dict:
    out = dict(entry)
    for key in ("request_body", "response_body"):
        raw = entry[key]
        try:
            out[key] = json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError):
            out[key] = raw.decode("utf-8", "replace")
    return out
