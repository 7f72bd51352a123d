"""What every rule shares: the registry (`rule`, CUSTOM_CHECKS), the case's run and operation,
which cases a rule may judge, reading and showing an answer, sending a probe, and reading lists
page by page. The rule families import these; so does contract_tests/uniqueness.py."""

from __future__ import annotations

import json
import threading

import jsonschema
import schemathesis
from schemathesis.core import NotSet

from apispec import exchange, ext
from apispec.model import Operation
from apispec.schema import FORMAT_CHECKER, is_envelope, to_json_schema

from ..context import Identity, Run, run_for

CUSTOM_CHECKS: list[str] = []  # our rules' names, in the order they are registered


def rule(func):
    """Register `func` as a Schemathesis check named after the rule it enforces."""
    CUSTOM_CHECKS.append(func.__name__)
    return schemathesis.check(func)


def operation_for(case) -> tuple[Run | None, Operation | None]:
    run = run_for(case)
    if run is None:
        return None, None
    op_id = case.operation.definition.raw.get("operationId")
    op = run.contract.operations.get(op_id)
    if op is not None and case.method.upper() != op.method:
        return run, None  # a probe with another method (unsupported_method) is not this operation
    return run, op


def exchange_of(op, response, case=None) -> exchange.Exchange:
    """A response (and the case's inputs) as the neutral exchange apispec.exchange judges (shared
    with the validating proxy)."""
    headers = {k: ", ".join(v) if isinstance(v, list) else v for k, v in response.headers.items()}
    return exchange.Exchange.of(op, response.status_code, headers, response.text or "",
                                inputs_of(case) if case is not None else None)


def answer_json(response):
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        return None


def is_success(response) -> bool:
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

    def validator(schema):
        return jsonschema.Draft4Validator(to_json_schema(schema or {}), format_checker=FORMAT_CHECKER)

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


def judged(case) -> tuple[Run | None, Operation | None]:
    """(run, operation) when a rule that judges an answer's content may judge this case: it is
    positive and valid against the operation's schemas; else the operation is None."""
    run, op = operation_for(case)
    if op is None or not _positive(case) or invalid_inputs(run, op, case):
        return run, None
    return run, op


def valid_success(case, response, op) -> bool:
    """Whether a case is one these rules judge: a valid request (`judged`), answered 2xx."""
    return op is not None and is_success(response) and judged(case)[1] is not None


def shown(response, limit: int = 200) -> str:
    """An answer's status and body, as it came: JSON compactly, anything else as text."""
    body = answer_json(response)
    text = json.dumps(body) if body is not None else (response.text or "(empty body)")
    return f"{response.status_code} {text[:limit]}"


def probe_curl(answer) -> str:
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


def fail(message: str):
    raise AssertionError(message)


def inputs_of(case) -> dict:
    """The request's query parameters and (for POST-style lists) body fields, by name."""
    values = dict(case.query or {})
    if isinstance(case.body, dict):
        values.update(case.body)
    return values


def _param_default(op: Operation, name: str | None):
    for param in op.parameters:
        if param["name"] == name:
            return param.get("schema", {}).get("default")
    return None


def requested(op: Operation, case, name: str | None):
    value = inputs_of(case).get(name)
    if value is None:
        value = _param_default(op, name)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def record_in(op: Operation, answer):
    """The record an answer of `op` carries: its body, or the `data` of the envelope its documented
    response wraps the record in (Amar's `{success, data: {...}}`, `apispec.schema.is_envelope`)."""
    body = answer_json(answer)
    schema = op.response_schema(answer.status_code) if op.response(answer.status_code) else op.response_schema()
    if is_envelope(schema) and isinstance(body, dict) and isinstance(body.get("data"), dict):
        return body["data"]
    return body


def resend(run: Run, case, identity: Identity | None):
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


# --- lists: their items, page sizes, every page of one --------------------------------------


FILTER_PAGES = 5  # at most this many pages of each list are fetched to judge a filter
FILTER_TRIES = 3  # cases tried per (operation, filter) until one has something to judge


def attempt(run: Run, *key, limit: int = FILTER_TRIES) -> bool:
    """Like `run.first_time`, but a rule may try up to `limit` cases until one gives it
    something to judge (then `settle`): still a bounded cost per operation."""
    counts = run.__dict__.setdefault("_rule_tries", {})
    with run._lock:
        if counts.get(key, 0) >= limit:
            return False
        counts[key] = counts.get(key, 0) + 1
        return True


def settle(run: Run, *key) -> None:
    with run._lock:
        run.__dict__.setdefault("_rule_tries", {})[key] = 10**9


def query_text(value):
    return ("true" if value else "false") if isinstance(value, bool) else value


items_of = exchange.items_of  # one reading of a list answer, the kernel's


def size_param(op: Operation) -> tuple[str | None, int | None]:
    """The page-size parameter and the largest page it allows (else its default)."""
    paging = ext.paging.of(op) or {}
    for param in op.parameters:
        if param["name"] == paging.get("size"):
            schema = param.get("schema", {})
            return param["name"], schema.get("maximum", schema.get("default"))
    return None, None


def fetch_list(run: Run, op: Operation, path: str, query: dict, body: dict | None):
    """Every item of a list as the run's identity, over at most FILTER_PAGES pages of the largest
    page size: (items, complete), or (None, False) when an answer could not be read."""
    paging = ext.paging.of(op) or {}
    query = {k: query_text(v) for k, v in query.items()}
    send_body = dict(body) if body is not None else None
    size_name, size = size_param(op)
    paged = paging.get("style", "none") != "none" and paging.get("page") and size_name and size
    items: list = []
    for page in range(1, (FILTER_PAGES if paged else 1) + 1):
        if paged:
            query = {**query, paging["page"]: page, size_name: size}
        answer = run.request(op.method, path, run.credentials.default, params=query or None,
                             json=dict(send_body) if send_body is not None else None)
        if page > 1 and answer.status_code == paging.get("out_of_range"):
            return items, True
        got = items_of(op, answer_json(answer)) if answer.status_code == 200 else None
        if got is None:
            return None, False
        items += got
        if not paged or len(got) < size:
            return items, True
    return items, False


def record_key(item):
    if isinstance(item, dict):
        for name in ("id", "url"):
            if item.get(name) is not None:
                return (name, str(item[name]))
    return ("item", json.dumps(item, sort_keys=True, default=str))
