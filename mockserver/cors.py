"""CORS, on by default: a web app on another origin (a dev server on `localhost:3000`) can call
the mock from a browser, as it can call Prism, Microcks or Mockoon.

Starlette's CORSMiddleware does the work, outside everything else (the control surface, the
request pipeline and its error answers, the docs), with these choices:

    origins     any, echoed back (never `*`), with credentials allowed, so a cookie session
                (Amar's login) works from the browser; `--cors-origin ORIGIN...` narrows it
    /__admin    no CORS at all: only the mock's own console calls it (adminguard.py refuses others)
    preflight   any API path, answered here: 204 with the requested method and headers allowed,
                before authentication and rate limits (it needs no credential, counts for nothing);
                from an origin not allowed: 403 in the API's own error body, no CORS headers
    exposed     the headers an app reads: every response header the spec documents
                (X-RateLimit-*, Retry-After, Link, WWW-Authenticate) and Location

A request without an `Origin` header (curl, the contract suite, a load test) passes straight
through: it costs the request one scan of its headers.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from .errors import ApiError, render

# what an app reads, whether or not its spec documents it
ALWAYS_EXPOSED = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After", "Link",
                  "WWW-Authenticate", "Location")
# a browser never lets a page read these, exposed or not
_FORBIDDEN = {"set-cookie", "set-cookie2"}


def documented_headers(raw_spec: dict) -> list[str]:
    """Every response header the spec documents, in the order first met."""
    found: dict[str, None] = {}

    def walk(node):
        if isinstance(node, dict):
            headers = node.get("headers")
            if isinstance(headers, dict) and ("description" in node or "content" in node):
                found.update(dict.fromkeys(headers))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(raw_spec.get("paths"))
    walk((raw_spec.get("components") or {}).get("responses"))
    return list(found)


def exposed_headers(contract) -> list[str]:
    names: dict[str, str] = {}
    for name in (*ALWAYS_EXPOSED, *documented_headers(contract.raw)):
        if name.lower() not in _FORBIDDEN:
            names.setdefault(name.lower(), name)
    return list(names.values())


class Cors(CORSMiddleware):
    """Starlette's CORS middleware, answering preflights 204 (the requested method echoed) and
    refusing one in the API's own error body. Attributes of the app it wraps (`mock`,
    `journal`) read through."""

    def __init__(self, app, contract, origins: list[str] | None = None):
        super().__init__(
            app,
            allow_origins=list(origins or ()),
            allow_origin_regex=None if origins else ".*",  # any origin, echoed: `*` bars credentials
            allow_methods=["*"],
            allow_headers=["*"],
            allow_credentials=True,
            allow_private_network=True,
            expose_headers=exposed_headers(contract),
        )
        self.contract = contract

    def __getattr__(self, name):
        # only called for what this object lacks: the wrapped app's attributes
        if name == "app":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, _ in scope["headers"]:
            if name == b"origin":
                break
        else:
            await self.app(scope, receive, send)  # not a CORS request: nothing to add
            return
        path = scope["path"]
        if path == "/__admin" or path.startswith("/__admin/"):
            # the control surface admits only its own console: no CORS for it, and a request (or a
            # preflight) from another origin is refused there (adminguard.py)
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self.preflight(headers, scope["path"])(scope, receive, send)
            return
        await self.simple_response(scope, receive, send, request_headers=headers)

    def preflight(self, request_headers: Headers, path: str) -> Response:
        answer = self.preflight_response(request_headers)
        if answer.status_code == 200:
            headers = {k: v for k, v in answer.headers.items() if k.lower() not in ("content-length", "content-type")}
            headers["access-control-allow-methods"] = request_headers["access-control-request-method"]
            return Response(status_code=204, headers=headers)
        message = (f"CORS: origin {request_headers['origin']} is not allowed by this mock "
                   f"(mockserver serve --cors-origin names the allowed ones)")
        return render(self.contract, ApiError(403, message))
