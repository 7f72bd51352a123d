"""The store in Redis (`--store redis://HOST:PORT/DB`): every worker and replica that names the same
Redis and prefix serves the same state, and every rule that is atomic in memory stays atomic.

Atomicity: one lock per store, held across processes. A handler's locked section (`with store.lock:`)
is arbitrary Python between a read and the write that depends on it (a capacity counted from the
tickets, a unique email looked for among the users); a WATCH transaction would have to re-run that
Python on a conflict, which a `with` block cannot do, and a Lua script would have to re-implement
each rule. So `lock` is a redis-py `Lock` (SET NX PX with a token, released by a Lua check-and-delete)
behind a thread lock, reentrant within the thread; every write takes it too (as in memory), so a
lone `update` never lands inside another process's check-then-write. The lock expires after
`LOCK_TTL` seconds, so a process killed while holding it blocks the others only that long. Reads do
not take it: each is one Redis command or script, so it sees a whole write or none of it (a write's
record, order and index changes go in one MULTI/EXEC).

Keys, under `<prefix>` (`mockserver:<slug>`, or `--store-prefix P`: `P:<slug>`):
  :lock               the lock            :ready     set once the fixtures are loaded
  :r:<name>           hash: key -> record (JSON; the key is the id as JSON, so 5 and "5" differ)
  :o:<name>           sorted set: key by insertion order (the order a list and `find` answer in)
  :order, :seq:<name> counters (insertion order; sequence ids, INCR)
  :names              the collections    :ixf:<name>  the fields looked up by `find` (indexed)
  :ix:<name>:<field>:<value JSON>   set of the keys whose field holds that value

Restarting on a prefix that holds data keeps it (`:ready` is set); `reset=True` (`--reset-store`) and
POST /__admin/reset load the fixtures again. Redis unreachable: every call raises `StoreUnavailable`,
a 503 in the API's own error body; the next call after Redis is back works.
"""

from __future__ import annotations

import functools
import pickle
import re
import threading

import orjson
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .errors import ApiError
from .sources import Clock, Ids
from .store import drawn_id, hashable

LOCK_TTL = 5.0       # seconds a lock lives if its holder dies
LOCK_WAIT = 5.0      # seconds a request waits for the lock before a 503
SOCKET_TIMEOUT = 2.0
CHUNK = 1000

