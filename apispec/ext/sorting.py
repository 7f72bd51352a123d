"""`x-sort`: which parameters ask for an order (`by`: the field, `order`: asc|desc), and how
values compare."""

from __future__ import annotations

from . import value
from .filters import as_time


def requested(operation, inputs: dict) -> tuple[object, object]:
    """(field, order) the operation's `x-sort` parameters ask for in `inputs`, their schema
    defaults filling what is not given."""
    by = order = None
    for param in operation.parameters:
        role = value(param, "sort")
        given = inputs.get(param["name"], (param.get("schema") or {}).get("default"))
        if role == "by":
            by = given
        elif role == "order":
            order = given
    return by, order


def sort_key(item):
    """Orders numbers as numbers, dates as dates, text case-insensitively; missing first."""
    if item is None:
        return (0, "")
    if isinstance(item, (int, float)) and not isinstance(item, bool):
        return (1, item)
    when = as_time(item) if isinstance(item, str) and item[:4].isdigit() else None
    return (2, when.timestamp()) if when else (3, str(item).lower())
