"""`x-states`: on an enum schema of statuses, what its words mean to the API's rules, by role:
`{initial: Pending, approved: Success, holds_place: [Pending, Success]}`. A rule of the mock that
depends on a status reads the word for its role here, never a word of its own."""

from __future__ import annotations

from ..schema import properties, record_schema
from . import resource, value


def of(schema) -> dict:
    """{role: word or [words]} of an enum schema, empty when it declares none."""
    return value(schema, "states", {}) if isinstance(schema, dict) else {}


def word(schema, role: str):
    """The status word (or words) playing `role`; LookupError when the spec gives none."""
    found = of(schema).get(role)
    if found is None:
        raise LookupError(f"x-states declares no {role!r}")
    return found


def words(contract, collection: str, role: str) -> list:
    """The status words playing `role` for the records of `collection` (their `status`' `x-states`, as
    the collection's read shows it)."""
    for op in contract.operations.values():
        if resource.collection(op) == collection and resource.action(op) == "read":
            found = word(properties(record_schema(op.response_schema())).get("status") or {}, role)
            return list(found) if isinstance(found, list) else [found]
    raise LookupError(f"x-states: no read of {collection} shows its status")
