"""Our semantic checks: what a schema cannot say, each a plain function named after its rule and
registered with Schemathesis beside its own checks, so a failure report names the rule.

Every check reads the rule's details from the spec (`x-pagination`, `x-filter`, `x-sort`,
`x-resource`, `x-access`, `x-rate-limit`, `x-error-body`) and judges any server by HTTP alone.
"""

from __future__ import annotations

import json
import math
import threading
import time

import jsonschema
import requests
import schemathesis
from schemathesis.core import NotSet

from apispec import ext
from apispec.ext.filters import can_check, field_value, matches
from apispec.ext.sorting import sort_key
from apispec.model import Operation
from apispec.schema import to_json_schema

from .context import Identity, Run, run_for
from .identity import identity_for

CUSTOM_CHECKS: list[str] = []


def rule(func):
    """Register `func` as a Schemathesis check named after the rule it enforces."""
    CUSTOM_CHECKS.append(func.__name__)
    return schemathesis.check(func)


# --- helpers ------------------------------------------------------------------------------

def _operation(case) -> tuple[Run | None, Operation | None]:
    run = run_for(case)
    if run is None:
        return None, None
    op_id = case.operation.definition.raw.get("operationId")
    op = run.contract.operations.get(op_id)
    if op is not None and case.method.upper() != op.method:
        return run, None  # a probe with another method (unsupported_method) is not this operation
    return run, op


def _json(response):
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        return None


def _is_success(response) -> bool:
    return 200 <= response.status_code < 300


def _positive(case) -> bool:
    meta = case.meta
    mode = getattr(getattr(meta, "generation", None), "mode", None)
    return mode is None or str(getattr(mode, "value", mode)) == "positive"


# --- which cases a rule judges ----------------------------------------------------------------
# A rule that judges what an answer holds judges only requests the contract calls valid: a
# positive case whose path, query and body satisfy the operation's own schemas. Schemathesis
# labels some cases positive that are not (coverage's `limit=0` past `minimum: 1`, a boolean for
# a string), and a server may answer those any way it likes.

_validators: dict[tuple, dict] = {}
_validators_lock = threading.Lock()


def _validators_for(run: Run, op: Operation) -> dict:
    """Per operation, once: a validator for each path and query parameter, and for the JSON body."""
    key = (str(run.contract.path), op.operation_id)
    with _validators_lock:
        found = _validators.get(key)
    if found is not None:
        return found
    checker = jsonschema.Draft4Validator.FORMAT_CHECKER

    def validator(schema):
        return jsonschema.Draft4Validator(to_json_schema(schema or {}), format_checker=checker)

    params = {(p["in"], p["name"]): (p, validator(p.get("schema"))) for p in op.parameters
              if p.get("in") in ("path", "query")}
    body = op.spec.get("requestBody") or {}
    found = {"params": params, "body": validator(op.body_schema()) if op.body_schema() else None,
             "body_required": bool(body.get("required"))}
    with _validators_lock:
        _validators[key] = found
    return found


def _as_sent(value, schema: dict):
    """A path or query value as the server reads it: text that spells the declared scalar type
    (`"5"` for an integer) is that value."""
    kind = (schema or {}).get("type")
    if not isinstance(value, str) or kind not in ("integer", "number", "boolean"):
        return value
    if kind == "boolean":
        return {"true": True, "false": False}.get(value, value)
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if kind == "integer" and number.is_integer() and "." not in value else number


def invalid_inputs(run: Run, op: Operation, case) -> list[str]:
    """Why the request is not valid against the operation's path, query and body schemas (empty:
    it is valid). Query parameters the operation does not declare are ignored, as an OpenAPI
    document cannot forbid them."""
    found = _validators_for(run, op)
    problems = []
    sent = {"path": dict(case.path_parameters or {}), "query": dict(case.query or {})}
    for (where, name), (param, validator) in found["params"].items():
        if name not in sent[where]:
            if param.get("required") or where == "path":
                problems.append(f"{where} parameter {name} missing")
            continue
        value = _as_sent(sent[where][name], param.get("schema") or {})
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        if error is not None:
            problems.append(f"{where} parameter {name}={value!r}: {error.message}")
    body = case.body
    if isinstance(body, NotSet):
        if found["body_required"]:
            problems.append("required body missing")
    elif found["body"] is not None and (case.media_type or "application/json").endswith("json"):
        error = jsonschema.exceptions.best_match(found["body"].iter_errors(body))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path)
            problems.append(f"body{'/' + where if where else ''}: {error.message}")
    return problems


def _judged(case) -> tuple[Run | None, Operation | None]:
    """(run, operation) when a rule that judges an answer's content may judge this case: it is
    positive and valid against the operation's schemas; else the operation is None."""
    run, op = _operation(case)
    if op is None or not _positive(case) or invalid_inputs(run, op, case):
        return run, None
    return run, op


def _shown(response, limit: int = 200) -> str:
    """An answer's status and body, as it came: JSON compactly, anything else as text."""
    body = _json(response)
    text = json.dumps(body) if body is not None else (response.text or "(empty body)")
    return f"{response.status_code} {text[:limit]}"


def _inputs(case) -> dict:
    """The request's query parameters and (for POST-style lists) body fields, by name."""
    values = dict(case.query or {})
    if isinstance(case.body, dict):
        values.update(case.body)
    return values


def _items(op: Operation, body):
    paging = ext.paging.of(op) or {}
    where = paging.get("items", "$")
    if where == "$":
        return body if isinstance(body, list) else None
    if isinstance(body, dict) and isinstance(body.get(where), list):
        return body[where]
    return None


def _param_default(op: Operation, name: str | None):
    for param in op.parameters:
        if param["name"] == name:
            return param.get("schema", {}).get("default")
    return None


