"""An operation's, parameter's or property's lifecycle beyond `deprecated`, as oasdiff reads it:
`x-sunset` (the date after which it may be removed, RFC 3339), `x-stability-level` (draft, alpha,
beta, stable: how much notice a change needs) and `x-extensible-enum` (values a client must
expect to grow)."""

from __future__ import annotations

import datetime

from . import value

STABILITY = ("draft", "alpha", "beta", "stable")  # least stable first


def sunset_given(node) -> bool:
    return value(node, "sunset") is not None


def sunset_text(node) -> str | None:
    found = value(node, "sunset")
    return None if found is None else str(found)


def sunset(node) -> tuple[datetime.date | None, str | None]:
    """The sunset date (None: none) and, when it cannot be read, why (RFC 3339: a date, or a
    date-time whose date counts)."""
    raw = value(node, "sunset")
    if raw is None:
        return None, None
    if isinstance(raw, datetime.datetime):
        return raw.date(), None
    if isinstance(raw, datetime.date):
        return raw, None
    text = str(raw)
    try:
        if len(text) == 10:
            return datetime.date.fromisoformat(text), None
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).date(), None
    except ValueError:
        return None, f"the sunset {text!r} is not an RFC 3339 date"


def stability_level(node):
    """The stated stability level (any value; None: not stated)."""
    return value(node, "stability-level")


def extensible_enum(node) -> list | None:
    return value(node, "extensible-enum")
