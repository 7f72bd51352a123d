"""Rate limits honoured: every request a run sends with a credential is paced under the spec's
`x-rate-limit`, per credential value, and a 429 is waited out (its `Retry-After`, bounded) and sent
again, so no rule ever judges a 429 the run itself provoked.

Two sources, the server's first: once an answer carries the spec's remaining/reset headers
(`X-RateLimit-Remaining`, `X-RateLimit-Reset`), the run sends while requests remain and waits for the
reset when none do (a server with a shorter window than the document's is followed as it is); until
then, and for a server that sends no such headers, it keeps to the documented limit over the
documented window itself (by key type where the spec limits by key type: Amar's key prefixes).

The same code paces Schemathesis's requests (the run's credential applies it at send time, see
identity.py) and our rules' own (`Run.request` / `run.http`: `mount` puts it on that session).
"""

from __future__ import annotations

import collections
import dataclasses
import json
import threading
import time

import requests
from requests.adapters import HTTPAdapter

from apispec import ext

MAX_WAIT = 65.0         # seconds: a pause or Retry-After longer than this stops the run (RateLimitSpent)
MAX_RETRIES = 5         # 429s re-sent per request before the answer is given up on


class RateLimitSpent(KeyboardInterrupt):
    """The server's limit for a credential is spent for longer than a run waits: the run stops with
    this message rather than crawl or send requests that can only be answered 429 (Schemathesis
    treats a KeyboardInterrupt from a request as a stop)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclasses.dataclass
class _Key:
    sent: collections.deque = dataclasses.field(default_factory=collections.deque)  # send times (monotonic)
    remaining: int | None = None    # as the server last said, less what was sent since
    reset_at: float | None = None   # wall-clock time the server said a slot frees
    limit: int | None = None        # as the server said (X-RateLimit-Limit)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)


class Pacer:
    """The pacing of one run: per credential value, the documented limit and the server's counts."""

    def __init__(self, contract, clock=time.monotonic, wallclock=time.time, sleep=time.sleep):
        self.contract = contract
        self.config = ext.rate_limit.of(contract) or {}
        self.headers = {k: v for k, v in (self.config.get("headers") or {}).items() if v}
        self.window = float(self.config.get("window_seconds") or 0) or None
        self.clock, self.wallclock, self.sleep = clock, wallclock, sleep
        self._keys: dict[str, _Key] = collections.defaultdict(_Key)
        self._lock = threading.Lock()
        self.paused = 0             # pauses taken to stay under a limit
        self.waited = 0.0           # seconds spent in them
        self.rate_limited = 0       # 429 answers waited out and sent again
        self.gave_up = 0            # 429 answers still 429 after MAX_RETRIES
        self.followed_headers = False
        self.spent: str | None = None   # why the run stopped for the rate limit, if it did

    @property
    def active(self) -> bool:
        return bool(self.config)

    def _key(self, key: str) -> _Key:
        with self._lock:
            return self._keys[key]

    def documented_limit(self, key: str) -> int | None:
        """The documented limit for a credential: by its key type where the spec limits by type
        (the type told by the key's prefix, `x-key-types`), else the flat limit; an unknown type
        gets the smallest."""
        by_type = self.config.get("limits_by_key_type") or {}
        if not by_type:
            return self.config.get("limit")
        for key_type, about in ext.credentials.declared_key_types(self.contract).items():
            prefix = (about or {}).get("prefix")
            if prefix and prefix in key and key_type in by_type:
                return by_type[key_type]
        return min(by_type.values())

    def before(self, key: str | None) -> None:
        """Wait, if need be, until a request with this credential may go out; count it."""
        if self.spent:
            raise RateLimitSpent(self.spent)
        if key is None or not self.active:
            return
        state = self._key(key)
        with state.lock:
            wait = self._wait_for(key, state)
            if wait > MAX_WAIT:
                self._stop(key, wait)
            if wait > 0:
                self.paused += 1
                self.waited += wait
                self.sleep(wait)
                if state.remaining is not None and state.remaining <= 0:
                    state.remaining = None  # the reset has come: the next answer says how many are left
            now = self.clock()
            state.sent.append(now)
            if state.remaining is not None:
                state.remaining -= 1

    def _wait_for(self, key: str, state: _Key) -> float:
        if state.reset_at is not None:
            # the server counts: it is followed (its window may be shorter than the document's)
            self.followed_headers = True
            if state.remaining is None or state.remaining > 0:
                return 0.0
            return max(state.reset_at - self.wallclock(), 0.0)
        limit = state.limit or self.documented_limit(key)
        if not limit or not self.window:
            return 0.0
        now = self.clock()
        while state.sent and state.sent[0] <= now - self.window:
            state.sent.popleft()
        if len(state.sent) < limit:
            return 0.0
        return state.sent[-limit] + self.window - now

    def after(self, key: str | None, status: int, headers) -> None:
        """Take the server's count from an answer's rate-limit headers."""
        if key is None or not self.active:
            return
        state = self._key(key)
        remaining = _number(_header(headers, self.headers.get("remaining")))
        reset = _number(_header(headers, self.headers.get("reset")))
        limit = _number(_header(headers, self.headers.get("limit")))
        with state.lock:
            if limit is not None:
                state.limit = int(limit)
            if remaining is not None and reset is not None:
                state.remaining = int(remaining)
                state.reset_at = reset if reset > 1e9 else self.wallclock() + reset
            if status == 429:
                delay = retry_after(headers)
                state.remaining = 0
                state.reset_at = self.wallclock() + (delay if delay is not None else (self.window or 1.0))

    def send(self, key: str | None, send, first=None):
        """`send()` paced, and sent again after each 429 once its Retry-After has passed (at most
        MAX_RETRIES times). `first`: an answer already received for the first sending."""
        if first is None:
            self.before(key)
            first = send()
        response = first
        self.after(key, response.status_code, response.headers)
        for _ in range(MAX_RETRIES):
            if response.status_code != 429:
                return response
            self.rate_limited += 1
            drain(response)
            delay = retry_after(response.headers)
            if delay is not None and delay > MAX_WAIT:
                self._stop(key, delay)
            if key is None or not self.active:  # nothing counts for it here: its Retry-After alone
                wait = delay if delay is not None else 1.0
                self.paused += 1
                self.waited += wait
                self.sleep(wait)
            self.before(key)
            response = send()
            self.after(key, response.status_code, response.headers)
        if response.status_code == 429:
            self.gave_up += 1
        return response

    def _stop(self, key: str | None, wait: float) -> None:
        by_type = self.config.get("limits_by_key_type")
        documented = (", ".join(f"{t} {n}" for t, n in by_type.items()) if by_type
                      else str(self.config.get("limit")))
        self.spent = (f'the rate limit for "{key}" is spent for another {wait:.0f} s, longer than a run waits '
                      f"({MAX_WAIT:.0f} s; x-rate-limit: {documented} per {self.window or 0:g} s): run again "
                      f"later, or with a fresh window (the mock's: POST /__admin/reset); the run stopped")
        raise RateLimitSpent(self.spent)

    def note(self) -> str | None:
        """How the run was paced, for its summary."""
        if not self.active:
            return (f"rate limits: none documented; {self.rate_limited} answer(s) 429 waited out (Retry-After) "
                    f"and sent again" if self.rate_limited else None)
        by_type = self.config.get("limits_by_key_type")
        window = f"{self.window:g} s" if self.window else "its window"
        documented = (", ".join(f"{t} {n}" for t, n in by_type.items()) if by_type
                      else str(self.config.get("limit")))
        text = f"rate limits: paced per credential under x-rate-limit ({documented} per {window}"
        if self.followed_headers:
            text += f", then as the server's {self.headers.get('remaining', 'remaining')}/" \
                    f"{self.headers.get('reset', 'reset')} headers said"
        text += "); "
        text += (f"{self.paused} pauses, {self.waited:.1f} s waited" if self.paused else "no pause needed")
        if self.rate_limited:
            text += f"; {self.rate_limited} answer(s) 429 waited out (Retry-After) and sent again"
        if self.gave_up:
            text += f"; {self.gave_up} still 429 after {MAX_RETRIES} retries"
        return text


