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


# The page metadata a `meta` or `pagination` object may carry, by meaning -> the field name an API
# gives it; an API's `x-pagination.meta` names its own (`{pages: totalPages, has_next: hasNext}`).
META_MEANINGS = ("page", "limit", "total", "pages", "has_next", "has_prev")


def meta_names(operation) -> dict[str, str]:
    """{meaning: field name} of the page metadata the operation's `x-pagination.meta` declares
    (`page`, `limit`, `total`, `pages`, `has_next`, `has_prev`); empty for an unpaged list."""
    return dict((of(operation) or {}).get("meta") or {})


def meta_values(operation, page: int, size: int, total: int) -> dict:
    """The page metadata of page `page` of `size` items out of `total`, by the API's field names:
    what a server must report, and what the mock reports."""
    pages = -(-total // size) if size else 0
    meaning = {"page": page, "limit": size, "total": total, "pages": pages,
               "has_next": page < pages, "has_prev": page > 1}
    return {name: meaning[key] for key, name in meta_names(operation).items() if key in meaning}


def meta_object(operation) -> str | None:
    """The response property holding the page metadata (`meta`, `pagination`), or None."""
    return (of(operation) or {}).get("meta_in")


def meta_in_body(operation, body) -> dict | None:
    """The page metadata object of a list answer `body`, where `meta_in` says it is; None when the
    operation declares none or the body lacks it."""
    where = meta_object(operation)
    found = body.get(where) if where and isinstance(body, dict) else None
    return found if isinstance(found, dict) else None
