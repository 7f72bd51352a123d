"""The specs' `x-` extensions: one module per extension (or per family), each owning what its
extension means. Code outside `apispec/` reads an extension only through these modules
(tests/test_layers.py holds it to that); specs/README.md documents each for spec authors.

    resource     x-resource (generic action, collection, parent, scope, where), x-id (a collection's
                 id style), x-timestamp, x-refers-to, x-stored-as (how a record's fields are kept)
    filters      x-filter: which records a filter parameter admits
    sorting      x-sort: the sort parameters, and the order values sort in
    paging       x-pagination: the page style, its parameters and metadata names
    errors       x-error-body, x-error-codes, x-messages: each API's error body and its words
    unique       x-unique: fields no two records may share
    access       x-access: which key types (roles) an operation, a body field or a parameter admits;
                 x-ownership: which account a record belongs to
    dates        x-before, x-after: the order a record's dates keep (a deadline by the event's date)
    capacity     x-capacity: a quantity other records take places of, never oversold
    states       x-states: the roles of a status enum's words (initial, approved, holds a place)
    related      x-embed, x-count, x-delete: fields and delete rules from the records naming a record
    rate_limit   x-rate-limit: the documented limits and window
    credentials  x-body-auth, x-issues-credential, x-revokes-credential, x-key-types
    inferred     x-inferred, x-alternative: what the spec infers beyond its document
    lifecycle    x-sunset, x-stability-level, x-extensible-enum (oasdiff's lifecycle extensions)
"""

from __future__ import annotations


def value(node, name: str, default=None):
    """`x-<name>` of a spec node: a dict, or an object with a `spec`/`raw` dict (Operation,
    Contract). For the modules of this package only."""
    if node is None:
        return default
    if not isinstance(node, dict):
        node = getattr(node, "spec", None) if hasattr(node, "spec") else getattr(node, "raw", None)
        if node is None:
            return default
    found = node.get(f"x-{name}")
    return default if found is None else found


from . import (  # noqa: E402
    access,
    capacity,
    credentials,
    dates,
    errors,
    filters,
    inferred,
    lifecycle,
    paging,
    rate_limit,
    related,
    resource,
    sorting,
    states,
    unique,
)

__all__ = ["access", "capacity", "credentials", "dates", "errors", "filters", "inferred", "lifecycle", "paging",
           "rate_limit", "related", "resource",
           "sorting", "states", "unique", "value"]
