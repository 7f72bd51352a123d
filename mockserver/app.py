"""`create_app(slug, fixtures=..., settings=...)`: the ASGI app serving one spec statefully.

The request pipeline (pipeline.py) routes, limits, authenticates, rate limits, validates and
answers every API request from the spec, in stages built once per operation; the behaviour it
calls is `Mock.answerer`, here: the generic resource actions or the API's own behaviour in
`mockserver/apis/<slug>.py`. Errors are rendered in the API's own body (errors.py). Around it: the
control surface (admin.py), CORS (cors.py) and the request log (requestlog.py); beside it, the
docs (docs.py).
"""

from __future__ import annotations

import dataclasses
import json
import pathlib

from apispec import ext
from apispec.model import Contract, Operation, contract

from . import apis, journal
from . import fixtures as fixtures_module
from .admin import ControlSurface
from .apis import Api
from .cors import Cors
from .docs import docs_app
from .errors import ApiError
from .faults import Faults
from .limits import InputGate
from .pipeline import Pipeline
from .prefer import NONE, Preferences, preferences
from .prefer import answer as preferred_answer
from .ratelimit import KeyPolicy, SlidingWindow
from .requestlog import RequestLog
from .resources import Resources
from .sources import Clock, Ids
from .store import StoreApi, open_store


@dataclasses.dataclass
class Settings:
    validate_responses: bool = False
    rate_limit_window: float | None = None      # seconds; None: as the spec says
    rate_limits: dict | None = None              # {"limit": N} (every key) or {"limits_by_key_type": {...}}
    journal_size: int = 500
    cors: bool = True                           # answer browsers on any origin (cors.py)
    cors_origins: tuple[str, ...] = ()          # only these origins (with cors on); empty: any
    request_log: bool = False                   # one line per request on stdout (requestlog.py)
    admin_token: str | None = None              # every /__admin call needs it (adminguard.py)
    allowed_hosts: tuple[str, ...] = ()         # Host names /__admin admits beside loopback ones
    # ---- limits on every input (limits.py) ----------------------------------------------------------
    max_body_bytes: int = 1 << 20               # a larger body: 413
    max_query_params: int = 100                 # more query parameters: 400
    max_header_bytes: int = 64 * 1024           # request line and headers; more: 431
    header_timeout: float = 10.0                # seconds for the request line and headers; then 408
    body_timeout: float = 30.0                  # the longest pause in a body; then 408
    limit_concurrency: int | None = 1000        # connections and requests at once; beyond: 503
    keep_alive_timeout: int = 5                 # an idle kept-alive connection is closed after it
    # ---- the store's sources and checks (store.py, sources.py) ----------------------------------------
    clock: Clock | None = None                  # timestamps and "today"; None: the wall clock
    ids: Ids | None = None                      # tokens and random/uuid ids; None: `secrets`
    verify_indexes: bool = False                # every indexed lookup checked against a scan (tests)
    store: str | None = None                    # None: in memory; `redis://HOST:PORT/DB`: shared (store.py)
    store_prefix: str = "mockserver"            # the shared store's keys: `<prefix>:<slug>:...`
    reset_store: bool = False                   # a shared store back to the fixtures at start (else kept)


@dataclasses.dataclass(slots=True)
class Call:
    """What a handler gets (apis/__init__.py): the operation, its validated inputs, who is calling,
    the state (the store, with its clock and id source, and the generic resource actions over it),
    the contract and the rate window (None when the API has no rate limit)."""

    operation: Operation
    params: dict
    body: object
    principal: dict | None
    request: object
    store: StoreApi
    resources: Resources
    contract: Contract
    rate_window: SlidingWindow | None = None


class Mock:
    """The state and behaviour behind one API: its contract, store and API module."""

    def __init__(self, slug: str, fixtures: dict, settings: Settings):
        self.contract: Contract = contract(slug)
        self.settings = settings
        self.api: Api = apis.load(slug)
        self.store = open_store(settings.store, fixtures.get("collections", {}),
                                ext.resource.id_styles(self.contract), prefix=f"{settings.store_prefix}:{slug}",
                                clock=settings.clock, ids=settings.ids, verify_indexes=settings.verify_indexes,
                                reset=settings.reset_store)
        self.resources = Resources(self.store, self.contract)
        self.rate_window: SlidingWindow | None = None
        self.links = ProductionLinks(self.contract, fixtures)
        self.faults = Faults(self.contract)  # latency and faults set from /__admin/faults (faults.py)

    def authenticate(self, scheme: dict, credential: str):
        return self.api.authenticate(self.store, scheme, credential)

    def answerer(self, operation_id: str):
        """The operation's behaviour: `answer(params, body, principal, request, rate_headers)` ->
        (body, status, headers): the request pipeline's handle stage."""
        operation = self.contract.operations[operation_id]
        custom = self.api.handlers.get(operation_id)
        if custom is None and not operation.resource:
            raise LookupError(f"{self.contract.slug}: no behaviour for {operation_id}")
        success = operation.success_status()
        body_auth = self.api.authenticate_body if ext.credentials.body_auth(operation) else None
        if ext.credentials.body_auth(operation) and body_auth is None:
            raise LookupError(f"{self.contract.slug}: {operation_id} takes body credentials, and the API has no "
                              f"authenticate_body")

        def answer(params: dict, body, principal, request, rate_headers):
            call = Call(operation, params, body, principal, request, self.store, self.resources, self.contract,
                        self.rate_window)
            if body_auth is not None:
                call.principal = body_auth(self.store, call.body or {})
            prefs = preferences(request)
            reason = None
            if prefs is NONE and self.faults.rules:  # an error status a /__admin/faults rule injects
                injected = self.faults.injected_status(operation)
                if injected is not None:
                    status, rule = injected
                    prefs = Preferences(code=status)
                    reason = f"Injected {status} (a /__admin/faults rule for {rule.operation})"
            if not prefs.runs_operation(success):
                journal.note(request.scope, why=reason or f"Prefer: {request.headers.get('prefer')}")
                return with_headers(preferred_answer(operation, prefs, self.rate_window, reason), rate_headers)
            result = custom(call) if custom is not None else generic(call)
            return with_headers(result, rate_headers)

        return self.links.rewriting(answer)