def _requested(op: Operation, case, name: str | None):
    value = _inputs(case).get(name)
    if value is None:
        value = _param_default(op, name)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _rules(op: Operation) -> list[tuple[str, dict]]:
    """(input name, x-filter) for the query parameters and body fields that filter."""
    found = [(p["name"], p.get("x-filter") or p.get("schema", {}).get("x-filter"))
             for p in op.parameters]
    for name, prop in (op.body_schema().get("properties") or {}).items():
        found.append((name, prop.get("x-filter")))
    return [(n, r) for n, r in found if r]


def _unwrap(body):
    """A single resource out of its envelope (`{success, data: {...}}`) when there is one."""
    if isinstance(body, dict) and isinstance(body.get("data"), dict) and "id" not in body:
        return body["data"]
    return body


def _resend(run: Run, case, identity: Identity | None):
    """The same request again, as `identity` (None: with no credentials at all)."""
    kwargs = case.as_transport_kwargs(base_url=run.base_url)
    headers = {k: v for k, v in (kwargs.pop("headers", None) or {}).items()
               if k.lower() not in ("authorization", "cookie")}
    body = kwargs.pop("json", None)
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in run.credentials.default.body}
    if identity is not None:
        headers.update(identity.headers)
        if identity.body and isinstance(body, dict):
            body = {**body, **identity.body}
    kwargs.pop("cookies", None)
    method, url = kwargs.pop("method"), kwargs.pop("url")
    return run.http.request(method, url, headers=headers, json=body, timeout=run.timeout,
                            allow_redirects=False, **{k: v for k, v in kwargs.items() if k in ("params", "data")})


def _shape_errors(template, body, path="body") -> list[str]:
    """How `body` differs from the API's error-body template (placeholders accept any text)."""
    if isinstance(template, dict):
        if not isinstance(body, dict):
            return [f"{path} should be an object, got {type(body).__name__}"]
        fixed = {k: v for k, v in template.items() if not (k.startswith("{") and k.endswith("}"))}
        errors = [f"{path}.{k} missing" for k in fixed if k not in body]
        for key, sub in fixed.items():
            if key in body:
                errors += _shape_errors(sub, body[key], f"{path}.{key}")
        if len(fixed) == len(template):
            pass  # further fields are allowed: a template names what an error body must hold (specs/README.md)
        else:
            free = next(v for k, v in template.items() if k not in fixed)
            for key in (k for k in body if k not in fixed):
                errors += _shape_errors(free, body[key], f"{path}.{key}")
        return errors
    if isinstance(template, list):
        if not isinstance(body, list) or not body:
            return [f"{path} should be a non-empty list"]
        return [e for item in body for e in _shape_errors(template[0], item, f"{path}[]")]
    if isinstance(template, str) and template.startswith("{") and template.endswith("}"):
        return [] if isinstance(body, str) and body else [f"{path} should be a message, got {body!r}"]
    return [] if body == template else [f"{path} should be {template!r}, got {body!r}"]


def _error_body_errors(run: Run, op: Operation, response) -> list[str]:
    """How an error answer differs from every body the API gives for its status (empty: it is one
    of them). The `x-error-body` template is one; each alternative the operation's documented
    response schema offers (`anyOf`/`oneOf`) is another. Raises LookupError without a template."""
    template = run.contract.error_template(response.status_code, op)
    body = _json(response)
    if body is None and (response.text or "").strip() not in ("", "null"):
        kind = response.headers.get("content-type") or "no content type"
        return [f"body is not JSON ({kind if isinstance(kind, str) else ', '.join(kind)})"]
    errors = _shape_errors(template, body)
    if not errors:
        return []
    for schema in _alternatives(op.response_schema(response.status_code) if op.response(response.status_code) else {}):
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
    props = _properties(schema)
    if isinstance(body, dict) and props and schema.get("additionalProperties") in (None, False):
        errors += [f"body.{k} is not part of this error body" for k in body if k not in props]
    return errors


def _properties(schema: dict) -> dict:
    """An object schema's properties, its allOf parts merged in."""
    props = dict((schema or {}).get("properties") or {})
    for part in (schema or {}).get("allOf") or []:
        props.update(_properties(part))
    return props


def _fail(message: str):
    raise AssertionError(message)


# --- the rules ------------------------------------------------------------------------------

@rule
def page_within_limit(ctx, response, case):
    """A page never holds more items than the page size asked for (or the default)."""
    run, op = _judged(case)
    paging = ext.paging.of(op) if op else None
    if not paging or paging.get("style", "none") == "none" or not _is_success(response):
        return True
    items = _items(op, _json(response))
    size = _requested(op, case, paging.get("size"))
    if items is None or size is None:
        return True
    if len(items) > size:
        _fail(f"Expected at most {size} items ({paging.get('size')}={size}); got {len(items)}")
    return None


