"""`mockserver proxy SLUG --upstream URL`: a validating reverse proxy in front of a real implementation
of one API (issue 16; Prism's `prism proxy` is the model).

It serves the same base URL as the mock (`http://127.0.0.1:PORT/api`) and forwards `/api/x` to
`URL/x` (`URL` has the base path, as `contract-test --base-url` takes it). `/__admin/...` is the
mock's control surface (journal, console) plus `/__admin/violations`, and is never forwarded.

Each request is checked before it is forwarded by the request path's own stages (pipeline.py: the
route, params and body stages, not copies); a request the contract refuses is forwarded anyway,
unless `block_invalid`, when it is answered in the API's own error body. Each answer is checked
after: its status documented, then validation.ResponseCheck's content type, required headers and
schema. What is off is a violation {rule, level, message}: in the `X-Contract-Violations` header
(JSON, as Prism's `sl-violations`), in the journal entry (the console shows it), in the running
summary at `/__admin/violations` and in `report()` (Markdown, `--report FILE`). `--record DIR`
keeps every exchange, its credentials redacted, as `DIR/<slug>.har` (Recorder).

The rules are the harness's names for the same checks (`status_code_conformance`,
`content_type_conformance`, `response_headers_conformance`, `response_schema_conformance`) and
`request_conformance` for a request the spec refuses. The contract suite's single-exchange rules
`error_body_matches_api`, `rate_limit_headers`, `page_within_limit`, `page_metadata_consistent`,
`filters_honoured` and `sorted_as_requested` are judged by the functions the suite's rules
call (apispec.exchange: one meaning, in the kernel both may import). An upstream that cannot be reached or does
not answer in time is a 502 in the API's own error body.
"""

from __future__ import annotations

import collections
import datetime
import json
import pathlib
import threading
import time
import urllib.parse

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from apispec import exchange

from . import journal
from .admin import ADMIN, ControlSurface
from .app import Mock, Settings
from .errors import ApiError, error_response
from .pipeline import Body, Params, is_json
from .redact import Redactor
from .routing import FOUND, NOT_ALLOWED, REDIRECT, Router
from .validation import ResponseCheck

HEADER = "X-Contract-Violations"
VIOLATION = "violation"  # against the document (the harness's level for a schema-level failure)
# hop-by-hop headers (RFC 9110 7.6.1) and what the proxy sets itself
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "proxy-connection", "host", "content-length"}
RESPONSE_KINDS = {"content_type": "content_type_conformance", "headers": "response_headers_conformance",
                  "schema": "response_schema_conformance"}


class OperationCheck:
    """One operation's request checks (the pipeline's params and body stages) and answer checks."""

    def __init__(self, contract, operation):
        spec = operation.spec
        self.contract = contract
        self.operation = operation
        self.operation_id = operation.operation_id
        request_body = spec.get("requestBody") or {}
        content = request_body.get("content") or {}
        self.params = Params(operation.parameters, next(iter(content.values()), {}))
        self.body = Body(request_body) if request_body else None
        self.responses = {str(status) for status in spec.get("responses", {})}
        produces = [mime for response in spec.get("responses", {}).values() for mime in (response.get("content") or {})]
        self.answer = ResponseCheck(spec, produces)

    async def request(self, request: Request, path_params: dict, raw: bytes) -> list[dict]:
        try:
            self.params(request, path_params)
            if self.body is not None:
                sent = False

                async def receive():
                    nonlocal sent
                    if sent:
                        return {"type": "http.disconnect"}
                    sent = True
                    return {"type": "http.request", "body": raw, "more_body": False}

                await self.body(request.scope, receive)
        except ApiError as exc:
            return [violation("request_conformance", exc.message)]
        return []

    def response(self, status: int, headers: dict, body: bytes, inputs: dict | None = None) -> list[dict]:
        """The answer's violations; `inputs` (the request's query and body fields) when the request
        was valid, for the rules that judge an answer against what was asked (paging)."""
        found = []
        documented = self.responses & {str(status), f"{str(status)[0]}XX", "default"}
        if not documented:
            found.append(violation("status_code_conformance",
                                   f"{status} is not a documented status of {self.operation_id} "
                                   f"({', '.join(sorted(self.responses))})"))
        else:
            found += [violation(RESPONSE_KINDS[kind], message)
                      for kind, message in self.answer.problems(status, headers, body)]
        # the contract suite's single-exchange rules, judged by the same functions (apispec.exchange)
        answer = exchange.Exchange.of(self.operation, status, headers, body.decode("utf-8", "replace"), inputs)
        if status >= 400:
            try:
                errors = exchange.error_body_errors(self.contract, answer)
            except LookupError:
                errors = []
            if errors:
                found.append(violation("error_body_matches_api", f"{status} body is not the API's error body: "
                                                                 + "; ".join(errors[:3])))
        found += [violation("rate_limit_headers", message)
                  for message in exchange.rate_limit_header_errors(self.contract, answer)]
        if inputs is not None:  # as the suite judges pages: only the answers to valid requests
            found += [violation("page_within_limit", message) for message in exchange.page_within_limit_errors(answer)]
            found += [violation("page_metadata_consistent", message)
                      for message in exchange.page_metadata_errors(answer)]
            found += [violation("filters_honoured", message) for message in exchange.filter_errors(answer) or []]
            found += [violation("sorted_as_requested", message) for message in exchange.sort_errors(answer) or []]
        return found


