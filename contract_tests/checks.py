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

from .context import Identity, Run, run_for
from .semantics import can_check, field_value, matches, sort_key
from .spec import Operation

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


def _jsonschema(schema):
    """An OpenAPI 3.0 schema as JSON Schema: `nullable: true` admits null."""
    if isinstance(schema, list):
        return [_jsonschema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {name: _jsonschema(sub) for name, sub in value.items()}  # names, not keywords
        elif key in ("enum", "example", "examples", "default", "required", "x-example"):
            out[key] = value
        elif key != "nullable":
            out[key] = _jsonschema(value)
    if schema.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _validators_for(run: Run, op: Operation) -> dict:
    """Per operation, once: a validator for each path and query parameter, and for the JSON body."""
    key = (str(run.contract.path), op.operation_id)
    with _validators_lock:
        found = _validators.get(key)
    if found is not None:
        return found
    checker = jsonschema.Draft4Validator.FORMAT_CHECKER

    def validator(schema):
        return jsonschema.Draft4Validator(_jsonschema(schema or {}), format_checker=checker)

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
    paging = op.ext("pagination") or {}
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
    validator = jsonschema.Draft4Validator(_jsonschema(schema))
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
    paging = op.ext("pagination") if op else None
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
    paging = op.ext("pagination") if op else None
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
    read = run.request("GET", path, run.credentials.default)
    if read.status_code == 403 and reader.ext("access"):
        # the run's own identity may not read it (Amar: a user is read back by admins only); a role
        # the reader admits may, and if none can, nothing can be judged
        admitted = [i for role, i in run.credentials.roles.items() if role in reader.ext("access").get("key_types", [])]
        read = next((r for r in (run.request("GET", path, i) for i in admitted) if r.status_code != 403), None)
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
        _fail(f"without credentials expected {' or '.join(map(str, sorted(expected)))}, got {_shown(bare)}")
    errors = _error_body_errors(run, op, bare)
    if errors:
        _fail(f"{bare.status_code} without credentials is not in the API's error body: " + "; ".join(errors)
              + f". Body: {_shown(bare)}")
    return None


def _needs_credentials(run: Run, op: Operation) -> bool:
    return bool(op.spec.get("security")) or bool(op.ext("body-auth"))


@rule
def key_permissions_enforced(ctx, response, case):
    """Every key type is held to its permissions: a key type the operation does not admit gets 403."""
    run, op = _judged(case)
    access = op.ext("access") if op else None
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
                  f"{', '.join(access['key_types'])}); got {_shown(answer)}")
    return None if tried else True


@rule
def rate_limit_headers(ctx, response, case):
    """Rate-limit headers are on every authenticated response and count down."""
    run, op = _operation(case)
    config = run.contract.ext("rate-limit") if run else None
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