@rule
def page_metadata_consistent(ctx, response, case):
    """Page metadata agrees with the data: page, size, totals, page counts, hasNext/hasPrev,
    and a `Link rel="next"` that leads to a further page."""
    run, op = _judged(case)
    paging = ext.paging.of(op) if op else None
    if not paging or paging.get("style", "none") == "none" or not _is_success(response):
        return True
    body = _json(response)
    items = _items(op, body)
    if items is None:
        return True
    page = _requested(op, case, paging.get("page")) or 1
    size = _requested(op, case, paging.get("size"))
    if paging["style"] == "link":
        link = ",".join(response.headers.get("link", []))
        if 'rel="next"' in link:
            if not run.first_time("link", op.operation_id):
                return True  # the operation's next link has been followed once: nothing left to judge
            target = link.split('rel="next"')[0].rsplit("<", 1)[-1].split(">", 1)[0]
            try:
                follow = run.request("GET", target, run.credentials.default)
            except requests.RequestException as exc:
                _fail(f'Link rel="next" <{target}> cannot be followed: {type(exc).__name__}')
            following = _json(follow)
            if follow.status_code != 200 or not isinstance(following, list) or not following:
                _fail(f'Link rel="next" <{target}> should lead to a non-empty page; got {_shown(follow)}')
        elif size and len(items) > size:
            _fail(f"page holds {len(items)} items, more than page size {size}")
        return None
    meta = next((v for k, v in body.items() if isinstance(v, dict) and k != paging["items"]), None)
    if meta is None:
        _fail("list response carries no pagination metadata object")
    problems = []
    total = meta.get("total")
    if meta.get("page") is not None and meta["page"] != page:
        problems.append(f"page is {meta['page']}, requested {page}")
    if size is not None and meta.get("limit") is not None and meta["limit"] != size:
        problems.append(f"limit is {meta['limit']}, requested {size}")
    if isinstance(total, int) and size:
        expected_count = max(0, min(size, total - (page - 1) * size))
        if len(items) != expected_count:
            problems.append(f"total {total} with page {page} of size {size} means {expected_count} "
                            f"items, got {len(items)}")
        pages = math.ceil(total / size)
        for key in ("pages", "totalPages"):
            if key in meta and meta[key] != pages:
                problems.append(f"{key} is {meta[key]}, expected ceil({total}/{size}) = {pages}")
        if "hasNext" in meta and meta["hasNext"] != (page < pages):
            problems.append(f"hasNext is {meta['hasNext']} on page {page} of {pages}")
        if "hasPrev" in meta and meta["hasPrev"] != (page > 1):
            problems.append(f"hasPrev is {meta['hasPrev']} on page {page}")
    if problems:
        _fail("Pagination metadata disagrees with the data: " + "; ".join(problems))
    return None


@rule
def filters_honoured(ctx, response, case):
    """Filters and search return only matching items."""
    run, op = _judged(case)
    if not op or not _is_success(response):
        return True
    items = _items(op, _json(response))
    inputs = _inputs(case)
    judged = [(name, filter_rule) for name, filter_rule in _rules(op)
              if inputs.get(name) not in (None, "") and not isinstance(inputs.get(name), (dict, list))
              and can_check(filter_rule)]
    if not items or not judged:
        return True
    seen = False
    for name, filter_rule in judged:
        value = inputs[name]
        fields = [filter_rule.get("field")] if filter_rule.get("field") else filter_rule.get("fields", [])
        for item in items:
            if not isinstance(item, dict) or any(field_value(item, f) is None for f in fields if f):
                continue  # the list item does not show the field; cannot judge it
            seen = True
            if not matches(filter_rule, item, value):
                shown = {f: field_value(item, f) for f in fields}
                _fail(f"{name}={value!r} should return only matching items ({filter_rule}); "
                      f"item {item.get('id', '')} has {shown}")
    return None if seen else True  # no item showed a filtered field: nothing was judged


@rule
def sorted_as_requested(ctx, response, case):
    """Lists are in the order `x-sort` parameters ask for."""
    run, op = _judged(case)
    if not op or not _is_success(response):
        return True
    by = order = None
    for param in op.parameters:
        value = _inputs(case).get(param["name"], param.get("schema", {}).get("default"))
        if param.get("x-sort") == "by":
            by = value
        elif param.get("x-sort") == "order":
            order = value
    items = _items(op, _json(response))
    if not isinstance(by, str) or not by or not items:
        # `by` names a field: a list or an object (a request the spec does not admit) names none
        return True
    keys = [sort_key(i.get(by)) for i in items if isinstance(i, dict) and i.get(by) is not None]
    if keys != sorted(keys, reverse=(order == "desc")):
        shown = [i.get(by) for i in items if isinstance(i, dict)]
        _fail(f"items should be sorted by {by} {order or 'asc'}; got {shown}")
    return None


@rule
def created_reads_back(ctx, response, case):
    """A created resource reads back as it was sent."""
    run, op = _judged(case)
    if not op or not op.resource or op.resource.get("action") != "create" or not _is_success(response):
        return True
    if not isinstance(case.body, dict):
        return True
    reader = next((o for o in run.contract.operations.values()
                   if o.resource == {"name": op.resource["name"], "action": "read"} and o.method == "GET"), None)
    created = _unwrap(_json(response))
    if reader is None or not isinstance(created, dict) or "id" not in created:
        return True
    path_params = [p["name"] for p in reader.parameters if p.get("in") == "path"]
    if len(path_params) != 1:
        return True
    path = reader.path.replace("{" + path_params[0] + "}", str(created["id"]))
    # the creator may not read it (Amar: a user is read back by admins only): a role the reader
    # admits may, and if none can, nothing can be judged
    read = _read_as_admitted(run, reader, path, writer=op)
    if read is None:
        return True
    if read.status_code != 200:
        _fail(f"GET {path} after create answered {_shown(read)}; expected 200")
    record = _unwrap(_json(read))
    body = {k: v for k, v in case.body.items() if k not in run.credentials.default.body}
    differences = _differences(op.body_schema(), body, record)
    if differences:
        _fail("created resource does not read back as sent: " + "; ".join(differences[:5]))
    return None


def _differences(schema: dict, sent, read, path: str = "") -> list[str]:
    """Where `read` does not hold what was `sent`: fields the schema declares must come back
    equal; objects may come back with more (ids, counts), lists with the same length."""
    if isinstance(sent, dict) and isinstance(read, dict):
        props = _properties(schema)
        out = []
        for key, value in sent.items():
            if key in props and key in read:
                out += _differences(props[key], value, read[key], f"{path}{key}.")
        return out
    if isinstance(sent, list) and isinstance(read, list) and (schema or {}).get("items"):
        if len(sent) != len(read):
            return [f"{path.rstrip('.')}: sent {len(sent)} items, read {len(read)}"]
        return [d for i, (a, b) in enumerate(zip(sent, read, strict=True))
                for d in _differences(schema["items"], a, b, f"{path}{i}.")]
    if sent != read:
        return [f"{path.rstrip('.')}: sent {sent!r}, read {read!r}"]
    return []


