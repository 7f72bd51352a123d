"""The state of one mock: named collections of records, ids, locking, reset.

`StoreApi` is the interface every handler uses (resources.py, apis/*.py, admin.py, state.py); two
backends implement it: `Store`, in this process's memory (the default), and `RedisStore`
(redisstore.py), shared by every worker and replica that names the same Redis and prefix.
`open_store(url, ...)` picks one from `--store` (`memory`, or `redis://HOST:PORT/DB`).

The in-memory backend:

Every read-modify-write happens under one lock, so concurrent requests never lose a write
or oversell a capacity: callers that need several steps to be atomic hold `store.lock`.

A record changes only through `insert`, `update` and `delete`, never in place: `find` answers
from an index per looked-up field (a token, an email), which those keep. With `verify_indexes`
on (a per-store setting: `Store(verify_indexes=True)`, which the tests' mocks turn on through
`Settings.verify_indexes`), every answer from an index is checked against a scan.

Its time and randomness (new ids, tokens, timestamps) come from the `clock` and `ids` it is given
(sources.py), which handlers reach as `store.clock` and `store.ids`.
"""

from __future__ import annotations

import copy
import itertools
import pickle
import re
import threading
from typing import Protocol

from .sources import Clock, Ids


class StoreApi(Protocol):
    """What a mock's state offers its handlers, whichever backend holds it.

    - `lock`: a reentrant context manager; a handler holds it from a check to the write that depends
      on it (a capacity, a unique email), so no other request (in any worker or replica sharing the
      store) runs a locked section or a write in between. Every write takes it too.
    - records are dicts with an `id`; `get`/`find`/`all`/`window` answer them, `insert`/`update`/
      `delete`/`delete_where` change them: a record changed in place is not a change (in Redis it is
      a copy; in memory the indexes would go stale, which `verify_indexes` catches).
    - `find(name, **fields)`: the first record (in insertion order) whose fields equal the values;
      one field is answered from an index.
    - `count`/`window(name, start, stop)`: a page of a collection in insertion order, without
      reading the rest.
    - `reset()` back to the fixtures; `load(collections)` replaces everything; `snapshot()`.
    - `clock` and `ids`: where time and randomness come from (sources.py).
    """

    lock: object
    clock: Clock
    ids: Ids

    def reset(self) -> None: ...
    def load(self, collections: dict[str, list[dict]]) -> None: ...
    def snapshot(self) -> dict[str, list[dict]]: ...
    def new_id(self, name: str): ...
    def all(self, name: str) -> list[dict]: ...
    def count(self, name: str) -> int: ...
    def window(self, name: str, start: int, stop: int) -> list[dict]: ...
    def get(self, name: str, key): ...
    def find(self, name: str, **fields): ...
    def insert(self, name: str, record: dict) -> dict: ...
    def update(self, name: str, key, changes: dict) -> dict | None: ...
    def delete(self, name: str, key) -> dict | None: ...
    def delete_where(self, name: str, predicate) -> int: ...


def open_store(url: str | None, fixtures: dict | None = None, id_styles: dict[str, dict] | None = None, *,
               prefix: str = "mockserver", clock: Clock | None = None, ids: Ids | None = None,
               verify_indexes: bool = False, reset: bool = False) -> StoreApi:
    """The store `url` names: None or `memory` (this process), `redis://HOST:PORT/DB` (shared, keys
    under `prefix`; its data kept unless `reset`, loaded from the fixtures when the prefix is empty)."""
    if url in (None, "", "memory"):
        return Store(fixtures, id_styles, clock=clock, ids=ids, verify_indexes=verify_indexes)
    from .redisstore import RedisStore

    return RedisStore(url, fixtures, id_styles, prefix=prefix, clock=clock, ids=ids,
                      verify_indexes=verify_indexes, reset=reset)


