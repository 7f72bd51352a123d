"""Plain CRUD over the store, driven by each operation's `x-resource`, `x-filter`, `x-sort`
and `x-pagination`, and shaped by its response schema.

One way to list, page, filter, sort, create, read, update and delete, for all five APIs.
"""

from __future__ import annotations

import itertools
import math

from apispec import ext
from apispec.ext.filters import matcher
from apispec.ext.sorting import sort_key
from apispec.model import Operation
from apispec.schema import object_parts

from .errors import ApiError
from .store import Store


def singular(collection: str) -> str:
    word = collection.replace("_", " ")
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") else word


def not_found(collection: str, key) -> ApiError:
    return ApiError(404, f"{singular(collection).capitalize()} {key} not found", field="id")


# --- shaping ------------------------------------------------------------------------------

def project(schema: dict, record: dict) -> dict:
    """Only the fields `schema` declares: a record shown the way one response shows it."""
    props, _ = object_parts(schema)
    return {k: v for k, v in record.items() if k in props}


def _constants(schema: dict) -> dict:
    """Properties the schema pins to one value (`success: true`, `status: success`)."""
    out = {}
    props, required = object_parts(schema)
    for name, prop in props.items():
        enum = prop.get("enum")
        if enum and len(enum) == 1 and name in required:
            out[name] = enum[0]
    return out


def shape(schema: dict, payload):
    """Put a record (or message payload) into the operation's response schema.

    A schema that wraps its object in `data` (Amar's envelope) gets it wrapped; pinned
    constants (`success: true`) are filled in.
    """
    props = schema.get("properties") or {}
    if "data" in props and not (isinstance(payload, dict) and "data" in payload) and "id" not in props:
        payload = {"data": payload}
    if isinstance(payload, dict):
        payload = {**_constants(schema), **payload}
    return payload