@rule
def missing_credential_rejected(ctx, response, case):
    """A request without credentials is refused in the API's own error body: 401 for a header
    credential; for credentials carried in the body, the status the API documents for them."""
    run, op = _judged(case)
    if not op or not _is_success(response) or not _needs_credentials(run, op):
        return True
    if not run.first_time("anonymous", op.operation_id):
        return True
    bare = _resend(run, case, None)
    expected = {401} if op.spec.get("security") else {400, 401}
    if bare.status_code not in expected:
        _fail(f"without credentials expected {' or '.join(map(str, sorted(expected)))}, got {_shown(bare)}"
              + _probe_curl(bare))
    errors = _error_body_errors(run, op, bare)
    if errors:
        _fail(f"{bare.status_code} without credentials is not in the API's error body: " + "; ".join(errors)
              + f". Body: {_shown(bare)}" + _probe_curl(bare))
    return None


def _needs_credentials(run: Run, op: Operation) -> bool:
    return bool(op.spec.get("security")) or bool(ext.credentials.body_auth(op))


@rule
def key_permissions_enforced(ctx, response, case):
    """Every key type is held to its permissions: a key type the operation does not admit gets 403."""
    run, op = _judged(case)
    access = ext.access.of(op) if op else None
    if not access or not _is_success(response):
        return True
    tried = False
    for role, identity in run.credentials.roles.items():
        if role in (access.get("key_types") or [role]) or role == "default":
            continue
        if not run.first_time("role", op.operation_id, role):
            continue
        tried = True
        answer = _resend(run, case, identity)
        if answer.status_code != 403:
            _fail(f"a {role} key should get 403 on {op.method} {op.path} (admits "
                  f"{', '.join(access['key_types'])}); got {_shown(answer)}" + _probe_curl(answer))
    return None if tried else True


@rule
def rate_limit_headers(ctx, response, case):
    """Rate-limit headers are on every authenticated response and count down."""
    run, op = _operation(case)
    config = ext.rate_limit.of(run.contract) if run else None
    if not config or not op or not op.spec.get("security") or response.status_code == 401:
        return True
    names = {k: v for k, v in (config.get("headers") or {}).items() if v}
    missing = [v for v in names.values() if v.lower() not in response.headers]
    if missing:
        _fail(f"{response.status_code} response lacks rate-limit headers: {', '.join(missing)}")
    if response.status_code == 429 and config.get("retry_after") and "retry-after" not in response.headers:
        _fail("429 without Retry-After")
    remaining = names.get("remaining")
    if op.method == "GET" and remaining and _is_success(response) and run.first_time("countdown", op.operation_id):
        sent = time.time()
        first = _resend(run, case, run.credentials.default)
        second = _resend(run, case, run.credentials.default)
        try:
            a, b = int(first.headers[remaining]), int(second.headers[remaining])
        except (KeyError, ValueError):
            _fail(f"{remaining} missing or not a number on repeated requests")
        if b >= a and b != 0 and not _slot_freed(first.headers.get(names.get("reset", "")), sent):
            _fail(f"{remaining} should count down: {a} then {b}")
    return None


def _slot_freed(reset: str | None, sent: float) -> bool:
    """Whether the time the first answer gave as its reset had come by the second answer: then a
    window (a sliding one frees a slot whenever an old request leaves it) may count up again.
    A reset is a Unix time, or seconds from the request; one rounded up may arrive a second early."""
    try:
        value = float(reset)
    except (TypeError, ValueError):
        return False
    at = value if value > 1e9 else sent + value
    return time.time() >= at - 1


@rule
def error_body_matches_api(ctx, response, case):
    """Every error is in the API's own error body: the `x-error-body` template for its status, or
    one of the bodies the operation documents for it (`anyOf`/`oneOf` alternatives)."""
    run, op = _operation(case)
    if not op or response.status_code < 400:
        return True
    try:
        errors = _error_body_errors(run, op, response)
    except LookupError:
        return True
    if errors:
        _fail(f"{response.status_code} body is not the API's error body: " + "; ".join(errors[:3])
              + f". Body: {_shown(response)}")
    return None


# --- rules of issue 11 item 4: refused credentials, complete filters, updates, next pages ---------
# Each probes the server with a few requests of its own, once per operation (or per filter), and
# judges only valid cases the server answered 2xx. A probe answered 429 judges nothing.

def _valid_success(case, response, op) -> bool:
    """Whether a case is one these rules judge: a valid request (`_judged`), answered 2xx."""
    return op is not None and _is_success(response) and _judged(case)[1] is not None


def _revoking(op: Operation) -> bool:
    """An operation that may invalidate a credential: never probed with the run's own identity or
    a name it uses, so a probe cannot log the run out (a broken server may ignore the token)."""
    return bool(ext.credentials.revokes(op))


def _mangled(value: str) -> str:
    """A credential of the same shape that is not this one: each letter and digit moved one on."""
    def moved(ch: str) -> str:
        if ch.isdigit():
            return str((int(ch) + 1) % 10)
        if "a" <= ch.lower() <= "z":
            base = ord("a") if ch.islower() else ord("A")
            return chr(base + (ord(ch) - base + 1) % 26)
        return ch
    return "".join(moved(ch) for ch in value)