class Store:
    def __init__(self, fixtures: dict | None = None, id_styles: dict[str, dict] | None = None, *,
                 clock: Clock | None = None, ids: Ids | None = None, verify_indexes: bool = False):
        self.lock = threading.RLock()
        self.clock = clock or Clock()
        self.ids = ids or Ids()
        self.verify_indexes = verify_indexes
        self._indexes: dict[str, dict[str, dict]] = {}  # collection -> field -> value -> [keys]
        # kept for reset as bytes, not a second tree of dicts: a fifth of the memory, and restoring
        # is a third of the time a deep copy takes (1M records: 1.6 s against 5.3 s)
        self._fixtures = pickle.dumps(fixtures or {}, protocol=pickle.HIGHEST_PROTOCOL)
        self._id_styles = dict(id_styles or {})
        self._data: dict[str, dict] = {}
        self._counters: dict[str, itertools.count] = {}
        self.reset()

    # --- whole-store operations -----------------------------------------------------------
    def reset(self) -> None:
        """Back to the fixtures, as at start."""
        self.load(pickle.loads(self._fixtures))

    def load(self, collections: dict[str, list[dict]]) -> None:
        """Every collection replaced by `collections` (a snapshot or fixtures, already checked); the
        fixtures stay what `reset` goes back to. Ids continue after the highest loaded."""
        with self.lock:
            self._data = {}
            self._counters = {}
            self._indexes = {}
            for name, records in collections.items():
                table = self._data.setdefault(name, {})
                for record in records or []:
                    key = record.get("id", len(table) + 1)
                    table[key] = record

    def snapshot(self) -> dict[str, list[dict]]:
        with self.lock:
            return {name: copy.deepcopy(list(table.values())) for name, table in self._data.items()}

    # --- ids ------------------------------------------------------------------------------
    def new_id(self, name: str):
        style = self._id_styles.get(name, {"style": "sequence"})
        kind = style.get("style", "sequence")
        prefix = style.get("prefix", "")
        table = self._data.setdefault(name, {})
        if kind in ("uuid", "random"):
            return drawn_id(style, self.ids, table.__contains__)
        if name not in self._counters:
            numbers = [int(m.group(1)) for key in table
                       if (m := re.fullmatch(re.escape(prefix) + r"(\d+)", str(key)))]
            self._counters[name] = itertools.count(max(numbers, default=0) + 1)
        number = next(self._counters[name])
        return f"{prefix}{number}" if prefix else number

    # --- records --------------------------------------------------------------------------
    def table(self, name: str) -> dict:
        return self._data.setdefault(name, {})

    def all(self, name: str) -> list[dict]:
        with self.lock:
            return list(self.table(name).values())

    def count(self, name: str) -> int:
        return len(self.table(name))

    def window(self, name: str, start: int, stop: int) -> list[dict]:
        with self.lock:
            return list(itertools.islice(self.table(name).values(), start, stop))

    def get(self, name: str, key):
        return self.table(name).get(key)

    def find(self, name: str, **fields):
        """The first record whose fields equal the given values, or None."""
        with self.lock:
            if len(fields) == 1:  # the usual lookup (a token, an email): from the field's index
                ((field, value),) = fields.items()
                if hashable(value):
                    keys = self._index(name, field).get(value, ())
                    if len(keys) <= 1:  # several: the first in the table's order is the scan's
                        found = self.table(name)[keys[0]] if keys else None
                        if self.verify_indexes:
                            scanned = self._scan(name, fields)
                            assert found is scanned, f"stale index of {name}.{field}: changed in place?"
                        return found
            return self._scan(name, fields)

    def _scan(self, name: str, fields: dict):
        for record in self.table(name).values():
            if all(record.get(k) == v for k, v in fields.items()):
                return record
        return None

    def insert(self, name: str, record: dict) -> dict:
        with self.lock:
            if record.get("id") is None:
                record = {"id": self.new_id(name), **record}
            table = self.table(name)
            if record["id"] in table:
                self._unindex(name, record["id"], table[record["id"]])
            table[record["id"]] = record
            self._reindex(name, record["id"], record)
            return record

    def update(self, name: str, key, changes: dict) -> dict | None:
        with self.lock:
            record = self.table(name).get(key)
            if record is None:
                return None
            self._unindex(name, key, record, changes)
            record.update(changes)
            self._reindex(name, key, record, changes)
            return record

    def delete(self, name: str, key) -> dict | None:
        with self.lock:
            record = self.table(name).pop(key, None)
            if record is not None:
                self._unindex(name, key, record)
            return record

    def delete_where(self, name: str, predicate) -> int:
        with self.lock:
            table = self.table(name)
            doomed = [k for k, r in table.items() if predicate(r)]
            for k in doomed:
                self._unindex(name, k, table.pop(k))
            return len(doomed)

    # --- indexes: field value -> keys, per looked-up field ------------------------------------
    def _index(self, name: str, field: str) -> dict:
        by_field = self._indexes.setdefault(name, {})
        index = by_field.get(field)
        if index is None:
            index = by_field[field] = {}
            for key, record in self.table(name).items():
                _enter(index, record.get(field), key)
        return index

    def _unindex(self, name: str, key, record: dict, only: dict | None = None) -> None:
        for field, index in self._indexes.get(name, {}).items():
            if only is None or field in only:
                value = record.get(field)
                if hashable(value) and key in index.get(value, ()):
                    index[value].remove(key)
                    if not index[value]:
                        del index[value]

    def _reindex(self, name: str, key, record: dict, only: dict | None = None) -> None:
        for field, index in self._indexes.get(name, {}).items():
            if only is None or field in only:
                _enter(index, record.get(field), key)


def drawn_id(style: dict, ids: Ids, taken) -> str:
    """A new uuid or random id (an `x-resource` id style) that `taken(candidate)` says is free."""
    if style.get("style") == "uuid":
        return ids.uuid4()
    alphabet = {"hex": "0123456789abcdef", "digits": "0123456789"}.get(
        style.get("alphabet", "hex"), style.get("alphabet", "hex"))
    while True:
        candidate = style.get("prefix", "") + "".join(ids.choice(alphabet) for _ in range(style.get("length", 12)))
        if not taken(candidate):
            return candidate


def hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _enter(index: dict, value, key) -> None:
    """A record with an unhashable value (a list) cannot equal a hashable one: not indexed."""
    if hashable(value):
        index.setdefault(value, []).append(key)