def public(record: dict) -> dict:
    """A record without the store's private fields (those starting with an underscore)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def accepted(operation: Operation, body) -> dict:
    """The body's fields the operation's request schema declares; others are ignored, as the
    real APIs ignore them (and a stray `createdAt: []` must not overwrite the record's)."""
    if not isinstance(body, dict):
        return {}
    return project(operation.body_schema(), body)


def unique_conflicts(store: Store, name: str, schema: dict, record: dict) -> dict[str, str]:
    """{field: message} for each `x-unique` property of `schema` whose value a record of `name`
    already holds; the message is the spec's `x-messages.unique`. Hold `store.lock` from this
    check to the insert, so two concurrent requests cannot both pass it."""
    taken = {}
    for field, prop in (schema.get("properties") or {}).items():
        value = record.get(field)
        if prop.get("x-unique") and value is not None and store.find(name, **{field: value}):
            taken[field] = (prop.get("x-messages") or {}).get("unique") or f"{field} {value!r} is already taken"
    return taken


# --- filters and sorting (what x-filter and x-sort mean is in apispec.ext.filters) -------------

def resolver(store: Store):
    """Follows a resource URL to the record it names (Tickets API relations are URLs)."""
    def resolve(url: str):
        parts = [p for p in url.rstrip("/").split("/") if p]
        return store.get(parts[-2], parts[-1]) if len(parts) >= 2 else None
    return resolve


def filter_rules(operation: Operation):
    """(input name, rule) of each `x-filter`: on query parameters and on request-body properties."""
    for param in operation.parameters:
        rule = param.get("x-filter") or param.get("schema", {}).get("x-filter")
        if rule:
            yield param["name"], rule
    for name, prop in (operation.body_schema().get("properties") or {}).items():
        if prop.get("x-filter"):
            yield name, prop["x-filter"]


def apply_filters(operation: Operation, records: list[dict], params: dict, store: Store) -> list[dict]:
    """The records every given filter admits; `params` holds query parameters and body fields."""
    for name, rule in filter_rules(operation):
        value = params.get(name)
        if value not in (None, ""):
            keep = matcher(rule, value, resolver(store))
            records = [r for r in records if keep(r)]
    return records


def filtering(operation: Operation, params: dict) -> bool:
    return any(params.get(name) not in (None, "") for name, _ in filter_rules(operation))


def sort_order(operation: Operation, params: dict) -> tuple[str | None, str | None]:
    """(field, asc|desc) the `x-sort` parameters ask for, defaults included."""
    by = order = None
    for param in operation.parameters:
        role = param.get("x-sort")
        value = params.get(param["name"], param.get("schema", {}).get("default"))
        if role == "by":
            by = value
        elif role == "order":
            order = value
    return by, order


def apply_sort(operation: Operation, records: list[dict], params: dict) -> list[dict]:
    by, order = sort_order(operation, params)
    if by:
        records = sorted(records, key=lambda r: sort_key(r.get(by)), reverse=(order == "desc"))
    return records


# --- paging -------------------------------------------------------------------------------

def page_of(operation: Operation, records: list[dict], params: dict, request_url=None):
    """(body, headers) of one page of `records`, in the operation's pagination style."""
    paging = ext.paging.of(operation) or {"style": "none", "items": "$"}
    style = paging.get("style", "none")
    schema = operation.response_schema()
    items_at = paging.get("items", "$")
    headers = {}
    if style == "none":
        page_items, meta = [public(r) for r in records], {}
    else:
        page = int(params.get(paging.get("page", "page")) or 1)
        size = int(params.get(paging.get("size", "limit")) or _default(operation, paging.get("size")))
        total = len(records)
        pages = math.ceil(total / size) if size else 0
        if paging.get("out_of_range") and page > max(pages, 1):
            # DRF style: a page past the last is an error, not an empty page (page 1 always exists)
            raise ApiError(int(paging["out_of_range"]), f"Invalid page: page {page} is past the last "
                                                       f"page, {max(pages, 1)}", field=paging.get("page", "page"))
        page_items = [public(r) for r in records[(page - 1) * size: page * size]]
        meta = {"page": page, "limit": size, "total": total, "pages": pages, "totalPages": pages,
                "hasNext": page < pages, "hasPrev": page > 1}
        if style == "link" and page < pages and request_url is not None:
            # the same request (filters, page size) for the next page
            url = request_url.include_query_params(**{paging.get("page", "page"): page + 1})
            headers["Link"] = f'<{url}>; rel="next"'
    if items_at == "$":
        return page_items, headers
    body = {items_at: page_items}
    for name, prop in (schema.get("properties") or {}).items():
        if name != items_at and prop.get("type") == "object" and style != "none":
            declared = prop.get("properties") or {}
            body[name] = {k: v for k, v in meta.items() if k in declared}
    return shape(schema, body), headers


def _default(operation: Operation, name: str | None) -> int:
    for param in operation.parameters:
        if param["name"] == name:
            return int(param.get("schema", {}).get("default", 20))
    return 20


class TableView:
    """A collection in insertion order, sliced without copying it whole."""

    def __init__(self, store: Store, name: str):
        self.store, self.table = store, store.table(name)

    def __len__(self) -> int:
        return len(self.table)

    def __iter__(self):
        with self.store.lock:
            return iter(list(self.table.values()))

    def __getitem__(self, window: slice) -> list[dict]:
        size = len(self.table)
        start, stop = min(window.start or 0, size), min(size if window.stop is None else window.stop, size)
        with self.store.lock:
            return list(itertools.islice(self.table.values(), start, stop))


# --- the five actions ----------------------------------------------------------------------

def path_key(operation: Operation, params: dict):
    names = [p["name"] for p in operation.parameters if p.get("in") == "path"]
    return params.get(names[-1]) if names else None


class Resources:
    """Generic handlers for `x-resource` operations, over one store."""

    def __init__(self, store: Store):
        self.store = store

    def list(self, operation: Operation, params: dict, request=None, records=None):
        name = operation.resource["name"]
        if records is None and not filtering(operation, params) and not sort_order(operation, params)[0]:
            records = TableView(self.store, name)  # a page costs its size, not the store's
        else:
            records = self.store.all(name) if records is None else records
            records = apply_filters(operation, records, params, self.store)
            records = apply_sort(operation, records, params)
        body, headers = page_of(operation, records, params, getattr(request, "url", None))
        return body, 200, headers

    def create(self, operation: Operation, body: dict, extra: dict | None = None):
        name = operation.resource["name"]
        record = {**self._defaults(operation), **accepted(operation, body), **(extra or {})}
        record = self.store.insert(name, record)
        return shape(operation.response_schema(), public(record)), operation.success_status()

    def read(self, operation: Operation, params: dict):
        record = self.get_or_404(operation.resource["name"], path_key(operation, params))
        return shape(operation.response_schema(), public(record)), 200

    def update(self, operation: Operation, params: dict, body: dict, extra: dict | None = None):
        name, key = operation.resource["name"], path_key(operation, params)
        with self.store.lock:
            self.get_or_404(name, key)
            changes = {**accepted(operation, body), **(extra or {})}
            for stamp in ("updatedAt", "updated_at"):
                if stamp in self.store.get(name, key):
                    changes[stamp] = self.store.clock.now_iso()
            record = self.store.update(name, key, changes)
        return shape(operation.response_schema(), public(record)), operation.success_status()

    def delete(self, operation: Operation, params: dict):
        name, key = operation.resource["name"], path_key(operation, params)
        if self.store.delete(name, key) is None:
            raise not_found(name, key)
        return deleted(operation, name, key)

    def get_or_404(self, name: str, key):
        record = self.store.get(name, key)
        if record is None:
            raise not_found(name, key)
        return record

    def _defaults(self, operation: Operation) -> dict:
        """Starting values of a new record: schema defaults and creation timestamps."""
        schema = operation.response_schema()
        props = (schema.get("properties") or {})
        if "data" in props and "id" not in props:
            props = props["data"].get("properties") or {}
        values = {}
        for field, prop in props.items():
            if "default" in prop:
                values[field] = prop["default"]
            elif prop.get("format") == "date-time" and field in ("created_at", "createdAt",
                                                                   "updated_at", "updatedAt"):
                values[field] = self.store.clock.now_iso()
        for field, prop in (operation.body_schema().get("properties") or {}).items():
            if "default" in prop:
                values[field] = prop["default"]
        return values


def deleted(operation: Operation, name: str, key):
    """The answer to a delete: no body, or the message the schema describes."""
    status = operation.success_status()
    if status == 204:
        return None, 204
    schema = operation.response_schema()
    example = operation.response_example() or {}
    message = example.get("message") if isinstance(example, dict) else None
    candidates = {"success": True, "message": message or f"{singular(name).capitalize()} deleted",
                  "deletedId": key, "id": key}
    declared = schema.get("properties") or {}
    return shape(schema, {k: v for k, v in candidates.items() if k in declared}), status