def _wrong_identity(run: Run) -> Identity | None:
    """The run's own identity with its secret changed: a header's credential after its scheme word
    (`Bearer x`, `Token x`, `session=x`), the body's token field (`x-body-auth`). None: nothing to change."""
    identity = run.credentials.default
    headers = {}
    for name, value in identity.headers.items():
        if name.lower() == "cookie":
            headers[name] = "; ".join(f"{k}={_mangled(v)}" for k, _, v in
                                      (part.strip().partition("=") for part in value.split(";")))
        else:
            scheme, _, secret = value.rpartition(" ")
            headers[name] = f"{scheme} {_mangled(secret)}".strip()
    body = dict(identity.body)
    token_field = (ext.credentials.body_auth(run.contract) or {}).get("token")
    if token_field in body:
        body[token_field] = _mangled(str(body[token_field]))
    if headers == identity.headers and body == identity.body:
        return None
    return Identity("wrong", headers, body)


def _refusal_statuses(op: Operation) -> set[int]:
    """What a refused credential gets: 401 for a header credential; for one carried in the body,
    the refusals (401, 403) the operation documents."""
    if op.spec.get("security"):
        return {401}
    return {s for s in (401, 403) if op.response(s) is not None} or {401}


def _error_body_problems(run: Run, op: Operation, answer) -> list[str]:
    """How an answer's body differs from the API's error body for its status; where the spec's
    templates admit several bodies (Eventify's 401: `invalid_token`, or the standard body for a
    token mismatch), any of them will do."""
    body = _json(answer)
    templates = []
    try:
        templates.append(run.contract.error_template(answer.status_code, op))
    except LookupError:
        pass
    default = ext.errors.default_template(run.contract, op)
    if default is not None:
        templates.append(default)
    if not templates:
        return []
    found = [_shape_errors(t, body) for t in templates]
    return [] if any(not errors for errors in found) else found[0]


def _probe_curl(answer) -> str:
    """The probe a rule sent, as the `Reproduce: curl` line the report shows instead of the case's request:
    the request that was judged is the probe."""
    sent = getattr(answer, "request", None)
    if sent is None:
        return ""
    headers = "".join(f" -H '{k}: {v}'" for k, v in sent.headers.items()
                      if k.lower() in ("authorization", "cookie", "content-type"))
    body = sent.body.decode("utf-8", "replace") if isinstance(sent.body, bytes) else sent.body
    data = " -d '" + body.replace("'", "'\\''") + "'" if body else ""
    return f"\nReproduce: curl -X {sent.method}{headers}{data} '{sent.url}'"


def _judge_refusal(run: Run, op: Operation, answer, what: str) -> None:
    """Fail unless `answer` refuses the request as the spec says (status and error body)."""
    expected = _refusal_statuses(op)
    if answer.status_code not in expected:
        _fail(f"{what}: expected {' or '.join(map(str, sorted(expected)))}, got "
              f"{answer.status_code}: {answer.text[:200].strip()}" + _probe_curl(answer))
    problems = _error_body_problems(run, op, answer)
    if problems:
        _fail(f"{what}: {answer.status_code} is not in the API's error body: " + "; ".join(problems[:3])
              + f". Body: {answer.text[:200]}" + _probe_curl(answer))


@rule
def wrong_credential_rejected(ctx, response, case):
    """A wrong credential is refused in the API's own error body: 401 for a header credential;
    for a token carried in the body (`x-body-auth`), the refusal the operation documents."""
    run, op = _operation(case)
    if not _valid_success(case, response, op) or not _needs_credentials(run, op) or _revoking(op):
        return True
    wrong = _wrong_identity(run)
    if wrong is None or not run.first_time("wrong-credential", op.operation_id):
        return True
    answer = _resend(run, case, wrong)
    if answer.status_code == 429:
        return True
    sent = {**wrong.headers, **wrong.body}
    _judge_refusal(run, op, answer, f"with a wrong credential ({', '.join(f'{k}: {v}' for k, v in sent.items())})")
    return None


def _reader(run: Run, op: Operation) -> Operation | None:
    """The operation that reads the resource `op` acts on: the collection's `x-resource` read, else
    a GET on the same path."""
    name = (op.resource or {}).get("name")
    ops = list(run.contract.operations.values())
    return (next((o for o in ops if name and o.resource == {"name": name, "action": "read"} and o.method == "GET"),
                 None)
            or next((o for o in ops if o.path == op.path and o.method == "GET"), None))


def _read_path(reader: Operation, op: Operation, case) -> str | None:
    """The reader's path for the resource the case named: the same path parameters, or its one
    parameter given the case's one path value."""
    values = dict(case.path_parameters or {})
    names = [p["name"] for p in reader.parameters if p.get("in") == "path"]
    if not names and reader.path == op.path:
        return reader.path
    if names and all(n in values for n in names):
        path = reader.path
        for n in names:
            path = path.replace("{" + n + "}", str(values[n]))
        return path
    if len(names) == 1 and len(values) == 1:
        return reader.path.replace("{" + names[0] + "}", str(next(iter(values.values()))))
    return None


def _read_as_admitted(run: Run, reader: Operation, path: str, writer: Operation | None = None):
    """GET `path` as the identity the write went out as (`identity_for` the writing operation: Amar's
    /users/me is a user's own record); on 403, as a role the reader admits (None: no one may)."""
    read = run.request("GET", path, identity_for(run, writer) if writer is not None else run.credentials.default)
    if read.status_code == 403 and ext.access.of(reader):
        admitted = [i for role, i in run.credentials.roles.items()
                    if role in ext.access.of(reader).get("key_types", [])]
        read = next((r for r in (run.request("GET", path, i) for i in admitted) if r.status_code != 403), None)
    return read


