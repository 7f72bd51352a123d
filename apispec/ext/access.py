"""Who may do what, beyond holding a valid credential:

    x-access      on an operation: the key types (roles) admitted, the permission a key must hold, and
                  whether a session cookie serves; on a request-body property or a parameter: the key
                  types that may set or pass it (`otherwise: ignore`: others' values are dropped, else 403)
    x-ownership   on the spec: which account each collection's records belong to (directly, or through
                  the record they are part of), which key types act on every record, and what is
                  deleted with a record
"""

from __future__ import annotations

from . import value


def of(operation) -> dict | None:
    """The operation's `x-access`, or None (any valid credential)."""
    return value(operation, "access")


def key_types(operation) -> tuple[str, ...]:
    """The key types (roles) the operation admits; empty: any."""
    return tuple((of(operation) or {}).get("key_types") or ())


def permission(operation) -> str | None:
    return (of(operation) or {}).get("permission")


def session(operation) -> bool:
    """Whether a session (cookie) is admitted in place of a key."""
    return bool((of(operation) or {}).get("session"))


# --- x-access on a request-body property or a parameter: who may set or pass it -----------------------

def input_key_types(node) -> tuple[str, ...]:
    """The key types an `x-access` on a body property or a parameter admits (empty: any)."""
    return tuple((value(node, "access") or {}).get("key_types") or ()) if isinstance(node, dict) else ()


def ignored_otherwise(node) -> bool:
    """`x-access.otherwise: ignore`: a field set by another key type is dropped, not refused (403)."""
    return isinstance(node, dict) and (value(node, "access") or {}).get("otherwise") == "ignore"


# --- x-ownership (root): which account each record belongs to --------------------------------------

def ownership(contract) -> dict:
    """The spec's `x-ownership`: `{sees_all: [key types], collections: {name: {field, in, deleted_with}}}`:
    a record of a collection belongs to the account its `field` names (`user_id`), or, with `in`, to
    the owner of the record of that collection its `field` names (an event to its organization's
    account); `deleted_with: true` records go when that record is deleted. Empty when undeclared."""
    return value(contract, "ownership", {})


def owner_link(contract, collection: str) -> dict | None:
    """`{field, in, deleted_with}` of a collection, or None (its records belong to no account)."""
    return (ownership(contract).get("collections") or {}).get(collection)


def sees_all(contract) -> tuple[str, ...]:
    """Key types that act on every record as its owner would (Amar's admin)."""
    return tuple(ownership(contract).get("sees_all") or ())


def parts_of(contract, collection: str) -> list[tuple[str, str]]:
    """(collection, field) of the records deleted with a record of `collection`."""
    return [(name, link["field"]) for name, link in (ownership(contract).get("collections") or {}).items()
            if link.get("in") == collection and link.get("deleted_with")]