_RANGE = """
local keys = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2])
local out = {}
for i = 1, #keys, 1000 do
  local part = redis.call('HMGET', KEYS[2], unpack(keys, i, math.min(i + 999, #keys)))
  for j = 1, #part do out[#out + 1] = part[j] end
end
return out
"""
_FIND = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return {-1} end
local keys = redis.call('SMEMBERS', KEYS[2])
if #keys == 1 then return {1, redis.call('HGET', KEYS[3], keys[1])} end
return {#keys}
"""
_NEXT = """
while true do
  local n = redis.call('INCR', KEYS[1])
  local field = ARGV[1] == '' and tostring(n) or (ARGV[1] .. n .. '"')
  if redis.call('HEXISTS', KEYS[2], field) == 0 then return n end
end
"""

_RAISE = """
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
"""


class StoreUnavailable(ApiError):
    """The shared store cannot be reached: 503 in the API's body, with Retry-After."""

    def __init__(self, why: str):
        super().__init__(503, f"The mock's store (Redis) is unavailable: {why}. Retry shortly.",
                         headers={"Retry-After": "1"})


def _unavailable(method):
    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except redis.RedisError as exc:
            raise StoreUnavailable(_why(exc)) from exc
    return guarded


def _why(exc: Exception) -> str:
    text = str(exc).split("\n")[0] or type(exc).__name__
    return text[:200]


def _dumps(value) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


class SharedLock:
    """Reentrant within a thread; one holder at a time across every process on the same Redis."""

    def __init__(self, client: redis.Redis, name: str):
        self._local = threading.RLock()
        self._depth = 0
        self._lock = client.lock(name, timeout=LOCK_TTL, sleep=0.001, blocking_timeout=LOCK_WAIT,
                                 thread_local=False)

    def __enter__(self):
        self._local.acquire()
        if self._depth == 0:
            try:
                acquired = self._lock.acquire()
            except redis.RedisError as exc:
                self._local.release()
                raise StoreUnavailable(_why(exc)) from exc
            if not acquired:
                self._local.release()
                raise StoreUnavailable(f"its lock was not free within {LOCK_WAIT:g} s")
        self._depth += 1
        return self

    def __exit__(self, *exc):
        self._depth -= 1
        try:
            if self._depth == 0:
                try:
                    self._lock.release()
                except redis.exceptions.LockError:
                    pass  # expired (held past LOCK_TTL) or Redis restarted: nothing left to release
                except redis.RedisError:
                    pass  # unreachable: it expires by itself
        finally:
            self._local.release()
        return False


class RedisStore:
    """The `StoreApi` (store.py) over Redis; see the module's documentation for keys and locking."""

    def __init__(self, url: str, fixtures: dict | None = None, id_styles: dict[str, dict] | None = None, *,
                 prefix: str = "mockserver", clock: Clock | None = None, ids: Ids | None = None,
                 verify_indexes: bool = False, reset: bool = False):
        self.url = url
        self.prefix = prefix
        self.clock = clock or Clock()
        self.ids = ids or Ids()
        self.verify_indexes = verify_indexes
        self._fixtures = pickle.dumps(fixtures or {}, protocol=pickle.HIGHEST_PROTOCOL)
        self._id_styles = dict(id_styles or {})
        self.redis = redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT,
                                          retry=Retry(NoBackoff(), 1), health_check_interval=0)
        self.lock = SharedLock(self.redis, self._key("lock"))
        self._range = self.redis.register_script(_RANGE)
        self._find = self.redis.register_script(_FIND)
        self._next = self.redis.register_script(_NEXT)
        self._raise = self.redis.register_script(_RAISE)
        with self.lock:
            if reset or not self.redis.exists(self._key("ready")):
                self.reset()

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    # --- whole-store operations -----------------------------------------------------------
    def reset(self) -> None:
        self.load(pickle.loads(self._fixtures))

    @_unavailable
    def load(self, collections: dict[str, list[dict]]) -> None:
        with self.lock:
            self._clear()
            pipe = self.redis.pipeline(transaction=True)
            order = 0
            for name, records in collections.items():
                pipe.sadd(self._key("names"), name)
                numbers = []
                for start in range(0, len(records or []), CHUNK):
                    mapping, scores = {}, {}
                    for i, record in enumerate(records[start:start + CHUNK], start):
                        key = record.get("id", i + 1)
                        field = _dumps(key)
                        mapping[field] = _dumps(record)
                        if field not in scores:
                            order += 1
                            scores[field] = order
                        numbers.append(self._number(name, key))
                    pipe.hset(self._key("r", name), mapping=mapping)
                    pipe.zadd(self._key("o", name), scores, nx=True)
                pipe.set(self._key("seq", name), max((n for n in numbers if n is not None), default=0))
                if len(pipe) > 50:
                    pipe.execute()
                    pipe = self.redis.pipeline(transaction=True)
            pipe.set(self._key("order"), order)
            pipe.set(self._key("ready"), 1)
            pipe.execute()

    def _clear(self) -> None:
        """Every key under the prefix but the lock (held)."""
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self.prefix) + ":*"
        lock = self._key("lock").encode()
        batch = []
        for key in self.redis.scan_iter(match=pattern, count=1000):
            if key != lock:
                batch.append(key)
            if len(batch) >= CHUNK:
                self.redis.unlink(*batch)
                batch = []
        if batch:
            self.redis.unlink(*batch)

    @_unavailable
    def snapshot(self) -> dict[str, list[dict]]:
        with self.lock:
            names = sorted(n.decode() for n in self.redis.smembers(self._key("names")))
            return {name: self.all(name) for name in names}

    # --- ids ------------------------------------------------------------------------------
    def _number(self, name: str, key):
        style = self._id_styles.get(name, {"style": "sequence"})
        if style.get("style", "sequence") != "sequence":
            return None
        prefix = style.get("prefix", "")
        match = re.fullmatch(re.escape(prefix) + r"(\d+)", str(key))
        return int(match.group(1)) if match else None

    @_unavailable
    def new_id(self, name: str):
        style = self._id_styles.get(name, {"style": "sequence"})
        kind = style.get("style", "sequence")
        prefix = style.get("prefix", "")
        if kind in ("uuid", "random"):
            table = self._key("r", name)
            return drawn_id(style, self.ids, lambda candidate: self.redis.hexists(table, _dumps(candidate)))
        quoted = _dumps(prefix)[:-1].decode() if prefix else ""
        number = int(self._next(keys=[self._key("seq", name), self._key("r", name)], args=[quoted]))
        return f"{prefix}{number}" if prefix else number

    # --- records --------------------------------------------------------------------------
    def _records(self, raw) -> list[dict]:
        return [orjson.loads(r) for r in raw if r is not None]

    @_unavailable
    def all(self, name: str) -> list[dict]:
        return self._records(self._range(keys=[self._key("o", name), self._key("r", name)], args=[0, -1]))

    @_unavailable
    def count(self, name: str) -> int:
        return self.redis.zcard(self._key("o", name))

    @_unavailable
    def window(self, name: str, start: int, stop: int) -> list[dict]:
        if stop <= start:
            return []
        return self._records(self._range(keys=[self._key("o", name), self._key("r", name)],
                                         args=[start, stop - 1]))

    @_unavailable
    def get(self, name: str, key):
        if not hashable(key):
            return None
        raw = self.redis.hget(self._key("r", name), _dumps(key))
        return orjson.loads(raw) if raw is not None else None

    @_unavailable
    def find(self, name: str, **fields):
        """The first record whose fields equal the given values, or None."""
        if len(fields) == 1:
            ((field, value),) = fields.items()
            if hashable(value):
                found = self._indexed(name, field, value)
                if found is not _SCAN:
                    if self.verify_indexes:
                        scanned = self._scan(name, fields)
                        assert found == scanned, f"stale index of {name}.{field}"
                    return found
        return self._scan(name, fields)

    def _indexed(self, name: str, field: str, value):
        keys = [self._key("ixf", name), self._index_key(name, field, value), self._key("r", name)]
        answer = self._find(keys=keys, args=[field])
        if answer[0] == -1:  # not indexed yet: index it (under the lock: no write in between)
            with self.lock:
                if not self.redis.sismember(keys[0], field):
                    self._build_index(name, field)
            answer = self._find(keys=keys, args=[field])
        if answer[0] == 0:
            return None
        if answer[0] == 1:
            return orjson.loads(answer[1]) if answer[1] is not None else None
        return _SCAN  # several hold the value: the first in order is the scan's

    def _build_index(self, name: str, field: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        for record in self.all(name):
            value = record.get(field)
            if hashable(value):
                pipe.sadd(self._index_key(name, field, value), _dumps(record["id"]) if "id" in record else b"")
        pipe.sadd(self._key("ixf", name), field)
        pipe.execute()

    def _index_key(self, name: str, field: str, value) -> bytes:
        return self._key("ix", name, field, "").encode() + _dumps(value)

    def _scan(self, name: str, fields: dict):
        for record in self.all(name):
            if all(record.get(k) == v for k, v in fields.items()):
                return record
        return None

    @_unavailable
    def insert(self, name: str, record: dict) -> dict:
        with self.lock:
            if record.get("id") is None:
                record = {"id": self.new_id(name), **record}
            self._put(name, record["id"], record)
            return record

    @_unavailable
    def update(self, name: str, key, changes: dict) -> dict | None:
        with self.lock:
            old = self.get(name, key)
            if old is None:
                return None
            record = {**old, **changes}
            self._put(name, key, record, old)
            return record

    @_unavailable
    def delete(self, name: str, key) -> dict | None:
        with self.lock:
            old = self.get(name, key)
            if old is not None:
                self._remove(name, [(key, old)])
            return old

    @_unavailable
    def delete_where(self, name: str, predicate) -> int:
        with self.lock:
            doomed = [(r["id"], r) for r in self.all(name) if predicate(r)]
            if doomed:
                self._remove(name, doomed)
            return len(doomed)

    # --- writes: the record, its place in the order and its index entries in one MULTI/EXEC --------
    def _put(self, name: str, key, record: dict, old: dict | None = ...) -> None:
        field = _dumps(key)
        read = self.redis.pipeline(transaction=False)
        if old is ...:
            read.hget(self._key("r", name), field)
        read.smembers(self._key("ixf", name))
        read.incr(self._key("order"))
        answers = read.execute()
        if old is ...:
            raw, *answers = answers
            old = orjson.loads(raw) if raw is not None else None
        indexed, order = answers
        pipe = self.redis.pipeline(transaction=True)
        pipe.sadd(self._key("names"), name)
        pipe.hset(self._key("r", name), field, _dumps(record))
        pipe.zadd(self._key("o", name), {field: order}, nx=True)
        number = self._number(name, key)
        if number is not None:  # an id given: the sequence continues after it
            self._raise(keys=[self._key("seq", name)], args=[number], client=pipe)
        for index in indexed:
            index = index.decode()
            before, after = (old or {}).get(index), record.get(index)
            if old is not None and hashable(before) and not (hashable(after) and _dumps(before) == _dumps(after)):
                pipe.srem(self._index_key(name, index, before), field)
            if hashable(after):
                pipe.sadd(self._index_key(name, index, after), field)
        pipe.execute()

    def _remove(self, name: str, doomed: list[tuple]) -> None:
        indexed = [i.decode() for i in self.redis.smembers(self._key("ixf", name))]
        pipe = self.redis.pipeline(transaction=True)
        for key, record in doomed:
            field = _dumps(key)
            pipe.hdel(self._key("r", name), field)
            pipe.zrem(self._key("o", name), field)
            for index in indexed:
                if hashable(record.get(index)):
                    pipe.srem(self._index_key(name, index, record.get(index)), field)
        pipe.execute()


_SCAN = object()