def _header(headers, name: str | None):
    if not name or headers is None:
        return None
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    if isinstance(value, list):
        value = value[0] if value else None
    return value


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def retry_after(headers) -> float | None:
    """Seconds a 429's Retry-After asks for (seconds or an HTTP date)."""
    value = _header(headers, "Retry-After")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is None:
        try:
            from email.utils import parsedate_to_datetime
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(seconds, 0.0)


def drain(response) -> None:
    try:
        response.content  # noqa: B018  (read, so the connection can be used again)
        response.close()
    except Exception:  # noqa: BLE001  (a broken body does not matter: the answer is thrown away)
        pass


def pacer_for(run) -> Pacer:
    """The run's pacer (one per run: every request of the run shares its counts)."""
    pacer = run.__dict__.get("_pacer")
    if pacer is None:
        pacer = run.__dict__.setdefault("_pacer", Pacer(run.contract))
    return pacer


def credential_key(run, request) -> str | None:
    """The credential a prepared request carries, as the server would count it: its Authorization
    header, else its cookies, else the body credential (Eventify's `token`)."""
    headers = request.headers or {}
    for name in ("Authorization", "Cookie"):
        if headers.get(name):
            return f"{name}: {headers[name]}"
    fields = ext.credentials.body_auth(run.contract) or {}
    if fields.get("token") and request.body:
        try:
            body = json.loads(request.body)
        except (TypeError, ValueError):
            return None
        if isinstance(body, dict) and isinstance(body.get(fields["token"]), str):
            return f"{fields['token']}={body[fields['token']]}"
    return None


class PacedAdapter(HTTPAdapter):
    """The transport of a run's own session (`run.http`, which our rules' extra requests use):
    each request paced under its credential's limit, each 429 waited out and sent again, and each
    answer shown to the run's cleanup (resources created by our rules' requests)."""

    def __init__(self, run, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.run = run

    def send(self, request, **kwargs):
        key = credential_key(self.run, request)
        response = pacer_for(self.run).send(key, lambda: super(PacedAdapter, self).send(request, **kwargs))
        from .cleanup import observe

        observe(self.run, request, response)
        return response


def mount(run, session: requests.Session) -> None:
    adapter = PacedAdapter(run)
    session.mount("http://", adapter)
    session.mount("https://", adapter)


def configure(schema, run) -> None:
    """Schemathesis's side of the pacing: requests it sends without the run's credential (its own
    auth probes) are not counted against a key, and any 429 they get is waited out by its own
    `rate_limit = "auto"` (Retry-After, bounded)."""
    if pacer_for(run).active:
        schema.config.update(rate_limit="auto")
