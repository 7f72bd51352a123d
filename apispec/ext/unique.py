"""`x-unique`: a field no two records of a collection may share (an email, a username): `true`, or
`{status: 400, case: sensitive}` where the API refuses a repeat otherwise than the default rule."""

from __future__ import annotations

from ..schema import properties
from . import value
from .errors import message


def is_unique(prop) -> bool:
    return isinstance(prop, dict) and bool(value(prop, "unique"))


def fields(schema) -> dict[str, dict]:
    """The `x-unique` properties of an object schema (its `allOf` parts included), by name."""
    return {name: prop for name, prop in properties(schema or {}).items() if is_unique(prop)}


def taken_message(prop: dict, field: str, given) -> str:
    """What the API says when `given` is already taken: the spec's `x-messages.unique`, else a
    plain sentence naming the field."""
    return message(prop, "unique") or f"{field} {given!r} is already taken"


DEFAULT_RULE = {"status": 409, "case": "insensitive"}


def rule(prop: dict) -> dict:
    """How a repeat is refused: `{status, case}`. `x-unique: true` is the default rule (409: the
    request is well formed, another record's state refuses it; values compared ignoring case, as an
    email or a username is); `x-unique: {status: 400}` is an API whose document shows another status."""
    found = value(prop, "unique")
    return {**DEFAULT_RULE, **(found if isinstance(found, dict) else {})}


def same(rule_: dict, a, b) -> bool:
    """Whether two values are the same under the rule's `case` (`insensitive` or `sensitive`)."""
    if rule_.get("case") == "insensitive" and isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    return a == b