@rule
def updated_reads_back(ctx, response, case):
    """After a successful update, a read shows the new values. A field the update's own answer
    already showed unchanged is the server's documented choice (Amar ignores an organizer's `plan`),
    not a lost change."""
    run, op = _operation(case)
    is_update = (op is not None and ((op.resource or {}).get("action") == "update"
                                     or op.method in ("PUT", "PATCH")))
    if not is_update or not _valid_success(case, response, op) or not isinstance(case.body, dict):
        return True
    reader = _reader(run, op)
    path = _read_path(reader, op, case) if reader is not None else None
    body = {k: v for k, v in case.body.items() if k not in run.credentials.default.body}
    if path is None or not body or not _try(run, "update-read", op.operation_id):
        return True
    read = _read_as_admitted(run, reader, path, writer=op)
    if read is None or read.status_code == 429:
        return True
    if read.status_code != 200:
        _fail(f"GET {path} after update answered {read.status_code}, expected 200: {read.text[:200]}")
    schema = op.body_schema()
    answered = _unwrap(_json(response))
    if isinstance(answered, dict):
        # what the update itself said it stored: fields it answered differently are not judged here
        body = {k: v for k, v in body.items() if not _differences(schema, {k: v}, answered)}
    if not body:
        return True  # the update itself changed nothing it was sent: another case may judge it
    _settle(run, "update-read", op.operation_id)
    differences = _differences(schema, body, _unwrap(_json(read)))
    if differences:
        _fail(f"updated resource does not read back as the update answered (GET {path}): "
              + "; ".join(differences[:5]))
    return None


FILTER_PAGES = 5  # at most this many pages of each list are fetched to judge a filter
FILTER_TRIES = 3  # cases tried per (operation, filter) until one has something to judge


def _try(run: Run, *key, limit: int = FILTER_TRIES) -> bool:
    """Like `run.first_time`, but a rule may try up to `limit` cases until one gives it
    something to judge (then `_settle`): still a bounded cost per operation."""
    counts = run.__dict__.setdefault("_rule_tries", {})
    with run._lock:
        if counts.get(key, 0) >= limit:
            return False
        counts[key] = counts.get(key, 0) + 1
        return True


def _settle(run: Run, *key) -> None:
    with run._lock:
        run.__dict__.setdefault("_rule_tries", {})[key] = 10**9


def _query_text(value):
    return ("true" if value else "false") if isinstance(value, bool) else value


def _size_param(op: Operation) -> tuple[str | None, int | None]:
    """The page-size parameter and the largest page it allows (else its default)."""
    paging = ext.paging.of(op) or {}
    for param in op.parameters:
        if param["name"] == paging.get("size"):
            schema = param.get("schema", {})
            return param["name"], schema.get("maximum", schema.get("default"))
    return None, None


def _fetch_list(run: Run, op: Operation, path: str, query: dict, body: dict | None):
    """Every item of a list as the run's identity, over at most FILTER_PAGES pages of the largest
    page size: (items, complete), or (None, False) when an answer could not be read."""
    paging = ext.paging.of(op) or {}
    query = {k: _query_text(v) for k, v in query.items()}
    send_body = dict(body) if body is not None else None
    size_name, size = _size_param(op)
    paged = paging.get("style", "none") != "none" and paging.get("page") and size_name and size
    items: list = []
    for page in range(1, (FILTER_PAGES if paged else 1) + 1):
        if paged:
            query = {**query, paging["page"]: page, size_name: size}
        answer = run.request(op.method, path, run.credentials.default, params=query or None,
                             json=dict(send_body) if send_body is not None else None)
        if page > 1 and answer.status_code == paging.get("out_of_range"):
            return items, True
        got = _items(op, _json(answer)) if answer.status_code == 200 else None
        if got is None:
            return None, False
        items += got
        if not paged or len(got) < size:
            return items, True
    return items, False


def _record_key(item):
    if isinstance(item, dict):
        for name in ("id", "url"):
            if item.get(name) is not None:
                return (name, str(item[name]))
    return ("item", json.dumps(item, sort_keys=True, default=str))


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
    run, op = _operation(case)
    if not _valid_success(case, response, op) or _items(op, _json(response)) is None:
        return True
    inputs = _inputs(case)
    rules = _rules(op)
    filters = [name for name, _ in rules]
    present = [(name, r) for name, r in rules
               if inputs.get(name) not in (None, "") and not isinstance(inputs.get(name), (dict, list))
               and can_check(r) and not (r.get("all") is not None and str(inputs[name]) == str(r["all"]))]
    judged = False
    for name, filter_rule in present:
        key = ("filters-complete", op.operation_id, name)
        if not _try(run, *key):
            continue
        source = _unfiltered_source(run, op, case, filters)
        if source is None:
            _settle(run, *key)
            continue
        value = inputs[name]
        every, _ = _fetch_list(run, *source)
        base_query = {k: v for k, v in (case.query or {}).items() if k not in filters}
        base_body = ({k: v for k, v in case.body.items() if k not in filters or k == name}
                     if isinstance(case.body, dict) else None)
        if base_body is not None:
            base_body = {k: v for k, v in base_body.items() if k not in run.credentials.default.body}
        if name in (case.query or {}):
            base_query[name] = case.query[name]
        filtered, complete = _fetch_list(run, op, case.formatted_path, base_query, base_body)
        if every is None or filtered is None or not complete:
            continue
        fields = [filter_rule["field"]] if filter_rule.get("field") else list(filter_rule.get("fields", []))
        shown = [item for item in every if isinstance(item, dict) and (
            filter_rule.get("op") == "search" or all(field_value(item, f) is not None for f in fields))]
        wanted = [item for item in shown if matches(filter_rule, item, value)]
        if not wanted:
            continue  # nothing to miss: another case may judge this filter
        _settle(run, *key)
        judged = True
        have = {_record_key(item) for item in filtered}
        missing = [item for item in wanted if _record_key(item) not in have]
        if missing:
            ids = ", ".join(str(_record_key(item)[1])[:60] for item in missing[:5])
            _fail(f"{name}={value!r} left out {len(missing)} of the {len(wanted)} matching records of the "
                  f"unfiltered list ({filter_rule}): {ids}")
    return None if judged else True


