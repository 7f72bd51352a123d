"""Sliding-window rate limits per API key, as the spec's `x-rate-limit` states them, and the
headers that report them on every authenticated response (and `Retry-After` on 429).
"""

from __future__ import annotations

import collections
import math
import threading
import time

from apispec.model import Contract

from .auth import check_access
from .errors import ApiError


class SlidingWindow:
    """Requests per key in the last `window` seconds."""

    def __init__(self, window: float, clock=time.monotonic, wallclock=time.time):
        self.window = window
        self.clock = clock
        self.wallclock = wallclock
        self._hits: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int) -> tuple[bool, int, float]:
        """Count one request; (allowed, remaining, seconds until a slot frees)."""
        with self._lock:
            now = self.clock()
            hits = self._hits[key]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            allowed = len(hits) < limit
            if allowed:
                hits.append(now)
            wait = (hits[0] + self.window - now) if hits else self.window
            return allowed, max(limit - len(hits), 0), max(wait, 0.0)

    def usage(self) -> dict[str, int]:
        with self._lock:
            now = self.clock()
            return {k: sum(1 for t in v if t > now - self.window) for k, v in self._hits.items()}

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


def _limit_for(config: dict, principal: dict) -> int | None:
    """The principal's limit: by its key type where the API limits by type, else the flat one."""
    by_type = config.get("limits_by_key_type") or {}
    if principal.get("key_type") in by_type:
        return by_type[principal["key_type"]]
    return config.get("limit")


class KeyPolicy:
    """The pipeline's rate-limit and access stage, after authentication: the rate limit, then key
    types and permissions (`x-access`). The rate-limit headers go on every response to a known
    key: the answer's, and any error's from here on (the pipeline adds them).
    """

    def __init__(self, contract: Contract, window: SlidingWindow | None, config: dict | None):
        self.contract = contract
        self.window = window
        self.config = config or {}

    def admit(self, principal: dict, operation_id: str) -> dict[str, str]:
        """Count the request and check `x-access`: the rate-limit headers, or an ApiError
        (429, 403) carrying them."""
        headers = self._count(principal)
        try:
            check_access(self.contract, operation_id, principal)
        except ApiError as exc:
            exc.headers = {**headers, **exc.headers}
            raise
        return headers

    def _count(self, principal: dict) -> dict[str, str]:
        if self.window is None:
            return {}
        limit = _limit_for(self.config, principal)
        if limit is None:
            return {}
        key = str(principal.get("rate_key") or principal.get("sub"))
        allowed, remaining, wait = self.window.hit(key, limit)
        names = self.config.get("headers", {})
        headers = {}
        if names.get("limit"):
            headers[names["limit"]] = str(limit)
        if names.get("remaining"):
            headers[names["remaining"]] = str(remaining)
        if names.get("reset"):
            headers[names["reset"]] = str(math.ceil(self.window.wallclock() + wait))
        if names.get("type") and principal.get("key_type"):
            headers[names["type"]] = principal["key_type"]
        if not allowed:
            if self.config.get("retry_after"):
                headers["Retry-After"] = str(max(math.ceil(wait), 1))
            raise ApiError(429, f"Rate limit exceeded: {limit} requests per "
                                f"{_window_words(self.window.window)}; retry in {math.ceil(wait)} s",
                           headers=headers)
        return headers


def _window_words(seconds: float) -> str:
    return {60: "minute", 3600: "hour"}.get(int(seconds), f"{seconds:g} seconds")
