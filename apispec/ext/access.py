"""`x-access`: who may call an operation beyond holding a valid credential: the key types
(roles) admitted, the permission a key must hold, and whether a session cookie serves."""

from __future__ import annotations

from . import value


def of(operation) -> dict | None:
    """The operation's `x-access`, or None (any valid credential)."""
    return value(operation, "access")


def key_types(operation) -> tuple[str, ...]:
    """The key types (roles) the operation admits; empty: any."""
    return tuple((of(operation) or {}).get("key_types") or ())


def permission(operation) -> str | None:
    return (of(operation) or {}).get("permission")


def session(operation) -> bool:
    """Whether a session (cookie) is admitted in place of a key."""
    return bool((of(operation) or {}).get("session"))
