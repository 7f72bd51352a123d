"""Judgments of one exchange (an operation, the answer's status, headers and body) that both the
contract suite (contract_tests/rules) and the validating proxy (mockserver/proxy.py) make: one
meaning, here, in the kernel both may import, over a neutral `Exchange` rather than either one's
request and response types. Each returns what is wrong, as messages (empty: nothing is).

- the API's own error body: `shape_errors` (an answer against an `x-error-body` template) and
  `error_body_errors` (against every body the API gives for the status);
- the rate-limit headers on an authenticated answer (`rate_limit_header_errors`);
- a page of a list (`x-pagination`): within the size asked (`page_within_limit_errors`), its
  metadata agreeing with the data (`page_metadata_errors`; following a `Link` is the suite's);
- a filtered list holding only matching items (`filter_errors`, `x-filter`) and a list in the
  order asked for (`sort_errors`, `x-sort`).

The list rules judge the answer to a valid request (the suite's `judged`; the proxy's requests
with no `request_conformance` violation). Those that may find nothing to judge answer None then.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping

import jsonschema

from . import ext
from .model import Contract, Operation
from .schema import properties, to_json_schema

NOT_JSON = object()  # the body was text that is not JSON


@dataclasses.dataclass
class Exchange:
    """One answer to one operation: `headers` with lower-case names, `body` the parsed JSON (None when
    empty, NOT_JSON when it is not JSON)."""

    operation: Operation
    status: int
    headers: Mapping[str, str]
    body: object = None
    text: str = ""
    inputs: dict = dataclasses.field(default_factory=dict)  # the request's query and body fields, by name

    @classmethod
    def of(cls, operation: Operation, status: int, headers, text: str, inputs: dict | None = None) -> Exchange:
        try:
            body = json.loads(text) if text.strip() else None
        except ValueError:
            body = NOT_JSON
        return cls(operation, status, {k.lower(): v for k, v in dict(headers).items()}, body, text,
                   dict(inputs or {}))

    def requested(self, name: str | None) -> int | None:
        """The number the request asked for in input `name` (else the parameter's default)."""
        value = self.inputs.get(name)
        if value is None:
            value = next((p.get("schema", {}).get("default") for p in self.operation.parameters
                          if p["name"] == name), None)
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None


def shape_errors(template, body, path="body") -> list[str]:
    """How `body` differs from the API's error-body template (placeholders accept any text)."""
    if isinstance(template, dict):
        if not isinstance(body, dict):
            return [f"{path} should be an object, got {type(body).__name__}"]
        fixed = {k: v for k, v in template.items() if not (k.startswith("{") and k.endswith("}"))}
        errors = [f"{path}.{k} missing" for k in fixed if k not in body]
        for key, sub in fixed.items():
            if key in body:
                errors += shape_errors(sub, body[key], f"{path}.{key}")
        if len(fixed) == len(template):
            pass  # further fields are allowed: a template names what an error body must hold (specs/README.md)
        else:
            free = next(v for k, v in template.items() if k not in fixed)
            for key in (k for k in body if k not in fixed):
                errors += shape_errors(free, body[key], f"{path}.{key}")
        return errors
    if isinstance(template, list):
        if not isinstance(body, list) or not body:
            return [f"{path} should be a non-empty list"]
        return [e for item in body for e in shape_errors(template[0], item, f"{path}[]")]
    if isinstance(template, str) and template.startswith("{") and template.endswith("}"):
        return [] if isinstance(body, str) and body else [f"{path} should be a message, got {body!r}"]
    return [] if body == template else [f"{path} should be {template!r}, got {body!r}"]


def error_body_errors(contract: Contract, exchange: Exchange) -> list[str]:
    """How an error answer differs from every body the API gives for its status (empty: it is one
    of them). The `x-error-body` template is one; each alternative the operation's documented
    response schema offers (`anyOf`/`oneOf`) is another. Raises LookupError without a template."""
    op, status = exchange.operation, exchange.status
    template = contract.error_template(status, op)
    body = exchange.body
    if body is NOT_JSON or (body is None and exchange.text.strip() not in ("", "null")):
        return [f"body is not JSON ({exchange.headers.get('content-type') or 'no content type'})"]
    errors = shape_errors(template, body)
    if not errors:
        return []
    for schema in _alternatives(op.response_schema(status) if op.response(status) else {}):
        if not _shape_errors_by_schema(schema, body):
            return []
    return errors


def _alternatives(schema: dict) -> list[dict]:
    """The bodies a documented response schema admits when it offers a choice."""
    choices = (schema or {}).get("anyOf") or (schema or {}).get("oneOf")
    return [c for c in (choices or []) if isinstance(c, dict)]


def _shape_errors_by_schema(schema: dict, body) -> list[str]:
    """How `body` differs from one documented error body: invalid against its schema, or holding
    fields it does not declare (an error body is judged as strictly as a template)."""
    validator = jsonschema.Draft4Validator(to_json_schema(schema))
    errors = [e.message for e in validator.iter_errors(body)]
    props = properties(schema)
    if isinstance(body, dict) and props and schema.get("additionalProperties") in (None, False):
        errors += [f"body.{k} is not part of this error body" for k in body if k not in props]
    return errors


def rate_limit_applies(contract: Contract, exchange: Exchange) -> bool:
    """Whether the answer should carry the rate-limit headers: the API states a limit, the operation
    takes credentials, and the answer is not a 401."""
    return bool(ext.rate_limit.of(contract)) and bool(exchange.operation.spec.get("security")) \
        and exchange.status != 401


def rate_limit_header_errors(contract: Contract, exchange: Exchange) -> list[str]:
    """The documented rate-limit headers (`x-rate-limit`) missing from an authenticated answer
    (a 401 is not one), and a 429's missing `Retry-After` where the document promises it."""
    if not rate_limit_applies(contract, exchange):
        return []
    config = ext.rate_limit.of(contract)
    names = [v for v in (config.get("headers") or {}).values() if v]
    missing = [v for v in names if v.lower() not in exchange.headers]
    errors = [f"{exchange.status} response lacks rate-limit headers: {', '.join(missing)}"] if missing else []
    if exchange.status == 429 and config.get("retry_after") and "retry-after" not in exchange.headers:
        errors.append("429 without Retry-After")
    return errors


def rate_limit_header_names(contract: Contract) -> dict:
    """{role: header name} of the documented rate-limit headers (`limit`, `remaining`, `reset`)."""
    config = ext.rate_limit.of(contract) or {}
    return {k: v for k, v in (config.get("headers") or {}).items() if v}


def paging_of(exchange: Exchange) -> dict | None:
    """The operation's `x-pagination` when a page rule judges the answer (a paged list, a 2xx)."""
    paging = ext.paging.of(exchange.operation)
    if not paging or paging.get("style", "none") == "none" or not 200 <= exchange.status < 300:
        return None
    return paging


def items_of(op: Operation, body):
    """The records of a list answer (`x-pagination`'s `items`: `$` for a bare array), or None."""
    paging = ext.paging.of(op) or {}
    where = paging.get("items", "$")
    if where == "$":
        return body if isinstance(body, list) else None
    if isinstance(body, dict) and isinstance(body.get(where), list):
        return body[where]
    return None


def page_within_limit_errors(exchange: Exchange) -> list[str]:
    """A page never holds more items than the page size asked for (or the default)."""
    paging = paging_of(exchange)
    if paging is None:
        return []
    items = items_of(exchange.operation, exchange.body)
    size = exchange.requested(paging.get("size"))
    if items is None or size is None or len(items) <= size:
        return []
    return [f"Expected at most {size} items ({paging.get('size')}={size}); got {len(items)}"]


def page_metadata_errors(exchange: Exchange) -> list[str]:
    """How page metadata disagrees with the data: page, size, totals, page counts, next/previous
    flags (by the names the operation's `x-pagination.meta` gives them), or a link-paged page
    holding more than its size. Following `Link rel="next"` is a second request: the suite's
    (contract_tests/rules/paging.py)."""
    paging = paging_of(exchange)
    if paging is None:
        return []
    body = exchange.body
    items = items_of(exchange.operation, body)
    if items is None:
        return []
    page = exchange.requested(paging.get("page")) or 1
    size = exchange.requested(paging.get("size"))
    if paging["style"] == "link":
        if 'rel="next"' not in link_header(exchange) and size and len(items) > size:
            return [f"page holds {len(items)} items, more than page size {size}"]
        return []
    meta = ext.paging.meta_in_body(exchange.operation, body)
    if meta is None:
        return ["list response carries no pagination metadata object"]
    names = ext.paging.meta_names(exchange.operation)
    problems = []
    total = meta.get(names.get("total"))
    for meaning, asked in (("page", page), ("limit", size)):
        name = names.get(meaning)
        if asked is not None and name and meta.get(name) is not None and meta[name] != asked:
            problems.append(f"{name} is {meta[name]}, requested {asked}")
    if isinstance(total, int) and size:
        expected_count = max(0, min(size, total - (page - 1) * size))
        if len(items) != expected_count:
            problems.append(f"total {total} with page {page} of size {size} means {expected_count} "
                            f"items, got {len(items)}")
        pages = math.ceil(total / size)
        expected = ext.paging.meta_values(exchange.operation, page, size, total)
        for meaning, why in (("pages", f", expected ceil({total}/{size}) = {pages}"),
                             ("has_next", f" on page {page} of {pages}"), ("has_prev", f" on page {page}")):
            name = names.get(meaning)
            if name in meta and meta[name] != expected[name]:
                problems.append(f"{name} is {meta[name]}{why}")
    return ["Pagination metadata disagrees with the data: " + "; ".join(problems)] if problems else []


def link_header(exchange: Exchange) -> str:
    value = exchange.headers.get("link", "")
    return ",".join(value) if isinstance(value, list) else value


def filter_errors(exchange: Exchange) -> list[str] | None:
    """Filters and search return only matching items: how the items break the filters asked for
    (their first breach); None when no item showed a filtered field (nothing was judged)."""
    if not 200 <= exchange.status < 300:
        return None
    op, inputs = exchange.operation, exchange.inputs
    items = items_of(op, exchange.body)
    asked = [(name, rule) for name, rule in ext.filters.inputs(op)
             if inputs.get(name) not in (None, "") and not isinstance(inputs.get(name), (dict, list))
             and ext.filters.can_check(rule)]
    if not items or not asked:
        return None
    seen = False
    for name, rule in asked:
        value = inputs[name]
        fields = [rule.get("field")] if rule.get("field") else rule.get("fields", [])
        for item in items:
            if not isinstance(item, dict) or any(ext.filters.field_value(item, f) is None for f in fields if f):
                continue  # the list item does not show the field; cannot judge it
            seen = True
            if not ext.filters.matches(rule, item, value):
                shown = {f: ext.filters.field_value(item, f) for f in fields}
                return [f"{name}={value!r} should return only matching items ({rule}); "
                        f"item {item.get('id', '')} has {shown}"]
    return [] if seen else None


def sort_errors(exchange: Exchange) -> list[str] | None:
    """A list is in the order the `x-sort` parameters ask for; None when nothing was asked or listed."""
    if not 200 <= exchange.status < 300:
        return None
    op = exchange.operation
    by, order = ext.sorting.requested(op, exchange.inputs)
    items = items_of(op, exchange.body)
    if not isinstance(by, str) or not by or not items:
        # `by` names a field: a list or an object (a request the spec does not admit) names none
        return None
    keys = [ext.sorting.sort_key(i.get(by)) for i in items if isinstance(i, dict) and i.get(by) is not None]
    if keys != sorted(keys, reverse=(order == "desc")):
        shown = [i.get(by) for i in items if isinstance(i, dict)]
        return [f"items should be sorted by {by} {order or 'asc'}; got {shown}"]
    return []
