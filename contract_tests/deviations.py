"""Which failures rest only on what a document does not state: deviations, not violations.

`classify` is called by the runner for every failure a run records. It answers None for a
violation of the document, or the reason the failure is only a deviation:

- it is about an element the spec marks `x-inferred` (the operation, the response for the
  status, a request body, a parameter, a schema or property, or one keyword of a schema);
- a schema-violating request was accepted, and every way it breaks the schema is either
  inferred or a bound (`maximum`, `pattern`, `format`, ...) whose breach the document does not
  say is refused (the bound has no `x-messages` entry for its keyword);
- a valid request was refused with 400/409/422 in the API's own error body naming a field of
  the request: a business rule the document does not forbid (an event that ends before it
  starts, an integer past 2^53);
- a page rule failed on a request whose page size is past the documented maximum, and the
  page shows the size the server used instead (it capped rather than refused).

Everything is judged from the spec (`specs/README.md` gives each extension's meaning) and the
request and answer themselves; how the request breaks its schema is found by validating it
here, not read from Schemathesis. Deviations are listed apart and fail a run only with
`--strict`.
"""

from __future__ import annotations

import json
import re

import jsonschema

from apispec import ext
from apispec.schema import FORMAT_CHECKER, to_json_schema

BOUNDS = frozenset({"maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "maxLength", "minLength",
                    "maxItems", "minItems", "maxProperties", "minProperties", "pattern", "format",
                    "multipleOf", "uniqueItems"})
BUSINESS_RULE_STATUSES = (400, 409, 422)
PAGE_RULES = ("page_within_limit", "page_metadata_consistent")


def classify(rule: str, failure, case, response, contract) -> str | None:
    """None: a violation. A string: why this failure is a deviation, not a violation."""
    op = _operation(case, contract)
    if op is None:
        return None
    if ext.inferred.mark(op) is True:
        return f"{op.method} {op.path} is not in the document (the spec infers the whole operation)."
    judge = JUDGES.get(rule)
    if judge is None or response is None:
        return None  # every judge reads the answer; with none, nothing shows the failure is only ours
    return judge(op, case, response, contract)


def _operation(case, contract):
    definition = getattr(getattr(case, "operation", None), "definition", None)
    op_id = (getattr(definition, "raw", None) or {}).get("operationId")
    op = contract.operations.get(op_id)
    if op is None or str(case.method).upper() != op.method.upper():
        return None  # a probe with another method is not this operation
    return op


# --- how an instance breaks a schema, and whether each way rests on the document ----------------

_inferred = ext.inferred.covers  # whether a node, or one keyword of it, is inferred (`x-inferred`)


def _parts(node) -> list[dict]:
    """A schema node and the schemas it is made of (allOf/anyOf/oneOf), all holding its keywords."""
    if not isinstance(node, dict):
        return []
    out = [node]
    for key in ("allOf", "anyOf", "oneOf"):
        for part in node.get(key) or []:
            out += _parts(part)
    return out


def _child(node, segment):
    """The schema for `segment` (a property name or an array index) inside `node`."""
    for part in _parts(node):
        if isinstance(segment, int) and isinstance(part.get("items"), dict):
            return part["items"]
        if not isinstance(segment, int):
            if segment in (part.get("properties") or {}):
                return part["properties"][segment]
            if isinstance(part.get("additionalProperties"), dict):
                return part["additionalProperties"]
    return None


def _chain(schema: dict, path) -> list:
    """The schema nodes from `schema` down along an instance path (None where the schema ends)."""
    nodes, node = [schema], schema
    for segment in path:
        node = _child(node, segment) if node is not None else None
        nodes.append(node)
    return nodes


