"""One line per request in the terminal `mockserver serve` runs in (`--quiet` silences it):

    06:45:01.123  namak       GET /v1/events?status=draft  listEvents  200  1.4 ms

time, the API, method, path and query, the operation that answered (`admin` for the control
surface, `preflight` for a CORS preflight, `-` where none matched), status and milliseconds.
"""

from __future__ import annotations

import sys
import time

from . import journal

_WIDTH = 10  # the longest slug


class RequestLog:
    """ASGI middleware, outside everything else (so preflights and the control surface are logged
    too). Attributes of the app it wraps (`mock`, `journal`) read through."""

    def __init__(self, app, slug: str, stream=None):
        self.app = app
        self.slug = slug.ljust(_WIDTH)
        self.stream = stream

    def __getattr__(self, name):
        # only called for what this object lacks: the wrapped app's attributes
        if name == "app":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        extensions = scope.setdefault("extensions", {})  # shared by the copies of the scope further in
        status = []

        async def send_logged(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            self._write(scope, extensions, status[0] if status else "-", time.perf_counter() - started)

    def _write(self, scope, extensions, status, seconds: float) -> None:
        path = scope["path"]
        query = scope.get("query_string", b"")
        target = path + ("?" + query.decode("latin-1") if query else "")
        operation = extensions.get(journal.OPERATION)
        if operation is None:
            if path == "/__admin" or path.startswith("/__admin/"):
                operation = "admin"
            elif scope["method"] == "OPTIONS" and any(name == b"access-control-request-method"
                                                      for name, _ in scope["headers"]):
                operation = "preflight"
            else:
                operation = "-"
        now = time.time()
        stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
        stream = self.stream or sys.stdout
        stream.write(f"{stamp}  {self.slug}  {scope['method']} {target}  {operation}  {status}  "
                     f"{seconds * 1000:.1f} ms\n")
        stream.flush()
