"""`x-unique`: a field no two records of a collection may share (an email, a username)."""

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
