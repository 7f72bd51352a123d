"""Filters and sorting (`x-filter`, `x-sort`, as apispec.ext reads them): a filtered list holds
only matching records and leaves none out; a list is in the order asked for."""

from __future__ import annotations

from apispec import exchange, ext
from apispec.ext.filters import can_check, field_value, matches
from apispec.model import Operation

from ..context import Run
from .helpers import (
    answer_json,
    attempt,
    exchange_of,
    fail,
    fetch_list,
    inputs_of,
    items_of,
    judged,
    operation_for,
    record_key,
    rule,
    settle,
    valid_success,
)


@rule
def filters_honoured(ctx, response, case):
    """Filters and search return only matching items (apispec.exchange, shared with the proxy)."""
    run, op = judged(case)
    if not op:
        return True
    errors = exchange.filter_errors(exchange_of(op, response, case))
    if errors:
        fail(errors[0])
    return None if errors is not None else True  # None from the kernel: nothing was judged


@rule
def sorted_as_requested(ctx, response, case):
    """Lists are in the order `x-sort` parameters ask for (apispec.exchange, shared with the proxy)."""
    run, op = judged(case)
    if not op:
        return True
    errors = exchange.sort_errors(exchange_of(op, response, case))
    if errors:
        fail(errors[0])
    return None if errors is not None else True


def _required_inputs(op: Operation) -> set[str]:
    names = {p["name"] for p in op.parameters if p.get("required") and p.get("in") == "query"}
    return names | set(op.body_schema().get("required") or [])


def _unfiltered_source(run: Run, op: Operation, case, filters: list[str]):
    """(operation, path, query, body) listing the same records with no filter: the same request
    without its filters, or (when the operation requires a filter, as Eventify's events-by-date
    does) another list of the same collection that requires none."""
    credential_fields = set(run.credentials.default.body)
    query = {k: v for k, v in (case.query or {}).items() if k not in filters}
    body = ({k: v for k, v in case.body.items() if k not in filters and k not in credential_fields}
            if isinstance(case.body, dict) else None)
    if not set(filters) & _required_inputs(op):
        return op, case.formatted_path, query, body
    name = (op.resource or {}).get("name")
    for other in run.contract.operations.values():
        if (other is op or other.resource != {"name": name, "action": "list"} or "{" in other.path
                or ext.credentials.body_auth(other) != ext.credentials.body_auth(op)):
            continue
        needed = _required_inputs(other) - credential_fields
        if not needed:
            return other, other.path, {}, ({} if other.body_schema() else None)
    return None


@rule
def filters_complete(ctx, response, case):
    """A filter leaves nothing out: every record of the unfiltered list that matches the filter's
    meaning (`x-filter`, as `apispec.ext.filters.matches` reads it) is in the filtered answer. Judged within
    FILTER_PAGES pages of the largest page size; an unfiltered list longer than that is judged
    on what was fetched, and only when the filtered answer was fetched whole."""
    run, op = operation_for(case)
    if not valid_success(case, response, op) or items_of(op, answer_json(response)) is None:
        return True
    inputs = inputs_of(case)
    rules = list(ext.filters.inputs(op))
    filters = [name for name, _ in rules]
    present = [(name, r) for name, r in rules
               if inputs.get(name) not in (None, "") and not isinstance(inputs.get(name), (dict, list))
               and can_check(r) and not (r.get("all") is not None and str(inputs[name]) == str(r["all"]))]
    judged = False
    for name, filter_rule in present:
        key = ("filters-complete", op.operation_id, name)
        if not attempt(run, *key):
            continue
        source = _unfiltered_source(run, op, case, filters)
        if source is None:
            settle(run, *key)
            continue
        value = inputs[name]
        every, _ = fetch_list(run, *source)
        base_query = {k: v for k, v in (case.query or {}).items() if k not in filters}
        base_body = ({k: v for k, v in case.body.items() if k not in filters or k == name}
                     if isinstance(case.body, dict) else None)
        if base_body is not None:
            base_body = {k: v for k, v in base_body.items() if k not in run.credentials.default.body}
        if name in (case.query or {}):
            base_query[name] = case.query[name]
        filtered, complete = fetch_list(run, op, case.formatted_path, base_query, base_body)
        if every is None or filtered is None or not complete:
            continue
        fields = [filter_rule["field"]] if filter_rule.get("field") else list(filter_rule.get("fields", []))
        shown = [item for item in every if isinstance(item, dict) and (
            filter_rule.get("op") == "search" or all(field_value(item, f) is not None for f in fields))]
        wanted = [item for item in shown if matches(filter_rule, item, value)]
        if not wanted:
            continue  # nothing to miss: another case may judge this filter
        settle(run, *key)
        judged = True
        have = {record_key(item) for item in filtered}
        missing = [item for item in wanted if record_key(item) not in have]
        if missing:
            ids = ", ".join(str(record_key(item)[1])[:60] for item in missing[:5])
            fail(f"{name}={value!r} left out {len(missing)} of the {len(wanted)} matching records of the "
                 f"unfiltered list ({filter_rule}): {ids}")
    return None if judged else True
