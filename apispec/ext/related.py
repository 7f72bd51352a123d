"""The related-records family: fields a record is shown with, and rules its deletion keeps, that
come from the records of another collection naming it.

A selection names those records: `{collection, by, match?, case?, where?, through?}`: the records of
`collection` whose `by` field holds this record's `match` field (default `id`; `case: insensitive`
compares text ignoring case: a ticket's `email`), that have every `where` value; with `through:
{collection, by}`, `by` names not this record but one of the `through` records that name it (a user's
events: those of the organizations whose `user_id` is the user's).

    x-embed    on a response record's property: the selected records, shown as their own reads show
               them (an `x-capacity` record with its availability); `sort: {by, order}` orders them,
               `one: true` shows the first (or null) instead of a list
    x-count    on a response record's integer property (or one of an object property's): how many
               records the selection holds
    x-delete   on a delete operation: `refuse_while: {<a selection>, state: <x-states role>, status}`,
               the delete is refused (default 409) while records of the selection have a status playing
               the role; `on_delete: {<a selection>, set: {field: value}}`, the selected records left
               with those values once it is deleted (its tickets without a ticket type)
"""

from __future__ import annotations

from ..schema import object_parts, properties, record_schema
from . import value


def embeds(schema) -> dict[str, dict]:
    """{property: its selection} of the `x-embed` marks of a response record schema."""
    return {name: value(prop, "embed") for name, prop in properties(schema or {}).items()
            if isinstance(prop, dict) and value(prop, "embed")}


def counts(schema) -> dict[str, dict]:
    """{property: selection} of the `x-count` marks of a response record schema; an object property whose
    own properties are counted maps to {its property: selection} (Amar's profile `stats`)."""
    out: dict = {}
    for name, prop in properties(schema or {}).items():
        if not isinstance(prop, dict):
            continue
        if value(prop, "count"):
            out[name] = value(prop, "count")
        elif object_parts(prop)[0] and counts(prop):
            out[name] = counts(prop)
    return out


def shown(operation) -> tuple[dict, dict]:
    """(embeds, counts) of the record the operation answers with."""
    schema = record_schema(operation.response_schema())
    return embeds(schema), counts(schema)


def delete_rule(operation) -> dict:
    """The operation's `x-delete`: `{refuse_while?, on_delete?}`; empty when it has none."""
    return dict(value(operation, "delete") or {})


def select(rule: dict, owner: dict, records_of) -> list[dict]:
    """The records the selection `rule` names for the record `owner`; `records_of(collection)` gives a
    collection's records, in the order they are kept."""
    if rule.get("through"):
        via = rule["through"]
        wanted = {_key(rule, r.get("id")) for r in records_of(via["collection"])
                  if _key(via, r.get(via["by"])) == _key(via, owner.get(via.get("match", "id")))}
    else:
        wanted = {_key(rule, owner.get(rule.get("match", "id")))}
    where = rule.get("where") or {}
    return [r for r in records_of(rule["collection"])
            if _key(rule, r.get(rule["by"])) in wanted and all(r.get(k) == v for k, v in where.items())]


def sort_order(rule: dict) -> tuple[str | None, bool]:
    """(field, descending) of an `x-embed`'s `sort`; (None, False) when unsorted."""
    order = rule.get("sort") or {}
    return order.get("by"), order.get("order") == "desc"


def _key(rule: dict, text):
    """A value as the selection compares it (`case: insensitive`: text in lower case)."""
    return text.lower() if rule.get("case") == "insensitive" and isinstance(text, str) else text
