"""`x-resource` (an operation the generic resource actions serve: `{action, name, ...}`) and
`x-id` (on a record's `id`: the style new ids take)."""

from __future__ import annotations

from . import value

ACTIONS = ("list", "create", "read", "update", "delete")


def of(operation) -> dict | None:
    """The operation's `x-resource`, or None."""
    return value(operation, "resource")


def action(operation) -> str | None:
    found = of(operation)
    return found.get("action") if found else None


def collection(operation) -> str | None:
    """The store collection the operation's `x-resource` names."""
    found = of(operation)
    return found.get("name") if found else None


def id_style(schema, depth: int = 0) -> dict | None:
    """The `x-id` on the `id` of the record `schema` describes (looked for through `properties`,
    `items` and `allOf`), or None."""
    if not isinstance(schema, dict) or depth > 6:
        return None
    props = schema.get("properties") or {}
    if "id" in props and value(props["id"], "id"):
        return value(props["id"], "id")
    for sub in [*props.values(), schema.get("items"), *(schema.get("allOf") or [])]:
        found = id_style(sub, depth + 1)
        if found:
            return found
    return None


def id_styles(contract) -> dict[str, dict]:
    """Each collection's id style, from the `x-id` on the id its create/read/list response carries."""
    styles: dict[str, dict] = {}
    for op in contract.operations.values():
        if action(op) in ("create", "read", "list"):
            found = id_style(op.response_schema())
            if found:
                styles.setdefault(collection(op), found)
    return styles