def inputs_of(request: Request, raw: bytes) -> dict:
    """The request's query parameters (the last of a repeated one) and JSON body fields, by name."""
    values = dict(request.query_params.items())
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        values.update(body)
    return values


def violation(rule: str, message: str, level: str = VIOLATION) -> dict:
    return {"rule": rule, "level": level, "message": message}


class Violations:
    """Every violation seen, by operation and rule (the running summary and the report)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.examples: dict[tuple[str, str], dict] = {}
        self.exchanges = 0
        self.total = 0

    def add(self, operation: str | None, method: str, path: str, found: list[dict]) -> None:
        with self.lock:
            self.exchanges += 1
            for item in found:
                key = operation or f"{method} {path}"
                self.counts[key][item["rule"]] += 1
                self.examples.setdefault((key, item["rule"]), {**item, "method": method, "path": path})
                self.total += 1

    def summary(self) -> dict:
        with self.lock:
            return {"exchanges": self.exchanges, "violations": self.total,
                    "by_operation": {op: dict(rules) for op, rules in sorted(self.counts.items())}}

    def report(self, slug: str, upstream: str) -> str:
        """Markdown: each operation and rule with its count and first example."""
        summary = self.summary()
        lines = [f"# Contract violations: {slug} at {upstream}", "",
                 f"{summary['exchanges']} exchanges, {summary['violations']} violations.", ""]
        if summary["violations"]:
            lines += ["| operation | rule | level | count | first seen |", "|---|---|---|---|---|"]
            for op, rules in summary["by_operation"].items():
                for rule, count in sorted(rules.items()):
                    example = self.examples[(op, rule)]
                    message = example["message"].replace("|", "\\|").replace("\n", " ")
                    lines.append(f"| {op} | {rule} | {example['level']} | {count} | "
                                 f"`{example['method']} {example['path']}`: {message} |")
        else:
            lines.append("No violations.")
        return "\n".join(lines) + "\n"


class Recorder:
    """`--record DIR`: every exchange kept as a HAR 1.2 entry, its credentials redacted (redact.py:
    Authorization and apiKey headers, cookies, secret query parameters and body fields); `write()`
    saves `DIR/<slug>.har`."""

    def __init__(self, mock: Mock, directory):
        self.redactor = Redactor(mock.contract)
        self.slug = mock.contract.slug
        self.directory = pathlib.Path(directory)
        self.entries: list[dict] = []
        self.lock = threading.Lock()

    def add(self, request: Request, raw: bytes, response: Response, started: float, found: list[dict]) -> None:
        redact = self.redactor
        query = redact.query(request.url.query)
        url = str(request.url.replace(query=query or None)) if query else str(request.url)
        content_type = response.headers.get("content-type", "")
        entry = {
            "startedDateTime": datetime.datetime.fromtimestamp(started, datetime.UTC).isoformat(),
            "time": round((time.time() - started) * 1000, 1),
            "request": {"method": request.method, "url": url, "httpVersion": "HTTP/1.1",
                        "headers": _har_headers(redact.header_list(request.headers.raw)),
                        "queryString": [{"name": k, "value": v} for k, v in urllib.parse.parse_qsl(query or "")],
                        "cookies": [], "headersSize": -1, "bodySize": len(raw)},
            "response": {"status": response.status_code, "statusText": "", "httpVersion": "HTTP/1.1",
                         "headers": _har_headers(redact.header_list(response.headers.raw)), "cookies": [],
                         "content": {"size": len(response.body), "mimeType": content_type,
                                     "text": redact.text(response.body.decode("utf-8", "replace"))},
                         "redirectURL": response.headers.get("location", ""), "headersSize": -1,
                         "bodySize": len(response.body)},
            "cache": {}, "timings": {"send": 0, "wait": round((time.time() - started) * 1000, 1), "receive": 0},
            "_violations": found,
        }
        if raw:
            entry["request"]["postData"] = {"mimeType": request.headers.get("content-type", ""),
                                            "text": redact.text(raw.decode("utf-8", "replace"))}
        with self.lock:
            self.entries.append(entry)

    def write(self) -> pathlib.Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{self.slug}.har"
        with self.lock:
            har = {"log": {"version": "1.2", "creator": {"name": "mockserver proxy", "version": "1"},
                           "_api": self.slug, "entries": list(self.entries)}}
        path.write_text(json.dumps(har, indent=1, ensure_ascii=False), encoding="utf-8")
        return path


def _har_headers(pairs: list[list[str]]) -> list[dict]:
    return [{"name": name, "value": value} for name, value in pairs]


class Forwarder:
    """The API side of the proxy: check, forward, check, answer (the `api` of the control surface)."""

    def __init__(self, mock: Mock, upstream: str, *, block_invalid: bool = False, timeout: float = 30.0,
                 violations: Violations | None = None, recorder: Recorder | None = None):
        self.mock = mock
        self.contract = mock.contract
        self.base_path = mock.contract.base_path
        self.upstream = upstream.rstrip("/")
        self.block_invalid = block_invalid
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self.violations = violations or Violations()
        self.recorder = recorder
        self.router = Router()
        for operation in mock.contract.operations.values():
            self.router.add(operation.path, operation.method, OperationCheck(mock.contract, operation))
        self.client: httpx.AsyncClient | None = None

    def operation_id(self, scope) -> str | None:
        match = self.router.match(scope)
        return match.target.operation_id if match.kind == FOUND else None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        started = time.time()
        raw = await request.body()
        found: list[dict] = []
        check = None
        match = self.router.match(scope)
        if match.kind == FOUND:
            check = match.target
            scope.setdefault("extensions", {})[journal.OPERATION] = check.operation_id
            found += await check.request(request, match.path_params, raw)
        elif match.kind != REDIRECT:
            why = "is not an operation of the spec" if match.kind != NOT_ALLOWED else "takes another method"
            found.append(violation("request_conformance", f"{scope['method']} {scope['path']} {why}"))
        if found and self.block_invalid:
            response = error_response(self.contract, request, ApiError(400 if match.kind == FOUND else
                                                                       (405 if match.kind == NOT_ALLOWED else 404),
                                                                       found[0]["message"]))
        else:
            response = await self._forward(request, raw)
            if check is not None and not getattr(response, "proxy_failed", False):
                found += check.response(response.status_code, dict(response.headers.items()), response.body,
                                        None if found else inputs_of(request, raw))
        self.violations.add(check.operation_id if check else None, scope["method"], scope["path"], found)
        if found:
            response.headers[HEADER] = json.dumps(found)
            journal.note(scope, violations=found, why="; ".join(f"{v['rule']}: {v['message']}" for v in found))
        if self.recorder is not None:
            self.recorder.add(request, raw, response, started, found)
        await response(scope, receive, send)

    async def _lifespan(self, receive, send):
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.client is not None:
                    await self.client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _forward(self, request: Request, raw: bytes) -> Response:
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        path = request.url.path
        tail = path[len(self.base_path):] if path.startswith(self.base_path) else path
        url = self.upstream + tail + (f"?{request.url.query}" if request.url.query else "")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        try:
            answer = await self.client.request(request.method, url, headers=headers, content=raw)
        except httpx.HTTPError as exc:
            response = error_response(self.contract, request,
                                      ApiError(502, f"Upstream {self.upstream} failed: {type(exc).__name__}: {exc}"))
            response.proxy_failed = True
            return response
        mine = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}{self.base_path}"
        response = Response(content=answer.content, status_code=answer.status_code)
        del response.headers["content-length"]
        for name, value in answer.headers.multi_items():
            lower = name.lower()
            if lower in HOP_BY_HOP or lower == "content-encoding":
                continue  # httpx has decoded the body
            if lower in ("location", "link", "content-location"):
                value = value.replace(self.upstream, mine)
            response.headers.append(name, value)
        response.headers["content-length"] = str(len(answer.content))
        return response


class ProxySurface(ControlSurface):
    """The mock's control surface (journal, console, faults) with `/__admin/violations`; it forwards
    every path as it comes (no slash redirects: the upstream decides)."""

    def __init__(self, forwarder: Forwarder, mock: Mock):
        super().__init__(forwarder, mock)
        self._slashed = []
        self.forwarder = forwarder

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].rstrip("/") == ADMIN + "/violations" and scope["method"] == "GET":
            refused = self.guard.refusal(scope, "/violations", "GET")
            response = refused or JSONResponse(self.forwarder.violations.summary())
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_proxy(slug: str, upstream: str, *, block_invalid: bool = False, timeout: float = 30.0,
                 settings: Settings | None = None, record=None) -> ProxySurface:
    """The ASGI app of the proxy: `app.violations` the running summary, `app.report()` its Markdown,
    `app.recorder` (with `record`, a directory) what `write()`s the HAR."""
    mock = Mock(slug, {}, settings or Settings())
    recorder = Recorder(mock, record) if record is not None else None
    forwarder = Forwarder(mock, upstream, block_invalid=block_invalid, timeout=timeout, recorder=recorder)
    app = ProxySurface(forwarder, mock)
    app.violations = forwarder.violations
    app.recorder = recorder
    app.report = lambda: forwarder.violations.report(slug, upstream)
    return app


__all__ = ["HEADER", "Forwarder", "ProxySurface", "Recorder", "Violations", "create_proxy", "is_json"]
