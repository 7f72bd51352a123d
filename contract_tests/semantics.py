"""What the specs' `x-filter` and `x-sort` mean, in one place: the mock filters and sorts with
these functions and the contract suite checks any server's answers with the same ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Resolver = Callable[[str], dict | None]  # a resource URL -> the record it names, when known


def as_time(value):
    """A date or date-time string as an aware datetime (None if it is not one)."""
    if value is None:
        return None
    text = str(value)
    try:
        if len(text) == 10:
            return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def last_segment(value) -> str:
    return str(value).rstrip("/").rsplit("/", 1)[-1]


def field_value(record: dict, path: str, resolve: Resolver | None = None):
    """`record[path]`; a dotted path follows a URL-valued field to the record it names."""
    value = record
    for part in path.split("."):
        if isinstance(value, str) and resolve is not None:
            value = resolve(value)
        value = value.get(part) if isinstance(value, dict) else None
    return value


def can_check(rule: dict, resolve: Resolver | None = None) -> bool:
    """Whether a rule can be judged from the item alone (dotted paths need a resolver)."""
    fields = [rule.get("field", "")] + list(rule.get("fields", []))
    return resolve is not None or not any("." in f for f in fields)


def matches(rule: dict, record: dict, value, resolve: Resolver | None = None) -> bool:
    """Whether `record` passes the filter `rule` (an `x-filter`) given the parameter `value`."""
    op = rule.get("op", "eq")
    if rule.get("all") is not None and str(value) == str(rule["all"]):
        return True
    if op == "search":
        needle = str(value).lower()
        return any(needle in str(field_value(record, f, resolve) or "").lower() for f in rule.get("fields", []))
    if op == "date-within":
        start, end = (as_time(field_value(record, f, resolve)) for f in rule["fields"][:2])
        when = as_time(value)
        return None not in (start, end, when) and start.date() <= when.date() <= end.date()
    actual = field_value(record, rule["field"], resolve)
    if op == "eq":
        if isinstance(actual, bool) or isinstance(value, bool):
            wanted = value if isinstance(value, bool) else str(value).lower() in ("1", "true")
            return bool(actual) == wanted
        return str(actual) == str(value)
    if op == "ieq":
        return str(actual).lower() == str(value).lower()
    if op == "url-id":
        return actual is not None and last_segment(actual) == str(value)
    if op == "any":
        wanted = {v.strip().lower() for v in str(value).split(",") if v.strip()}
        return bool(wanted & {str(v).lower() for v in (actual or [])})
    if op in ("gte", "lte"):
        left, right = as_time(actual), as_time(value)
        if left is None or right is None:
            return False
        return left >= right if op == "gte" else left <= right
    raise ValueError(f"unknown x-filter op {op}")


def sort_key(value):
    """Orders numbers as numbers, dates as dates, text case-insensitively; missing first."""
    if value is None:
        return (0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    when = as_time(value) if isinstance(value, str) and value[:4].isdigit() else None
    return (2, when.timestamp()) if when else (3, str(value).lower())
