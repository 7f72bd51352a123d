"""`x-after`, `x-before`: the order a record's date (or date-time) keeps with another date.

On a record schema's property: `x-before: <another date field of the record>`, or `{field, of, in,
status}`; `x-after` the same the other way. The property's value is on or before (`x-before`) or on or after
(`x-after`) the other date: the same day or instant passes. The other date is `field` of the same
record, or `today`, or, with `of: <a field of this record naming another record>` and `in: <that
record's collection>`, `field` of that record (a ticket's event's deadline). A value or other date that is
unset is nothing to compare. A breach is refused with `status` (default 400), the message naming
the property (or, with `of`, the referring field) and both dates, then the property's
`x-messages.before` / `x-messages.after`, the API's own words for why."""

from __future__ import annotations

from ..schema import properties
from . import value
from .errors import message

DIRECTIONS = ("before", "after")
TODAY = "today"


def rules(schema) -> list[dict]:
    """The date-order rules of a record schema: `{name, direction, field, of, in, status, why}` each,
    `field` being the other date (`today` for the current date)."""
    out = []
    for name, prop in properties(schema or {}).items():
        for direction in DIRECTIONS:
            found = value(prop, direction) if isinstance(prop, dict) else None
            if found is None:
                continue
            rule = found if isinstance(found, dict) else {"field": found}
            out.append({"name": name, "direction": direction, "field": rule["field"], "of": rule.get("of"),
                        "in": rule.get("in"),
                        "status": int(rule.get("status", 400)), "why": message(prop, direction)})
    return out


def applies(rule: dict, changed) -> bool:
    """Whether a change of the fields `changed` (None: a new record) can break the rule: its own
    date changed, or the other date of the same record."""
    if changed is None:
        return True
    return rule["name"] in changed or (not rule["of"] and rule["field"] in changed)
