"""What else every worker and replica on one Redis store shares besides the data (redisstore.py): the
rate limits, the request journal and the latency/fault rules. In memory (no `--store`) each has its
own per-process form (ratelimit.SlidingWindow, journal.Journal, faults.Faults); this module holds
their Redis forms, made by `Mock` when its store is a RedisStore.

Keys sit beside the store's, under `<prefix>/` (not `<prefix>:`, so loading a state or
`--reset-store`, which empty `<prefix>:*`, leave them; POST /__admin/reset clears them itself):
  /rate:<key>      sorted set: one member per admitted request, scored by Redis's clock (TIME)
  /rate-keys       the rate keys seen (for usage and reset)   /rate-seq  member ids
  /journal         list, newest first, capped (LPUSH + LTRIM)  /journal-admin  the admin calls apart
  /faults          hash: rule scope -> rule as JSON
Each window decision is one Lua script (trim, count, add: atomic), timed by Redis's own clock, so
two machines with skewed clocks still count one window. A rate-limit call on an unreachable Redis
is the store's 503; the journal and the fault rules are best effort (a lost entry, no rules) so
that an outage answers as the store does and no worse.
"""

from __future__ import annotations

import contextlib
import time
import uuid

import orjson
import redis

from .faults import Faults, Rule
from .journal import Journal
from .redisstore import StoreUnavailable, _why

_HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, redis.call('INCR', KEYS[2]))
  count = count + 1
  allowed = 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = window
if #oldest > 0 then wait = tonumber(oldest[2]) + window - now end
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
redis.call('SADD', KEYS[3], KEYS[1])
return {allowed, count, tostring(wait)}
"""

_USAGE = """
local t = redis.call('TIME')
local since = tonumber(t[1]) + tonumber(t[2]) / 1000000 - tonumber(ARGV[1])
local keys = redis.call('SMEMBERS', KEYS[1])
local out = {}
for _, key in ipairs(keys) do
  out[#out + 1] = key
  out[#out + 1] = redis.call('ZCOUNT', key, '(' .. since, '+inf')
end
return out
"""


class RedisWindow:
    """ratelimit.SlidingWindow's interface over Redis: one window per key for every process."""

    def __init__(self, client: redis.Redis, prefix: str, window: float, wallclock=time.time):
        self.redis = client
        self.window = window
        self.wallclock = wallclock
        self._prefix = prefix + "/rate"
        self._hit = client.register_script(_HIT)
        self._usage = client.register_script(_USAGE)

    def hit(self, key: str, limit: int) -> tuple[bool, int, float]:
        """Count one request; (allowed, remaining, seconds until a slot frees)."""
        try:
            allowed, count, wait = self._hit(keys=[f"{self._prefix}:{key}", self._prefix + "-seq",
                                                   self._prefix + "-keys"], args=[repr(self.window), limit])
        except redis.RedisError as exc:
            raise StoreUnavailable(_why(exc)) from exc
        return bool(allowed), max(limit - int(count), 0), max(float(wait), 0.0)

    def usage(self) -> dict[str, int]:
        try:
            flat = self._usage(keys=[self._prefix + "-keys"], args=[repr(self.window)])
        except redis.RedisError as exc:
            raise StoreUnavailable(_why(exc)) from exc
        start = len(self._prefix) + 1
        return {flat[i].decode()[start:]: int(flat[i + 1]) for i in range(0, len(flat), 2) if int(flat[i + 1])}

    def reset(self) -> None:
        try:
            keys = list(self.redis.smembers(self._prefix + "-keys"))
            self.redis.unlink(*keys, self._prefix + "-keys", self._prefix + "-seq")
        except redis.RedisError as exc:
            raise StoreUnavailable(_why(exc)) from exc


def _bytes_out(value):
    if isinstance(value, bytes | bytearray):
        return {"$b": bytes(value).decode("latin-1")}
    raise TypeError(type(value).__name__)


def _bytes_in(value):
    if isinstance(value, dict):
        if len(value) == 1 and "$b" in value:
            return value["$b"].encode("latin-1")
        return {k: _bytes_in(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_bytes_in(v) for v in value]
    return value


class RedisJournal(Journal):
    """journal.Journal over two capped Redis lists: every process's requests in one journal."""

    def __init__(self, client: redis.Redis, prefix: str, size: int):
        self.redis = client
        self.size = size
        self._keys = {False: prefix + "/journal", True: prefix + "/journal-admin"}

    def append(self, entry: dict, admin: bool = False) -> None:
        key = self._keys[admin]
        with contextlib.suppress(redis.RedisError, TypeError):  # best effort: the answer is already sent
            self.redis.pipeline(transaction=False).lpush(key, orjson.dumps(entry, default=_bytes_out)) \
                .ltrim(key, 0, self.size - 1).execute()

    def entries(self, admin: bool = False) -> list[dict]:
        try:
            raw = self.redis.lrange(self._keys[admin], 0, self.size - 1)
        except redis.RedisError as exc:
            raise StoreUnavailable(_why(exc)) from exc
        return [_bytes_in(orjson.loads(item)) for item in reversed(raw)]

    def clear(self) -> None:
        try:
            self.redis.unlink(self._keys[False])  # the admin calls stay, as in memory
        except redis.RedisError as exc:
            raise StoreUnavailable(_why(exc)) from exc


class RedisFaults(Faults):
    """faults.Faults with its rules in a Redis hash: a rule set through any process holds on all.
    Each process keeps its own Rule, and so its own seeded draws, until the rule is set again: a seed
    repeats its draws per process (two processes draw the same sequence each)."""

    def __init__(self, contract, client: redis.Redis, prefix: str):
        super().__init__(contract)
        self.redis = client
        self._key = prefix + "/faults"
        self._parsed: dict[bytes, Rule] = {}

    def snapshot(self) -> dict[str, Rule]:
        try:
            raw = self.redis.hgetall(self._key)
        except redis.RedisError:
            return {}  # best effort: the store answers the outage
        rules = {}
        for scope, spec in raw.items():
            rule = self._parsed.get(spec)
            if rule is None:
                rule = self._parsed[spec] = Rule(orjson.loads(spec)["rule"], self.contract)
            rules[scope.decode()] = rule
        self._parsed = {spec: self._parsed[spec] for spec in raw.values()}
        return rules

    def set(self, spec) -> Rule:
        rule = Rule(spec, self.contract)
        try:
            # with a token of this setting: a rule set again (same seed) starts its draws again, as in memory
            self.redis.hset(self._key, rule.operation, orjson.dumps({"rule": rule.spec, "set": uuid.uuid4().hex}))
        except redis.RedisError as exc:
            raise StoreUnavailable(_why(exc)) from exc
        return rule

    def clear(self, operation: str | None = None) -> int:
        try:
            if operation is None:
                return int(self.redis.pipeline().hlen(self._key).unlink(self._key).execute()[0])
            return int(self.redis.hdel(self._key, operation))
        except redis.RedisError as exc:
            raise StoreUnavailable(_why(exc)) from exc