def _leaves(error):
    """The errors that say how an instance fails: an anyOf/oneOf (OpenAPI's `nullable` around a
    composite) is judged by its branches, less the `null` one."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        for sub in error.context:
            if sub.schema != {"type": "null"}:
                yield from _leaves(sub)
    else:
        yield error


_REQUIRED = re.compile(r"^'(.+)' is a required property")


def _how_broken(schema: dict, instance, *, bounds_unstated: bool, inferred_above: bool = False) -> tuple[list, list]:
    """(hard, soft) descriptions of how `instance` breaks `schema`: soft ways rest only on what
    the document does not state; with `bounds_unstated`, a bound without an `x-messages` entry for
    its keyword counts as such (a request the document does not say is refused)."""
    validator = jsonschema.Draft4Validator(to_json_schema(schema), format_checker=FORMAT_CHECKER)
    hard, soft = [], []
    for top in validator.iter_errors(instance):
        for error in _leaves(top):
            path = list(error.absolute_path)
            nodes = _chain(schema, path)
            keyword = error.validator
            where = "/".join(map(str, path)) or "(root)"
            holder = nodes[-1]
            target = holder
            if keyword == "required":
                match = _REQUIRED.match(error.message)
                target = _child(holder, match.group(1)) if match and holder is not None else None
            reason = None
            if inferred_above or any(_inferred(n) for n in nodes) or (keyword == "required" and _inferred(target)):
                reason = "inferred"
            elif any(_inferred(p, keyword) for p in _parts(holder)):
                reason = f"inferred {keyword}"
            elif bounds_unstated and keyword in BOUNDS and not any(
                    keyword in ext.errors.messages(p) for p in _parts(holder)):
                reason = f"{keyword} whose breach the document does not say is refused"
            described = f"{where}: {error.message[:120]}"
            (soft if reason else hard).append(f"{described} ({reason})" if reason else described)
    return hard, soft


# --- the request as the server saw it ----------------------------------------------------------

_NOT_GIVEN = object()


def _wire_value(value, schema: dict):
    """A query/path/header value as a server reads it from text, typed by its schema."""
    kind = (schema or {}).get("type")
    if isinstance(value, (list, dict)) or value is None:
        return value
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    if kind == "integer" and re.fullmatch(r"-?\d+", text):
        return int(text)
    if kind == "number":
        try:
            return float(text) if not re.fullmatch(r"-?\d+", text) else int(text)
        except ValueError:
            return text
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    if kind == "string":
        return text
    return value


def _sent(case, location: str, name: str):
    source = {"query": case.query, "path": case.path_parameters, "header": case.headers,
              "cookie": case.cookies}.get(location) or {}
    if location == "header":
        return next((v for k, v in source.items() if k.lower() == name.lower()), _NOT_GIVEN)
    return source.get(name, _NOT_GIVEN)


def _body(case):
    body = getattr(case, "body", None)
    return _NOT_GIVEN if body is None or type(body).__name__ == "NotSet" else body


def _request_breaks(op, case) -> tuple[list, list]:
    """(hard, soft): every way the request breaks the operation's parameters and body."""
    hard, soft = [], []
    for param in op.parameters:
        value = _sent(case, param.get("in"), param["name"])
        schema = param.get("schema") or {}
        label = f"{param['in']} parameter {param['name']}"
        if value is _NOT_GIVEN:
            if param.get("required"):
                (soft if _inferred(param) else hard).append(f"{label} missing")
            continue
        h, s = _how_broken(schema, _wire_value(value, schema), bounds_unstated=True,
                           inferred_above=_inferred(param))
        hard += [f"{label}: {e}" for e in h]
        soft += [f"{label}: {e}" for e in s]
    body_spec = op.spec.get("requestBody") or {}
    body = _body(case)
    if body is _NOT_GIVEN:
        if body_spec.get("required"):
            (soft if _inferred(body_spec) else hard).append("request body missing (required body inferred)"
                                                           if _inferred(body_spec) else "request body missing")
    elif body_spec:
        h, s = _how_broken(op.body_schema(), body, bounds_unstated=True, inferred_above=_inferred(body_spec))
        hard += [f"body {e}" for e in h]
        soft += [f"body {e}" for e in s]
    return hard, soft


# --- the judges, by rule -------------------------------------------------------------------------

def _status_code(op, case, response, contract) -> str | None:
    status = response.status_code
    documented = {str(s): r for s, r in op.spec["responses"].items() if str(s).startswith("2")}
    if 200 <= status < 300 and documented and all(_inferred(r) for r in documented.values()):
        return (f"the document does not state the success status of {op.method} {op.path} (the spec's "
                f"{', '.join(sorted(documented))} is inferred); {status} is as good an answer.")
    return None


def _response_schema(op, case, response, contract) -> str | None:
    declared = op.response(response.status_code)
    if declared is None:
        return None
    if _inferred(declared):
        return f"the document shows no {response.status_code} answer of {op.method} {op.path}; the spec's is inferred."
    schema = op.response_schema(response.status_code)
    body = _json(response)
    if not schema or body is _NOT_GIVEN:
        return None
    hard, soft = _how_broken(schema, body, bounds_unstated=False)
    if soft and not hard:
        return ("the answer differs from the spec only where the spec infers what the document does not "
                f"state: {'; '.join(soft[:3])}.")
    return None