def _announces_more(paging: dict, response, body, page: int, size: int) -> str | None:
    """None when the answer says more records follow page `page`; else what it says instead."""
    if paging["style"] == "link":
        link = ",".join(response.headers.get("link", []))
        return None if 'rel="next"' in link else f"no Link rel=\"next\" (Link: {link or 'absent'})"
    meta = next((v for k, v in body.items() if isinstance(v, dict) and k != paging["items"]), None) \
        if isinstance(body, dict) else None
    if meta is None:
        return "no pagination metadata"
    said = []
    if "hasNext" in meta:
        said.append(("hasNext", meta["hasNext"], meta["hasNext"] is True))
    for name in ("pages", "totalPages"):
        if isinstance(meta.get(name), int):
            said.append((name, meta[name], meta[name] > page))
    if isinstance(meta.get("total"), int):
        said.append(("total", meta["total"], meta["total"] > page * size))
    if not said:
        return "no hasNext, pages or total in the metadata"
    wrong = [f"{name} is {value!r}" for name, value, ok in said if not ok]
    return "; ".join(wrong) or None


@rule
def next_page_announced(ctx, response, case):
    """A full page tells that more records follow whenever they do: a `Link rel="next"` (link
    paging), `hasNext`, `pages`/`totalPages` or `total` (metadata paging). Judged by fetching the
    page after a full one, until one such page has records (at most FILTER_TRIES per operation)."""
    run, op = _operation(case)
    paging = ext.paging.of(op) if op else None
    if not paging or paging.get("style", "none") == "none" or not _valid_success(case, response, op):
        return True
    items = _items(op, _json(response))
    page = _requested(op, case, paging.get("page")) or 1
    size = _requested(op, case, paging.get("size"))
    if items is None or not size or len(items) != size or paging.get("page") not in {
            p["name"] for p in op.parameters if p.get("in") == "query"}:
        return True
    if not _try(run, "next-page", op.operation_id):
        return True  # a full page with nothing after it tells nothing: up to FILTER_TRIES full pages
    query = {k: _query_text(v) for k, v in (case.query or {}).items()}
    query[paging["page"]] = page + 1
    query[paging["size"]] = size
    following = run.request(op.method, case.formatted_path, run.credentials.default, params=query)
    more = _items(op, _json(following)) if following.status_code == 200 else None
    if not more:
        return None  # no further records (or none readable): nothing had to be announced
    _settle(run, "next-page", op.operation_id)
    problem = _announces_more(paging, response, _json(response), page, size)
    if problem:
        _fail(f"page {page} is full ({size} items) and page {page + 1} holds {len(more)} more, "
              f"but the page does not say so: {problem}" + _probe_curl(following))
    return None


# --- credential_bound_to_identity -------------------------------------------------------------

def _fresh_like(value, field_schema: dict, tag: str):
    """A value of the same shape as `value` that no record holds yet."""
    if field_schema.get("format") == "email":
        return f"contract-{tag}@example.com"
    if isinstance(value, str) and any(ch.isdigit() for ch in value):
        digits = iter(str(int(tag, 16))[::-1])  # the last digits change: "+1234567890" -> "+1234512345"
        return "".join(next(digits, "7") if ch.isdigit() else ch for ch in value[::-1])[::-1]
    if isinstance(value, str):
        return f"{value}-{tag}" if value else f"contract-{tag}"
    return value


def _example_body(op: Operation) -> dict:
    media = (op.spec.get("requestBody") or {}).get("content", {}).get("application/json", {})
    example = media.get("example", op.body_schema().get("example"))
    return dict(example) if isinstance(example, dict) else {}


def _from_link(expression, sent: dict, answered):
    """A link's `$request.body#/x` or `$response.body#/x` (one level) against one exchange."""
    if not isinstance(expression, str) or not expression.startswith("$"):
        return expression
    source, _, pointer = expression.partition("#/")
    record = sent if source == "$request.body" else answered if source == "$response.body" else None
    return record.get(pointer) if isinstance(record, dict) else None


def _second_account(run: Run) -> Identity | None:
    """A second account of the run's own (body credentials): registered through the operation that
    links to the spec's login (`x-issues-credential`) with fresh values for its `x-unique` and email
    fields, then logged in. Once per run; None when the server would not give one."""
    if not run.first_time("second-account"):
        return run.__dict__.get("_second_account")
    run.__dict__["_second_account"] = None
    ops = list(run.contract.operations.values())
    login = next((o for o in ops if ext.credentials.issues(o)), None)
    if login is None:
        return None
    for register in ops:
        link = next((link for response in (register.spec.get("responses") or {}).values()
                     for link in ((response or {}).get("links") or {}).values()
                     if link.get("operationId") == login.operation_id), None)
        if link is None or register is login:
            continue
        tag = format(time.time_ns(), "x")[-12:]  # fresh each run
        schema = register.body_schema()
        body = _example_body(register)
        for name, prop in _properties(schema).items():
            if name in body and (prop.get("x-unique") or prop.get("format") == "email"):
                body[name] = _fresh_like(body[name], prop, tag)
            elif name not in body and name in (schema.get("required") or []):
                body[name] = _fresh_like("", prop, tag)
        created = run.request(register.method, register.path, None, json=body)
        if not _is_success(created):
            return None
        login_body = {k: _from_link(v, body, _json(created)) for k, v in (link.get("requestBody") or {}).items()}
        answer = run.request(login.method, login.path, None, json=login_body)
        issued = _json(answer)
        if answer.status_code != 200 or not isinstance(issued, dict):
            return None
        fields = ext.credentials.issues(login)
        if not all(issued.get(source) for source in fields.values()):
            return None
        run.__dict__["_second_account"] = Identity("second", {}, {k: issued[s] for k, s in fields.items()})
        return run.__dict__["_second_account"]
    return None


