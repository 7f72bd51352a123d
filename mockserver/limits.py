"""Limits on every input (issue 13), each answered in the API's own error body.

Two places hold them:

- `InputGate`, the request pipeline's limits stage (pipeline.py), after routing and before
  security (so the refusal is the operation's error body, journaled with its why): too many query
  parameters (400), two `Authorization` headers (400), HTTP/1.1 without `Host` (400), a stated
  `Content-Length` over `max_body_bytes` (413, before any of the body is read). It costs a request
  a count of the query string's `&`s and one scan of its headers.
- `protocol(app)`, uvicorn's httptools protocol with what uvicorn does not offer for it: a body
  counted as it arrives and cut off past `max_body_bytes` (413: a chunked body, or the rest of
  one refused unread), a cap on the request line and headers (431), a
  deadline for them (408; an idle new connection is closed), a longest pause within a body (408),
  and uvicorn's own `limit_concurrency` answered in the API's body (503) instead of its plain
  text. A refused connection is read and dropped for `LINGER` seconds before it closes, so the
  client reads the answer. `uvicorn_options(app)` is what `mockserver serve`,
  `mockserver.testing.running` and the benchmark give `uvicorn.Config`.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .errors import ApiError, render

MiB = 1 << 20
LINGER = 2.0  # seconds a refused connection is read (and dropped) before it closes


def query_count(query_string: bytes, limit: int) -> int:
    """The number of query parameters when it may be over `limit`, else 0 (a count of `&` first:
    the exact count only for a query string that could be over)."""
    if query_string.count(b"&") < limit:
        return 0
    return len(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


class InputGate:
    """Refuses, before anything walks or reads them, the inputs over a limit (see the module)."""

    def __init__(self, settings):
        self.max_body = settings.max_body_bytes
        self.max_query = settings.max_query_params

    def check(self, scope) -> None:
        """An ApiError for a request over a limit; nothing for one within them."""
        count = query_count(scope.get("query_string", b""), self.max_query)
        if count > self.max_query:
            raise ApiError(400, f"Too many query parameters: {count} (at most {self.max_query})")
        authorizations = 0
        host = False
        length = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorizations += 1
            elif name == b"host":
                host = True
            elif name == b"content-length":
                length = value
        if authorizations > 1:
            raise ApiError(400, f"Authorization header sent {authorizations} times: send one")
        if not host and scope.get("http_version") == "1.1":
            raise ApiError(400, "An HTTP/1.1 request must carry a Host header")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            # refused unread; the protocol drops what the client still sends, then cuts it off
            raise ApiError(413, f"Request body of {int(length)} bytes is over the limit of {self.max_body} bytes")


# ---- the connection: request line and headers, timeouts, concurrency ----------------------------------

def _raw_response(status: int, reason: str, body: bytes) -> bytes:
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n").encode("latin-1") + body


class _LimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the head capped and timed, and a body's pauses timed.

    The head (request line and headers) is counted by the reads it arrives in: a head that began
    in an earlier read and is still unfinished adds the whole read, so a head is cut at most one
    read (<= 256 KiB) past `max_header_bytes`, before httptools has gathered it."""

    settings = None   # set by protocol()
    render = None     # (status, message) -> response bytes, in the API's body
    busy_app = None   # the ASGI app answering 503 when over limit_concurrency

    def connection_made(self, transport):
        super().connection_made(transport)
        self._own_limit = self.limit_concurrency
        self.limit_concurrency = None  # uvicorn's check answers text/plain: on_headers_complete checks it
        self._real_app = self.app
        self._in_head = False  # from a request's first byte to the end of its headers
        self._head_bytes = 0
        self._began = False
        self._received = False
        self._body_moved = False
        self._body_timer = None
        self._body_bytes = 0
        self._lingering = None
        self._head_timer = self.loop.call_later(self.settings.header_timeout, self._head_timed_out)

    def data_received(self, data):
        if self._lingering:
            return  # refused: what still comes is dropped until the connection closes
        self._received = True
        was_in_head, self._began = self._in_head, False
        super().data_received(data)
        if self._lingering or self.transport.is_closing():
            return
        if self._in_head:  # a head still unfinished after this read
            if was_in_head and not self._began:
                self._head_bytes += len(data)
                if self._head_bytes > self.settings.max_header_bytes:
                    self._refuse(431, "Request Header Fields Too Large",
                                 f"Request line and headers over the limit of {self.settings.max_header_bytes} "
                                 f"bytes")
                    return
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(self.settings.header_timeout, self._head_timed_out)
        elif self._body_timer is None and self.cycle is not None and self.cycle.more_body:
            self._body_moved = False
            self._body_timer = self.loop.call_later(self.settings.body_timeout, self._body_check)

    def on_message_begin(self):
        super().on_message_begin()
        self._began = True
        self._in_head = True
        self._head_bytes = 0
        self._body_bytes = 0

    def on_headers_complete(self):
        self._in_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        limit = self._own_limit
        if limit is not None and (len(self.connections) > limit or len(self.tasks) >= limit):
            self.app = self.busy_app
        else:
            self.app = self._real_app
        super().on_headers_complete()

    def on_body(self, body):
        if self._lingering:
            return
        self._body_moved = True
        self._body_bytes += len(body)
        if self._body_bytes > self.settings.max_body_bytes:
            # a chunked body (a stated length over the limit is refused by InputGate, unread), or the
            # rest of one the app already answered: cut off
            self._refuse(413, "Content Too Large",
                         f"Request body is over the limit of {self.settings.max_body_bytes} bytes (cut off)")
            return
        super().on_body(body)

    def on_message_complete(self):
        super().on_message_complete()
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def connection_lost(self, exc):
        for timer in (self._head_timer, self._body_timer, self._lingering):
            if timer is not None:
                timer.cancel()
        super().connection_lost(exc)

    def send_400_response(self, msg: str):
        """A request the HTTP parser cannot read (uvicorn answers it in plain text): the API's body."""
        self._refuse(400, "Bad Request", f"{msg.rstrip('.')}: not an HTTP/1.1 request this server can read")

    def _head_timed_out(self):
        self._head_timer = None
        if self._lingering or self.transport.is_closing():
            return
        if not self._received:  # a connection that never sent a byte: closed, nothing to answer
            self.transport.close()
            return
        self._refuse(408, "Request Timeout",
                     f"Request line and headers not received within {self.settings.header_timeout:g} s")

    def _body_check(self):
        self._body_timer = None
        if self._lingering or self.transport.is_closing() or self.cycle is None or not self.cycle.more_body:
            return
        if self._body_moved:
            self._body_moved = False
            self._body_timer = self.loop.call_later(self.settings.body_timeout, self._body_check)
            return
        self._refuse(408, "Request Timeout",
                     f"Request body paused for more than {self.settings.body_timeout:g} s")

    def _refuse(self, status: int, reason: str, message: str):
        """Answer (unless the app has begun an answer), then close: the write side at once, the
        connection after a moment in which what the client still sends is dropped, so that its
        data does not make the kernel reset the connection before the client has read the answer."""
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None
        cycle = self.cycle  # the request being read, or (reading a new head) the one before it
        if cycle is None or not cycle.response_started or (cycle.response_complete and not cycle.more_body):
            self.transport.write(_raw_response(status, reason, self.render(status, message)))
        if self.cycle is not None:  # the app's request ends: it reads a disconnect, its answer is dropped
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.flow.resume_reading()
        try:
            self.transport.write_eof()
        except (OSError, RuntimeError, NotImplementedError):
            self.transport.close()
            return
        self._lingering = self.loop.call_later(LINGER, self.transport.close)


def _renderer(contract):
    def render_bytes(status: int, message: str) -> bytes:
        return render(contract, ApiError(status, message)).body
    return render_bytes


def _busy(contract, limit):
    body = _renderer(contract)(503, f"Too many requests at once: the mock serves at most {limit} at a time")

    async def busy(scope, receive, send):
        await send({"type": "http.response.start", "status": 503,
                    "headers": [(b"content-type", b"application/json"), (b"connection", b"close"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return busy


def protocol(app) -> type:
    """The uvicorn protocol class for `app` (a mock from create_app): its settings' limits, its API's body."""
    settings, contract = app.mock.settings, app.mock.contract
    return type("LimitedHttpTools", (_LimitedProtocol,), {
        "settings": settings, "render": staticmethod(_renderer(contract)),
        "busy_app": staticmethod(_busy(contract, settings.limit_concurrency))})


def uvicorn_options(app) -> dict:
    """What `uvicorn.Config` needs for the mock's limits."""
    settings = app.mock.settings
    return {"http": protocol(app), "limit_concurrency": settings.limit_concurrency,
            "timeout_keep_alive": settings.keep_alive_timeout}


__all__ = ["InputGate", "MiB", "protocol", "query_count", "uvicorn_options"]
