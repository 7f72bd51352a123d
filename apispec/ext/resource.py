"""The resource family: how records are kept and acted on.

    x-resource    on an operation the generic actions serve: `{action, name}`, and `parent`, `scope`,
                  `where` (below)
    x-id          on a record's `id`: the style new ids take
    x-timestamp   on a record's property: `created` or `updated`, the time it is stamped with
    x-refers-to   on a request-body property or a parameter: the collection whose record it names
    x-stored-as   on a request-body property: `{given: stored}`, words the record keeps as others
"""

from __future__ import annotations

from ..schema import properties
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


# --- more of x-resource: what a generic action does beyond plain CRUD --------------------------------

def parent(operation) -> str | None:
    """`x-resource.parent`: the collection whose record the path id names (`/events/{id}/tickets`:
    `events`); the action lists that record's parts (x-ownership says by which field)."""
    return (of(operation) or {}).get("parent")


def scope(operation) -> str | None:
    """`x-resource.scope`: `owned`: only records the caller owns (x-ownership), every record for the
    key types that see all; `own`: only the caller's own, whatever its key type. None: every record."""
    return (of(operation) or {}).get("scope")


def where(operation) -> dict:
    """`x-resource.where`: field values every record the action lists or reads has (`privacy: public`)."""
    return dict((of(operation) or {}).get("where") or {})


# --- on a record's or a request body's properties ---------------------------------------------------

def timestamps(schema) -> dict[str, list[str]]:
    """{created|updated: [property]} of the `x-timestamp` marks of a record schema: the fields stamped
    with the time a record is created, or changed."""
    out: dict[str, list[str]] = {"created": [], "updated": []}
    for name, prop in properties(schema or {}).items():
        mark = value(prop, "timestamp") if isinstance(prop, dict) else None
        if mark in out:
            out[mark].append(name)
    return out


def references(schema) -> dict[str, str]:
    """{property: collection} of the `x-refers-to` marks of a request body: a field naming a record of
    another collection, which must exist (else 404 naming the field)."""
    return {name: value(prop, "refers-to") for name, prop in properties(schema or {}).items()
            if isinstance(prop, dict) and value(prop, "refers-to")}


def parameter_references(operation) -> dict[str, str]:
    """{parameter: collection} of the `x-refers-to` marks of an operation's parameters (GET
    /ticket-types?event_id: events): a value naming no record is refused with 404 naming it."""
    return {p["name"]: value(p, "refers-to") for p in getattr(operation, "parameters", None) or []
            if isinstance(p, dict) and value(p, "refers-to")}


def stored_as(schema) -> dict[str, dict]:
    """{property: {given value: stored value}} of the `x-stored-as` marks of a request body: a word
    the request takes that the record keeps as another (Amar's donation `approved` is `verified`)."""
    return {name: value(prop, "stored-as") for name, prop in properties(schema or {}).items()
            if isinstance(prop, dict) and value(prop, "stored-as")}
