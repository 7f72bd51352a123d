"""`x-rate-limit`: the documented limits: `window_seconds`, a flat `limit` or `limits_by_key_type`,
the `headers` that report it, and whether a 429 carries `Retry-After`."""

from __future__ import annotations

from . import value


def of(contract) -> dict | None:
    """The spec's `x-rate-limit`, or None (the document states no limit)."""
    return value(contract, "rate-limit")
