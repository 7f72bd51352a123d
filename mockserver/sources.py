"""Where a mock's time and randomness come from: one `Clock` and one `Ids` per store, passed in
(`Settings(clock=..., ids=...)`, `Store(clock=..., ids=...)`), never patched into a module.

Every timestamp a record gets (`created_at`, `last_used_at`), every "today" a rule compares with (a
key's expiry, a registration deadline), every token, session id and random or uuid id comes from
these. A test that needs the same answers twice gives both mocks `Ids.seeded(n)` and a `FixedClock`.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import uuid


class Clock:
    """The wall clock, in UTC."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def now_iso(self) -> str:
        """Now as the specs' `date-time`, to the second: `2026-01-01T00:00:00Z`."""
        return self.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    def today(self) -> dt.date:
        return self.now().date()


class FixedClock(Clock):
    """A clock that stays at one instant (tests)."""

    def __init__(self, at: dt.datetime | str = "2026-01-01T00:00:00Z"):
        if isinstance(at, str):
            at = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
        self.at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self.at


class Ids:
    """Random tokens and ids: from `secrets` (the default), or from a seeded generator."""

    def __init__(self, generator: random.Random | None = None):
        self._random = generator  # None: the operating system's randomness

    @classmethod
    def seeded(cls, seed: int) -> Ids:
        """The same draws on every run with the same seed (never for a served mock's credentials)."""
        return cls(random.Random(seed))  # noqa: S311 - for tests only, by name

    def token_hex(self, nbytes: int) -> str:
        return self._random.randbytes(nbytes).hex() if self._random else secrets.token_hex(nbytes)

    def token_urlsafe(self, nbytes: int) -> str:
        return self._random.randbytes(nbytes).hex() if self._random else secrets.token_urlsafe(nbytes)

    def choice(self, alphabet: str) -> str:
        return self._random.choice(alphabet) if self._random else secrets.choice(alphabet)

    def uuid4(self) -> str:
        if self._random:
            return str(uuid.UUID(int=self._random.getrandbits(128), version=4))
        return str(uuid.uuid4())
