"""Plain CRUD over the store, driven by each operation's `x-resource`, `x-filter`, `x-sort` and
`x-pagination`, the records' `x-ownership`, `x-timestamp`, `x-unique`, `x-refers-to` and
`x-stored-as`, and shaped by its response schema (what each extension means: apispec/ext).

One way to list (filter, sort, page), create, read, update and delete, for all five APIs: an API
module's own handler that lists or changes records does it through these actions (`call.resources`),
giving them the records it chose or the changes it computed.
"""

from __future__ import annotations

from apispec import ext
from apispec.ext.filters import matcher
from apispec.ext.sorting import sort_key
from apispec.model import Contract, Operation
from apispec.schema import object_parts, record_schema

from .capacity import Capacity
from .dates import check_order
from .errors import ApiError
from .related import Related
from .store import StoreApi, hashable


def singular(collection: str) -> str:
    word = collection.replace("_", " ")
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") else word


def not_found(collection: str, key, field: str = "id") -> ApiError:
    what = singular(collection)
    message = f"{what.capitalize()} {key} not found" if field == "id" else f"{field}: {what} {key} not found"
    return ApiError(404, message, field=field)


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
    """The body's fields the operation's request schema declares, in the words the record keeps
    (`x-stored-as`); others are ignored, as the real APIs ignore them (and a stray `createdAt: []`
    must not overwrite the record's)."""
    if not isinstance(body, dict):
        return {}
    schema = operation.body_schema()
    fields = project(schema, body)
    for name, words in ext.resource.stored_as(schema).items():
        if name in fields and fields[name] in words:
            fields[name] = words[fields[name]]
    return fields


def starting_values(operation: Operation, now: str) -> dict:
    """What a record the operation creates starts with, the same in every API: each field of the
    record its answer shows at its schema `default`, else null where the schema allows null, else the
    creation time where it is an `x-timestamp`; then the request body's defaults."""
    schema = record_schema(operation.response_schema())
    stamped = ext.resource.timestamps(schema)
    values = {}
    for field, prop in object_parts(schema)[0].items():
        if "default" in prop:
            values[field] = prop["default"]
        elif prop.get("nullable"):
            values[field] = None
        if field in stamped["created"] or field in stamped["updated"]:
            values[field] = now
    for field, prop in object_parts(operation.body_schema())[0].items():
        if "default" in prop:
            values[field] = prop["default"]
    return values


def unique_conflicts(store: StoreApi, name: str, schema: dict, values: dict, own_id=None) -> ApiError | None:
    """The refusal for the `x-unique` fields of `schema` whose value another record of `name` already
    holds (by the field's `x-unique` rule: its status and case), naming each; None when there is none.
    Hold `store.lock` from this check to the write, so two concurrent requests cannot both pass it."""
    taken, status = {}, None
    for field, prop in ext.unique.fields(schema).items():
        given = values.get(field)
        if given is None:
            continue
        rule = ext.unique.rule(prop)
        if rule.get("case") == "insensitive" or not hashable(given):
            clash = any(r.get("id") != own_id and ext.unique.same(rule, r.get(field), given) for r in store.all(name))
        else:
            found = store.find(name, **{field: given})
            clash = found is not None and (found.get("id") != own_id or _another(store, name, field, given, own_id))
        if clash:
            taken[field] = ext.unique.taken_message(prop, field, given)
            status = status or rule["status"]
    return ApiError(status, " ".join(taken.values()), fields=taken) if taken else None


def _another(store: StoreApi, name: str, field: str, given, own_id) -> bool:
    return any(r.get("id") != own_id and r.get(field) == given for r in store.all(name))


# --- filters and sorting (what x-filter and x-sort mean is in apispec.ext.filters) -------------

def resolver(store: StoreApi):
    """Follows a resource URL to the record it names (Tickets API relations are URLs)."""
    def resolve(url: str):
        parts = [p for p in url.rstrip("/").split("/") if p]
        return store.get(parts[-2], parts[-1]) if len(parts) >= 2 else None
    return resolve


def apply_filters(operation: Operation, records: list[dict], params: dict, store: StoreApi) -> list[dict]:
    """The records every given filter admits; `params` holds query parameters and body fields."""
    for name, rule in ext.filters.inputs(operation):
        value = params.get(name)
        if value not in (None, ""):
            keep = matcher(rule, value, resolver(store))
            records = [r for r in records if keep(r)]
    return records


