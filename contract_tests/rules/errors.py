"""The API's own error body: how an answer differs from it (`x-error-body` templates, the
operation's documented alternatives), and the rule that every error is in it."""

from __future__ import annotations

import jsonschema

from apispec import ext
from apispec.model import Operation
from apispec.schema import properties, to_json_schema

from ..context import Run
from .helpers import answer_json, fail, operation_for, rule, shown


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


def error_body_errors(run: Run, op: Operation, response) -> list[str]:
    """How an error answer differs from every body the API gives for its status (empty: it is one
    of them). The `x-error-body` template is one; each alternative the operation's documented
    response schema offers (`anyOf`/`oneOf`) is another. Raises LookupError without a template."""
    template = run.contract.error_template(response.status_code, op)
    body = answer_json(response)
    if body is None and (response.text or "").strip() not in ("", "null"):
        kind = response.headers.get("content-type") or "no content type"
        return [f"body is not JSON ({kind if isinstance(kind, str) else ', '.join(kind)})"]
    errors = shape_errors(template, body)
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
    props = properties(schema)
    if isinstance(body, dict) and props and schema.get("additionalProperties") in (None, False):
        errors += [f"body.{k} is not part of this error body" for k in body if k not in props]
    return errors


def error_body_problems(run: Run, op: Operation, answer) -> list[str]:
    """How an answer's body differs from the API's error body for its status; where the spec's
    templates admit several bodies (Eventify's 401: `invalid_token`, or the standard body for a
    token mismatch), any of them will do."""
    body = answer_json(answer)
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
    found = [shape_errors(t, body) for t in templates]
    return [] if any(not errors for errors in found) else found[0]


@rule
def error_body_matches_api(ctx, response, case):
    """Every error is in the API's own error body: the `x-error-body` template for its status, or
    one of the bodies the operation documents for it (`anyOf`/`oneOf` alternatives)."""
    run, op = operation_for(case)
    if not op or response.status_code < 400:
        return True
    try:
        errors = error_body_errors(run, op, response)
    except LookupError:
        return True
    if errors:
        fail(f"{response.status_code} body is not the API's error body: " + "; ".join(errors[:3])
             + f". Body: {shown(response)}")
    return None
