"""`x-capacity`: a record's quantity that records of another collection take places of.

On a record schema's integer property (Amar's ticket type `capacity`): `{counts: tickets, by:
ticket_type_id, holding: holds_place, sold: sold, available: available}`. A record of `counts` whose
`by` field names this record, and whose `status` plays the `x-states` role `holding`, holds a place;
0 is no limit. A new or changed `counts` record that would take a place beyond the quantity is
refused (409), and so is a quantity below the places held; `sold` and `available` name the fields
computed on every read (never stored): the places held, and those left (null when unlimited)."""

from __future__ import annotations

from ..schema import properties, record_schema
from . import resource, states, value


def of(contract) -> dict[str, dict]:
    """{collection: its rule, with `field` (the quantity's property)} for every collection whose
    record schema (as an operation of its `x-resource` answers it) declares an `x-capacity`."""
    out: dict[str, dict] = {}
    for op in contract.operations.values():
        name = resource.collection(op)
        if name is None or name in out:
            continue
        for field, prop in properties(record_schema(op.response_schema())).items():
            rule = value(prop, "capacity") if isinstance(prop, dict) else None
            if rule:
                out[name] = {"field": field, **rule}
    return out


def holding(contract, rule: dict) -> list:
    """The status words of a `counts` record that hold a place (its `status`' `x-states` role)."""
    return states.words(contract, rule["counts"], rule["holding"])


def derived(rule: dict) -> tuple[str, ...]:
    """The fields computed when the record is shown (never stored)."""
    return tuple(rule[k] for k in ("sold", "available") if rule.get(k))
