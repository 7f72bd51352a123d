"""`x-filter`: what a filter parameter (or request-body field) means, in one place. The mock
filters with these functions and the contract suite checks any server's answers with the same
ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from . import value

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
    return matcher(rule, value, resolve)(record)


def matcher(rule: dict, value, resolve: Resolver | None = None) -> Callable[[dict], bool]:
    """The test a record must pass for the filter `rule` given `value`: the work that depends on
    the value alone is done once, so filtering a collection costs little per record."""
    op = rule.get("op", "eq")
    if rule.get("all") is not None and str(value) == str(rule["all"]):
        return lambda record: True
    if op == "search":
        needle = str(value).lower()
        fields = [_getter(f, resolve) for f in rule.get("fields", [])]
        return lambda record: any(needle in str(get(record) or "").lower() for get in fields)
    if op == "date-within":
        start_of, end_of = (_getter(f, resolve) for f in rule["fields"][:2])
        when = as_time(value)

        def within(record):
            start, end = as_time(start_of(record)), as_time(end_of(record))
            return None not in (start, end, when) and start.date() <= when.date() <= end.date()
        return within
    get = _getter(rule["field"], resolve)
    if op == "eq":
        wanted = value if isinstance(value, bool) else str(value).lower() in ("1", "true")
        if isinstance(value, bool):
            return lambda record: bool(get(record)) == wanted
        text = str(value)

        def equal(record):
            actual = get(record)
            return bool(actual) == wanted if isinstance(actual, bool) else str(actual) == text
        return equal
    if op == "ieq":
        text = str(value).lower()
        return lambda record: str(get(record)).lower() == text
    if op == "url-id":
        text = str(value)

        def names(record):
            actual = get(record)
            return actual is not None and last_segment(actual) == text
        return names
    if op == "any":
        wanted_any = {v.strip().lower() for v in str(value).split(",") if v.strip()}
        return lambda record: bool(wanted_any & {str(v).lower() for v in (get(record) or [])})
    if op in ("gte", "lte"):
        right = as_time(value)

        def bound(record):
            left = as_time(get(record))
            if left is None or right is None:
                return False
            return left >= right if op == "gte" else left <= right
        return bound
    raise ValueError(f"unknown x-filter op {op}")


def _getter(path: str, resolve: Resolver | None) -> Callable[[dict], object]:
    """`field_value` for one path; a plain field is a dict lookup."""
    if "." in path:
        return lambda record: field_value(record, path, resolve)
    return lambda record: record.get(path) if isinstance(record, dict) else None


def inputs(operation) -> Iterator[tuple[str, dict]]:
    """(input name, rule) of each `x-filter`: on query parameters (or their schemas) and on
    request-body properties (Eventify's POST lists)."""
    for param in operation.parameters:
        rule = value(param, "filter") or value(param.get("schema"), "filter")
        if rule:
            yield param["name"], rule
    for name, prop in ((operation.body_schema() or {}).get("properties") or {}).items():
        rule = value(prop, "filter")
        if rule:
            yield name, rule