def _negative_data(op, case, response, contract) -> str | None:
    hard, soft = _request_breaks(op, case)
    if soft and not hard:
        return (f"the request breaks only what the document does not say is refused, so accepting it is the "
                f"server's choice: {'; '.join(soft[:3])}.")
    return None


def _positive_data(op, case, response, contract) -> str | None:
    from .rules.errors import shape_errors  # one reading of the API's error body, the rules' own

    if response.status_code not in BUSINESS_RULE_STATUSES:
        return None
    body = _json(response)
    try:
        template = contract.error_template(response.status_code, op)
    except LookupError:
        return None
    if body is _NOT_GIVEN or shape_errors(template, body):
        return None
    named = _named_field(body, _request_fields(op, case, contract), _template_keys(template))
    if named is None:
        return None
    return (f"a valid request was refused with {response.status_code} in the API's own error body naming "
            f"`{named}`: a business rule the document does not forbid.")


def _response_headers(op, case, response, contract) -> str | None:
    declared = (op.response(response.status_code) or {}).get("headers") or {}
    missing = [name for name, header in declared.items()
               if header.get("required") and name.lower() not in response.headers]
    if missing and all(_inferred(declared[name]) for name in missing):
        return (f"the answer lacks only headers whose names the spec infers ({', '.join(missing)}); the "
                f"document does not name them.")
    return None


def _page_past_maximum(op, case, response, contract) -> str | None:
    paging = ext.paging.of(op) or {}
    size_name = paging.get("size")
    param = next((p for p in op.parameters if p["name"] == size_name), None)
    schema = (param or {}).get("schema") or {}
    maximum = schema.get("maximum")
    value = _sent(case, "query", size_name) if param else _NOT_GIVEN
    requested = _wire_value(value, schema) if value is not _NOT_GIVEN else None
    if (maximum is None or not isinstance(requested, int) or isinstance(requested, bool) or requested <= maximum
            or "maximum" in ext.errors.messages(schema)):
        return None
    body = _json(response)
    where = paging.get("items", "$")
    items = body if where == "$" else (body.get(where) if isinstance(body, dict) else None)
    if not isinstance(items, list) or len(items) > maximum:
        return None
    if where != "$":
        meta = ext.paging.meta_in_body(op, body)
        limit = ext.paging.meta_names(op).get("limit")
        if meta is None or maximum not in (meta.get(limit), meta.get(size_name)):
            return None
    return (f"{size_name}={requested} is past the documented maximum {maximum}, which the document does not say "
            f"is refused; the server capped it, and the page shows the size it used ({maximum}).")


JUDGES = {
    "status_code_conformance": _status_code,
    "response_schema_conformance": _response_schema,
    "negative_data_rejection": _negative_data,
    "positive_data_acceptance": _positive_data,
    "response_headers_conformance": _response_headers,
    "page_within_limit": _page_past_maximum,
    "page_metadata_consistent": _page_past_maximum,
}


# --- helpers -------------------------------------------------------------------------------------

def _json(response):
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError, AttributeError):
        return _NOT_GIVEN


def _request_fields(op, case, contract) -> set[str]:
    """The names of the fields the request carried (body keys at any depth, query and path names),
    less the credential fields (Eventify's token and username) and the `x-unique` fields, whose
    refusals are judged by the uniqueness rules."""
    names: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                names.add(str(key))
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    body = _body(case)
    if body is not _NOT_GIVEN:
        walk(body)
    names |= {str(k) for k in (case.query or {})} | {str(k) for k in (case.path_parameters or {})}
    names -= set((ext.credentials.body_auth(contract) or {}).values())
    names -= set(ext.unique.fields(op.body_schema()))
    return names


def _template_keys(template) -> set[str]:
    """The keys an error body has whatever it says (`error`, `code`, `message`): naming no field."""
    if isinstance(template, dict):
        return {k for k in template if not k.startswith("{")} | {
            k for v in template.values() for k in _template_keys(v)}
    if isinstance(template, list):
        return {k for v in template for k in _template_keys(v)}
    return set()


def _named_field(body, fields: set[str], own_keys: set[str]) -> str | None:
    """The first request field the error body names, as a key of its own (not one every error body
    has) or a word of its text."""
    keys: set[str] = set()
    texts: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                keys.add(str(key))
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            texts.append(node)

    walk(body)
    text = " ".join(texts)
    as_keys = sorted(name for name in fields if name in keys and name not in own_keys)
    if as_keys:
        return as_keys[0]
    found = [(match.start(), name) for name in fields
             for match in [re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", text)] if match]
    return min(found)[1] if found else None
