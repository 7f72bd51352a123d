"""`x-pagination`: how an operation's list answer is paged.

`style` is one of `none` (everything at once), `meta` (Namak: a `meta` object), `pagination`
(Amar, EcoEvents: a `pagination` object) or `link` (Tickets: `count`/`next`/`previous` and a
`Link` header); `items` names where the records are (`$`: the body itself); `page` and `size`
name the query parameters; `out_of_range` is the status for a page past the end."""

from __future__ import annotations

from . import value

UNPAGED = {"style": "none", "items": "$"}


def of(operation) -> dict | None:
    """The operation's `x-pagination`, or None (then it is not a list)."""
    return value(operation, "pagination")


def style(operation) -> str:
    return (of(operation) or UNPAGED).get("style", "none")