class ProductionLinks:
    """Hyperlinks to the documented production API (`servers[0]` and the base path: Tickets' `url`
    fields, `https://tickets.namespace.ee/api/events/<id>/`) answered as links to the mock itself, on
    the origin the request came to (as the `Link` header is), so an app that follows them stays on
    the mock. Links elsewhere on that host (Amar's uploads, Eventify's media) are assets the mock does
    not serve, and stay. Only an API whose seed data or documented answers hold such links pays for it."""

    def __init__(self, spec: Contract, fixtures: dict):
        servers = spec.raw.get("servers") or [{}]
        host = servers[0].get("url", "").rstrip("/")
        self.prefix = host + spec.base_path + "/" if host.startswith("https://") else None
        self.base_path = spec.base_path
        seen = json.dumps([fixtures.get("collections"), spec.raw.get("paths")], default=str)
        self.wanted = self.prefix is not None and self.prefix in seen

    def rewriting(self, answer):
        if not self.wanted:
            return answer
        prefix = self.prefix

        def rewritten(params, body, principal, request, rate_headers):
            out, status, headers = answer(params, body, principal, request, rate_headers)
            host = request.headers.get("host")
            if host and out is not None:
                out = _replace_prefix(out, prefix, f"http://{host}{self.base_path}/")
            return out, status, headers

        return rewritten


def _replace_prefix(node, old: str, new: str):
    if isinstance(node, str):
        return new + node[len(old):] if node.startswith(old) else node
    if isinstance(node, dict):
        return {key: _replace_prefix(value, old, new) for key, value in node.items()}
    if isinstance(node, list):
        return [_replace_prefix(value, old, new) for value in node]
    return node


def with_headers(result, extra: dict | None):
    """A handler's answer as (body, status, headers), with `extra` headers added."""
    if not isinstance(result, tuple):
        result = (result, 200)
    body, status, *rest = result
    headers = {**(extra or {}), **(rest[0] if rest else {})}
    if status == 204:
        body = None
    return body, status, headers


def generic(call: Call):
    action = call.operation.resource["action"]
    res = call.resources
    if action == "list":
        # filters may be query parameters or request-body fields (Eventify's POST lists)
        inputs = {**(call.body if isinstance(call.body, dict) else {}), **call.params}
        return res.list(call.operation, inputs, call.request, principal=call.principal)
    if action == "create":
        return res.create(call.operation, call.body, principal=call.principal)
    if action == "read":
        return res.read(call.operation, call.params, principal=call.principal)
    if action == "update":
        return res.update(call.operation, call.params, call.body, principal=call.principal)
    if action == "delete":
        return res.delete(call.operation, call.params, principal=call.principal)
    raise LookupError(f"unknown x-resource action {action}")


def load_fixtures(slug: str, path: str | pathlib.Path | None = None) -> dict:
    """The seed data in `path` (else `fixtures/<slug>.yaml`), checked against the spec: a FixtureError
    names every problem (fixtures.py)."""
    return fixtures_module.read(slug, path)


def create_app(slug: str, *, fixtures: dict | str | pathlib.Path | None = None,
               settings: Settings | None = None):
    """The ASGI app serving one API: the request pipeline behind the control surface."""
    settings = settings or Settings()
    if not isinstance(fixtures, dict):
        fixtures = load_fixtures(slug, fixtures)
    mock = Mock(slug, fixtures, settings)
    spec = mock.contract
    rate = ext.rate_limit.of(spec)
    window = None
    if rate:
        override = settings.rate_limits or {}
        rate = {**rate, **override}
        if "limit" in override and "limits_by_key_type" not in override and rate.get("limits_by_key_type"):
            # one limit given: it applies to every key type
            rate["limits_by_key_type"] = {kind: override["limit"] for kind in rate["limits_by_key_type"]}
        window = SlidingWindow(settings.rate_limit_window or rate.get("window_seconds", 60))
    mock.rate_window = window
    pipeline = Pipeline(mock, InputGate(settings), KeyPolicy(spec, window, rate), docs_app(spec))
    served = ControlSurface(pipeline, mock)
    if settings.cors:
        served = Cors(served, spec, list(settings.cors_origins))
    if settings.request_log:
        served = RequestLog(served, slug)
    return served


__all__ = ["ApiError", "Call", "Mock", "Settings", "create_app", "load_fixtures"]