def _bound_in_body(run: Run, op: Operation, case) -> bool:
    """Eventify: the run's token with the second account's name, and the second token with the
    run's name, are each refused. False when there is no second account to try."""
    second = _second_account(run)
    own = run.credentials.default.body
    fields = ext.credentials.body_auth(run.contract) or {}
    token, name = fields.get("token"), fields.get("username")
    if second is None or not own.get(token) or not own.get(name):
        return False
    swaps = [({token: own[token], name: second.body[name]},
              f"the run's token with the second account's {name} {second.body[name]!r}"),
             ({token: second.body[token], name: own[name]},
              f"the second account's {token} {second.body[token]!r} with the run's {name} {own[name]!r}")]
    for body, what in swaps:
        answer = _resend(run, case, Identity("swapped", {}, body))
        if answer.status_code == 429:
            return False
        _judge_refusal(run, op, answer, what)
    return True


OWNER_TRIES = 20  # created records tried per operation: one the other keys may see (the document's own
                 # example ticket is the demo user's) tells nothing, and the examples come first


def _admits(op: Operation, role: str) -> bool:
    access = ext.access.of(op)
    return access is None or role in (access.get("key_types") or [role])


def _listed_for(run: Run, lister: Operation, identity: Identity) -> set | None:
    items: list = []
    paging = ext.paging.of(lister) or {}
    size_name, size = _size_param(lister)
    for page in range(1, FILTER_PAGES + 1):
        query = {paging["page"]: page, size_name: size} if size_name and paging.get("page") and size else None
        answer = run.request("GET", lister.path, identity, params=query)
        got = _items(lister, _json(answer)) if answer.status_code == 200 else None
        if got is None:
            return None
        items += got
        if query is None or len(got) < size:
            break
    return {_record_key(item) for item in items}


def _bound_by_owner(run: Run, op: Operation, case, response) -> bool:
    """A record the run's identity just created, which another account's key does not list as
    its own, is not that key's to read or change: its read and update answer 403 or 404.
    Roles that may update the collection manage others' records by design and are left alone,
    except on credentials (a collection whose update may revoke one): those are always their
    owner's. False when nothing was judged."""
    created = _unwrap(_json(response))
    name = (op.resource or {}).get("name")
    if not isinstance(created, dict) or created.get("id") is None or not op.spec.get("security"):
        return False
    ops = [o for o in run.contract.operations.values() if (o.resource or {}).get("name") == name]
    reader = next((o for o in ops if o.resource["action"] == "read" and o.method == "GET"), None)
    updater = next((o for o in ops if o.resource["action"] == "update"), None)
    listers = sorted((o for o in ops if o.resource["action"] == "list" and o.method == "GET" and "{" not in o.path),
                     key=lambda o: -len((ext.access.of(o) or {}).get("key_types") or ["*"] * 9))
    own = run.credentials.default
    judged = False
    for role, identity in run.credentials.roles.items():
        if (identity.headers, identity.body) == (own.headers, own.body):
            continue
        if updater is not None and _admits(updater, role) and not _revoking(updater):
            continue  # it manages the collection's records, others' included
        probes = []
        if reader is not None and reader.spec.get("security") and _admits(reader, role):
            probes.append((reader, None))  # a public read (Amar's events) is anyone's to make
        if updater is not None and _admits(updater, role):
            same = next(({k: created[k]} for k in _properties(updater.body_schema()) if created.get(k) is not None),
                        None)
            if same is not None:
                probes.append((updater, same))  # a change that changes nothing, should it get through
        lister = next((o for o in listers if _admits(o, role)), None)
        for target, body in probes:
            param = next(p["name"] for p in target.parameters if p.get("in") == "path")
            path = target.path.replace("{" + param + "}", str(created["id"]))
            answer = run.request(target.method, path, identity, json=body)
            if answer.status_code in (403, 404):
                judged = True
                problems = _error_body_problems(run, target, answer)
                if problems:
                    _fail(f"{target.method} {path} as the {role} key: {answer.status_code} is not in the API's "
                          "error body: " + "; ".join(problems[:3]) + _probe_curl(answer))
            elif _is_success(answer):
                # reached: a violation unless the record is this key's own (or one it may see)
                listed = _listed_for(run, lister, identity) if lister else None
                if listed is None or _record_key(created) in listed:
                    break
                _fail(f"the {role} key reached {name} {created['id']}, created by another account and not "
                      f"in its own list ({lister.method} {lister.path}): {target.method} {path} answered "
                      f"{answer.status_code}, expected 403 or 404: {answer.text[:200]}" + _probe_curl(answer))
    return judged


@rule
def credential_bound_to_identity(ctx, response, case):
    """A credential is good only for its own identity. Body credentials (`x-body-auth`): a second
    account the run registers and logs in; the run's token with its username, and its token with
    the run's username, are refused. Header credentials with several roles: a record the run
    creates is not another account's to read or change."""
    run, op = _operation(case)
    if not _valid_success(case, response, op) or _revoking(op):
        return True
    if ext.credentials.body_auth(op) and ext.credentials.body_auth(run.contract):
        if not run.first_time("bound", op.operation_id):
            return True
        return None if _bound_in_body(run, op, case) else True
    if (op.resource or {}).get("action") == "create" and len(run.credentials.roles) > 1:
        if not _try(run, "bound", op.operation_id, limit=OWNER_TRIES):
            return True
        try:
            judged = _bound_by_owner(run, op, case, response)
        except AssertionError:
            _settle(run, "bound", op.operation_id)  # one failure per operation is enough
            raise
        if not judged:
            return True
        _settle(run, "bound", op.operation_id)
        return None
    return True
