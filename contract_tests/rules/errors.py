"""The API's own error body: how an answer differs from it (`x-error-body` templates, the
operation's documented alternatives), and the rule that every error is in it."""

from __future__ import annotations

from apispec import exchange, ext
from apispec.exchange import shape_errors
from apispec.model import Operation

from ..context import Run
from .helpers import answer_json, exchange_of, fail, operation_for, rule, shown

__all__ = ["error_body_errors", "error_body_matches_api", "error_body_problems", "shape_errors"]


def error_body_errors(run: Run, op: Operation, response) -> list[str]:
    """How an error answer differs from every body the API gives for its status (empty: it is one
    of them): apispec.exchange's judgment, the one the validating proxy makes too. Raises
    LookupError without a template."""
    return exchange.error_body_errors(run.contract, exchange_of(op, response))


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
