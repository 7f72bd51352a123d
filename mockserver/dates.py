"""Date order (`x-before`, `x-after`, apispec/ext/dates.py): one check for every API, on create and
on update (the stored record with the changes: moving one date must keep the order too)."""

from __future__ import annotations

import datetime as dt

from apispec import ext

from .errors import ApiError


def moment(text):
    """A `date` as a date, a `date-time` as an aware datetime (no offset: UTC); None if neither."""
    try:
        if len(str(text)) == 10:
            return dt.date.fromisoformat(str(text))
        found = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=dt.UTC)


def _comparable(a, b):
    """Both as dates when either is one (a day against an instant: the instant's UTC day)."""
    if isinstance(a, dt.datetime) and not isinstance(b, dt.datetime):
        return a.astimezone(dt.UTC).date(), b
    if isinstance(b, dt.datetime) and not isinstance(a, dt.datetime):
        return a, b.astimezone(dt.UTC).date()
    return a, b


def check_order(schema: dict, record: dict, today: dt.date, lookup, changed=None) -> None:
    """The refusal of the first date-order rule of `schema` that `record` breaks. `lookup(collection,
    key)` is a record of another collection (or None); `changed` the fields an update sends."""
    for rule in ext.dates.rules(schema):
        if not ext.dates.applies(rule, changed):
            continue
        mine, other_record, label = record.get(rule["name"]), record, rule["field"]
        if rule["of"]:
            other_record = lookup(rule["in"], record.get(rule["of"])) or {}
            label = f"{rule['of'].removesuffix('_id')} {record.get(rule['of'])}'s {rule['field']}"
        other = today.isoformat() if rule["field"] == ext.dates.TODAY else other_record.get(rule["field"])
        a, b = moment(mine), moment(other)
        if a is None or b is None:
            continue
        a, b = _comparable(a, b)
        if (a > b) if rule["direction"] == "before" else (a < b):
            field = rule["of"] or rule["name"]
            worse = "after" if rule["direction"] == "before" else "before"
            shown = a.isoformat() if rule["of"] else mine
            text = f"{field}: {shown} is {worse} {label} {other}"
            raise ApiError(rule["status"], text + (f"; {rule['why']}" if rule["why"] else ""), field=field)