def filtering(operation: Operation, params: dict) -> bool:
    return any(params.get(name) not in (None, "") for name, _ in ext.filters.inputs(operation))


def apply_sort(operation: Operation, records: list[dict], params: dict) -> list[dict]:
    by, order = ext.sorting.requested(operation, params)
    if by:
        records = sorted(records, key=lambda r: sort_key(r.get(by)), reverse=(order == "desc"))
    return records


# --- paging -------------------------------------------------------------------------------

def page_of(operation: Operation, records: list[dict], params: dict, request_url=None, show=public):
    """(body, headers) of one page of `records`, in the operation's pagination style, each record as
    `show` shows it."""
    paging = ext.paging.of(operation) or ext.paging.UNPAGED
    style = paging.get("style", "none")
    schema = operation.response_schema()
    items_at = paging.get("items", "$")
    headers = {}
    meta = {}
    if style == "none":
        page_items = [show(r) for r in records]
    else:
        page = int(params.get(paging.get("page", "page")) or 1)
        size = int(params.get(paging.get("size", "limit")) or _default(operation, paging.get("size")))
        total = len(records)
        pages = -(-total // size) if size else 0
        if paging.get("out_of_range") and page > max(pages, 1):
            # DRF style: a page past the last is an error, not an empty page (page 1 always exists)
            raise ApiError(int(paging["out_of_range"]), f"Invalid page: page {page} is past the last "
                                                       f"page, {max(pages, 1)}", field=paging.get("page", "page"))
        page_items = [show(r) for r in records[(page - 1) * size: page * size]]
        meta = ext.paging.meta_values(operation, page, size, total)
        if style == "link" and page < pages and request_url is not None:
            # the same request (filters, page size) for the next page
            url = request_url.include_query_params(**{paging.get("page", "page"): page + 1})
            headers["Link"] = f'<{url}>; rel="next"'
    if items_at == "$":
        return page_items, headers
    body = {items_at: page_items}
    if ext.paging.meta_object(operation):
        body[ext.paging.meta_object(operation)] = meta
    return shape(schema, body), headers


def _default(operation: Operation, name: str | None) -> int:
    for param in operation.parameters:
        if param["name"] == name:
            return int(param.get("schema", {}).get("default", 20))
    return 20


class TableView:
    """A collection in insertion order, sliced without copying it whole."""

    def __init__(self, store: StoreApi, name: str):
        self.store, self.name = store, name

    def __len__(self) -> int:
        return self.store.count(self.name)

    def __iter__(self):
        return iter(self.store.all(self.name))

    def __getitem__(self, window: slice) -> list[dict]:
        size = len(self)
        start, stop = min(window.start or 0, size), min(size if window.stop is None else window.stop, size)
        return self.store.window(self.name, start, stop) if start < stop else []


# --- the five actions ----------------------------------------------------------------------

def path_key(operation: Operation, params: dict):
    names = [p["name"] for p in operation.parameters if p.get("in") == "path"]
    return params.get(names[-1]) if names else None


class Resources:
    """Generic handlers for `x-resource` operations, over one store and the API's contract.

    `principal` (who is calling) matters where the spec says so: an operation with `scope` acts only
    on records the caller owns (`x-ownership`), a body field or parameter with `x-access` only for the
    key types it names."""

    def __init__(self, store: StoreApi, contract: Contract | None = None):
        self.store = store
        self.contract = contract
        self.capacity = Capacity(store, contract)
        self.related = Related(store, contract, self.capacity)

    # --- who may see and change what -------------------------------------------------------------
    def owner(self, collection: str, record: dict | None, depth: int = 0):
        """The account a record belongs to (`x-ownership`), or None."""
        link = ext.access.owner_link(self.contract, collection) if self.contract else None
        if link is None or record is None or depth > 8:
            return None
        if not link.get("in"):
            return record.get(link["field"])
        return self.owner(link["in"], self.store.get(link["in"], record.get(link["field"])), depth + 1)

    def sees_all(self, principal: dict | None) -> bool:
        return bool(principal) and principal.get("key_type") in ext.access.sees_all(self.contract)

    def owns(self, principal: dict | None, collection: str, record: dict) -> bool:
        return self.sees_all(principal) or (principal is not None and
                                            self.owner(collection, record) == principal.get("sub"))

    def ensure_owned(self, principal: dict | None, collection: str, record: dict, key=None) -> None:
        """403 unless the caller owns the record (or its key type sees all)."""
        if self.owns(principal, collection, record):
            return
        what = f"{singular(collection).capitalize()} {record.get('id', key)}"
        top = collection
        while (link := ext.access.owner_link(self.contract, top)) and link.get("in"):
            top = link["in"]
        article = "an" if singular(top)[:1] in "aeiou" else "a"
        verb = "is" if top == collection else "belongs to"
        raise ApiError(403, f"{what} {verb} {article} {singular(top)} you do not own")

    def owned(self, principal: dict | None, collection: str, records, everyone: bool = True) -> list[dict]:
        """Of `records`, the caller's (all of them for a key type that sees all, when `everyone`)."""
        if everyone and self.sees_all(principal):
            return list(records)
        me = (principal or {}).get("sub")
        return [r for r in records if me is not None and self.owner(collection, r) == me]

    def check_inputs(self, operation: Operation, principal: dict | None, params: dict, changes: dict) -> dict:
        """403 for a parameter the caller's key type may not pass (`x-access` on it); `changes` less the
        body fields it may not set (`x-access` with `otherwise: ignore`; else 403)."""
        kind = (principal or {}).get("key_type")
        for param in operation.parameters:
            admitted = ext.access.input_key_types(param)
            if admitted and params.get(param["name"]) is not None and kind not in admitted:
                raise ApiError(403, f"{param['name']}: a {kind} key cannot pass {param['name']} here (it needs "
                                    f"{' or '.join(admitted)})", field=param["name"])
        allowed = dict(changes)
        for name, prop in object_parts(operation.body_schema())[0].items():
            admitted = ext.access.input_key_types(prop)
            if admitted and name in allowed and kind not in admitted:
                if not ext.access.ignored_otherwise(prop):
                    raise ApiError(403, f"{name}: only {' or '.join(admitted)} may set it", field=name)
                allowed.pop(name)
        return allowed

    def check_references(self, operation: Operation, values: dict) -> None:
        """404 for a body field naming a record that does not exist (`x-refers-to`)."""
        for field, collection in ext.resource.references(operation.body_schema()).items():
            if values.get(field) is not None:
                self.get_or_404(collection, values[field], field)

    def parent_record(self, operation: Operation, params: dict, principal=None, key=None) -> dict | None:
        """The record whose parts the operation acts on (`x-resource.parent`), checked: 404 unless it
        exists, 403 unless the caller owns it where the operation has a `scope`."""
        parent = ext.resource.parent(operation)
        if parent is None:
            return None
        record = self.get_or_404(parent, path_key(operation, params) if key is None else key)
        if ext.resource.scope(operation):
            self.ensure_owned(principal, parent, record)
        return record

    def parts(self, collection: str, parent: str, parent_id) -> list[dict]:
        """The records of `collection` that are parts of a record of `parent` (`x-ownership`)."""
        link = ext.access.owner_link(self.contract, collection) or {}
        return [r for r in self.store.all(collection) if r.get(link.get("field")) == parent_id]

    # --- the actions ---------------------------------------------------------------------------
    def list(self, operation: Operation, params: dict, request=None, records=None, principal=None):
        name = operation.resource["name"] if operation.resource else None
        self.check_inputs(operation, principal, params, {})
        for field, collection in ext.resource.parameter_references(operation).items():
            if params.get(field) is not None:
                self.get_or_404(collection, params[field], field)
        scope, where = ext.resource.scope(operation), ext.resource.where(operation)
        parent = self.parent_record(operation, params, principal)
        if records is None and parent is not None:
            records = self.parts(name, ext.resource.parent(operation), parent["id"])
        if records is None and not (scope or where or filtering(operation, params)
                                    or ext.sorting.requested(operation, params)[0]):
            records = TableView(self.store, name)  # a page costs its size, not the store's
        else:
            records = self.store.all(name) if records is None else list(records)
            if scope:
                records = self.owned(principal, name, records, everyone=scope == "owned")
            records = [r for r in records if all(r.get(k) == v for k, v in where.items())]
            records = apply_filters(operation, records, params, self.store)
            records = apply_sort(operation, records, params)
        body, headers = page_of(operation, records, params, getattr(request, "url", None),
                                show=lambda r: public(self.capacity.view(name, r)))  # with availability
        return body, 200, headers

    def create(self, operation: Operation, body: dict, extra: dict | None = None, principal=None):
        record = self.new(operation, body, extra, principal)
        record = self.capacity.view(operation.resource["name"], record)
        return shape(operation.response_schema(), public(record)), operation.success_status()

    def new(self, operation: Operation, body: dict, extra: dict | None = None, principal=None,
            leave_out: tuple[str, ...] = ()) -> dict:
        """The record `operation` creates from `body` (its declared fields), stored: its starting values,
        the body's fields, then `extra`; without the `leave_out` fields (computed when shown). Refused
        for a reference to no record (404), a unique value taken (`x-unique`), and, where the operation
        has a `scope`, a record the caller would not own (403: an event of another's organization)."""
        name = operation.resource["name"]
        fields = self.check_inputs(operation, principal, {}, accepted(operation, body))
        with self.store.lock:  # checks and insert in one step: a unique value is never taken twice
            self.check_references(operation, fields)
            link = ext.access.owner_link(self.contract, name) if self.contract else None
            if ext.resource.scope(operation) and link and link.get("in"):
                field = link["field"]
                self.ensure_owned(principal, link["in"], self.get_or_404(link["in"], fields.get(field), field))
            record = {**starting_values(operation, self.store.clock.now_iso()), **fields, **(extra or {})}
            for name_ in (*leave_out, *self.capacity.derived(name)):
                record.pop(name_, None)
            self.check_order(operation, record)
            self.capacity.check(name, record)
            self.ensure_unique(operation, name, record)
            return self.store.insert(name, record)

    def read(self, operation: Operation, params: dict, principal=None, key=None, name: str | None = None):
        """The record the path names (or `key`, of `name`), shown with its availability (`x-capacity`)
        and the records it embeds or counts (`x-embed`, `x-count`)."""
        name = name or operation.resource["name"]
        key = path_key(operation, params) if key is None else key
        record = self.get_or_404(name, key)
        if ext.resource.scope(operation):
            self.ensure_owned(principal, name, record, key)
        shown = self.related.view(operation, self.capacity.view(name, record))
        return shape(operation.response_schema(), public(shown)), 200

    def update(self, operation: Operation, params: dict, body: dict, extra: dict | None = None, principal=None):
        name, key = operation.resource["name"], path_key(operation, params)
        with self.store.lock:
            record = self.get_or_404(name, key)
            if ext.resource.scope(operation):
                self.ensure_owned(principal, name, record, key)
            changes = {**self.check_inputs(operation, principal, {}, accepted(operation, body)), **(extra or {})}
            self.check_order(operation, {**record, **changes}, changed=changes)
            self.capacity.check(name, {**record, **changes}, before=record)
            self.check_references(operation, changes)
            self.ensure_unique(operation, name, changes, own_id=key)
            for stamp in ext.resource.timestamps(record_schema(operation.response_schema()))["updated"]:
                changes[stamp] = self.store.clock.now_iso()
            record = self.capacity.view(name, self.store.update(name, key, changes))
        return shape(operation.response_schema(), public(record)), operation.success_status()

    def delete(self, operation: Operation, params: dict, principal=None):
        name, key = operation.resource["name"], path_key(operation, params)
        with self.store.lock:
            record = self.get_or_404(name, key)
            if ext.resource.scope(operation):
                self.ensure_owned(principal, name, record, key)
            self.related.check_delete(operation, name, record)
            self.remove(name, key)
            self.related.after_delete(operation, record)
        return deleted(operation, name, key)

    def remove(self, name: str, key) -> None:
        """A record and, first, the records deleted with it (`x-ownership` `deleted_with`)."""
        with self.store.lock:
            for part, field in ext.access.parts_of(self.contract, name) if self.contract else ():
                for record in [r for r in self.store.all(part) if r.get(field) == key]:
                    self.remove(part, record["id"])
            self.store.delete(name, key)

    def check_order(self, operation: Operation, record: dict, changed=None) -> None:
        """The refusal when `record` (as the operation would keep it) breaks a date order of its schema
        (`x-before`, `x-after`); `changed`: the fields an update sends (None: a new record)."""
        check_order(record_schema(operation.response_schema()), record, self.store.clock.today(),
                    self.store.get, changed)

    def get_or_404(self, name: str, key, field: str = "id"):
        record = self.store.get(name, key)
        if record is None:
            raise not_found(name, key, field)
        return record

    def ensure_unique(self, operation: Operation, name: str, values: dict, own_id=None) -> None:
        """The refusal (`x-unique`'s status) when a unique field of the operation's body is taken."""
        refusal = unique_conflicts(self.store, name, operation.body_schema(), values, own_id)
        if refusal is not None:
            raise refusal


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
