"""`unique_rejection_is_real`: a valid request refused because a unique value is taken is excused only
when the refusal is true.

Eventify and Amar mark request-body fields `x-unique` (an email, a username, a phone number): a
valid request whose value another record already holds is refused, in the status the field's
`x-unique` rule gives (409 unless the spec says otherwise: Eventify's 400). Such a refusal (a 409,
or another status whose body names the field) is re-tried once with fresh values for every
`x-unique` field of the body (values valid for each field's schema, that no record can hold).
Accepted: the refusal was a real uniqueness conflict, and `positive_data_acceptance` does not count
it. Refused again: the server refuses a valid value whatever it is, and this rule reports it (in
place of `positive_data_acceptance`, whose report would not say what is wrong).

The re-try goes through Schemathesis (`Case.call`), so the `before_call` and `after_call` hooks
see it like any request of the run, and whatever it creates can be cleaned up like the rest.
`retry_with_fresh_values` is the one place it is sent.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import uuid
import weakref

import jsonschema
import requests

from apispec import ext
from apispec.model import Operation
from apispec.schema import to_json_schema

from .context import Run
from .rules.helpers import is_success, judged, rule, shown


def unique_fields(op: Operation) -> dict[str, dict]:
    """The request body's `x-unique` properties, by name."""
    return ext.unique.fields(op.body_schema())


def refusal_statuses(op: Operation) -> set[int]:
    """The statuses the operation's `x-unique` rules refuse a taken value with (409 by default;
    Eventify's 400): apispec.ext.unique owns the rule."""
    return {ext.unique.rule(prop)["status"] for prop in unique_fields(op).values()}


def claims_uniqueness(op: Operation, response) -> bool:
    """Whether an answer reads as a uniqueness refusal: the status a field's `x-unique` rule
    refuses a repeat with, and either that status is 409 (the conflict status itself) or the
    body names the field."""
    text = response.text or ""
    for name, prop in unique_fields(op).items():
        status = ext.unique.rule(prop)["status"]
        if response.status_code == status and (
                status == 409 or re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE)):
            return True
    return False


def fresh_value(schema: dict):
    """A value valid for `schema` that no record holds yet (None when it cannot make one: an
    enum, a pattern it does not meet)."""
    if schema.get("enum"):
        return None
    token = uuid.uuid4().hex
    kind = schema.get("type", "string")
    if kind == "integer":
        value = int(token[:12], 16)
    elif schema.get("format") == "email":
        value = f"ct.{token[:16]}@example.com"
    elif schema.get("format") == "uuid":
        value = str(uuid.uuid4())
    else:
        value = f"ct{token}"
        if schema.get("maxLength") is not None:
            value = value[: max(int(schema["maxLength"]), 0)]
        value = value.ljust(int(schema.get("minLength") or 0), "0")
    valid = jsonschema.Draft4Validator(to_json_schema(schema), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    return value if valid.is_valid(value) else None


@dataclasses.dataclass
class Retry:
    """The original request sent again with fresh values for its `x-unique` fields."""

    values: dict            # field -> the fresh value sent
    response: object        # the answer to it

    @property
    def accepted(self) -> bool:
        return is_success(self.response)


_retries: dict[int, dict] = {}  # id(run) -> {case id: Retry | None}, for as long as the run lives
_retries_lock = threading.Lock()


def _done(run: Run) -> dict:
    with _retries_lock:
        if id(run) not in _retries:
            _retries[id(run)] = {}
            weakref.finalize(run, _retries.pop, id(run), None)
        return _retries[id(run)]


def retry_with_fresh_values(run: Run, op: Operation, case) -> Retry | None:
    """Send `case` again with fresh values for the `x-unique` fields of its body, once per case
    (the answer is remembered: `filter_failure` and the rule ask for the same one). None when
    the body holds no such field or no valid fresh value can be made."""
    done = _done(run)
    if case.id in done:
        return done[case.id]
    retry = None
    fields = {name: prop for name, prop in unique_fields(op).items()
              if isinstance(case.body, dict) and name in case.body}
    values = {name: fresh_value(prop) for name, prop in fields.items()}
    if values and None not in values.values():
        again = case.operation.Case(method=case.method, path_parameters=dict(case.path_parameters or {}),
                                    headers=dict(case.headers or {}), cookies=dict(case.cookies or {}),
                                    query=dict(case.query or {}), body={**case.body, **values},
                                    media_type=case.media_type)
        try:
            answer = again.call(headers=dict(run.credentials.default.headers) or None, timeout=run.timeout)
        except requests.RequestException:
            answer = None
        # judged only by an acceptance or a rejection of the same kind; anything else (a 401, a
        # 429, a crash, no answer) says nothing of uniqueness, and the refusal stands as reported
        if answer is not None and (is_success(answer) or answer.status_code in refusal_statuses(op)):
            retry = Retry(values, answer)
    done[case.id] = retry
    return retry


def accepted_on_retry(run: Run, case_id: str) -> bool:
    """Whether the case was refused as a uniqueness conflict and accepted on its re-try."""
    with _retries_lock:
        retry = _retries.get(id(run), {}).get(case_id)
    return retry is not None and retry.accepted


def uniqueness_retry(case, response) -> Retry | None:
    """The re-try that judges `response` to `case`, when it is a uniqueness refusal of a valid
    request (None otherwise, or when no re-try can be made)."""
    run, op = judged(case)
    if op is None or not claims_uniqueness(op, response):
        return None
    return retry_with_fresh_values(run, op, case)


@rule
def unique_rejection_is_real(ctx, response, case):
    """A valid request refused as a uniqueness conflict is accepted once its `x-unique` fields
    hold fresh values: otherwise the server refuses a valid value, not a taken one."""
    retry = uniqueness_retry(case, response)
    if retry is None:
        return True
    if not retry.accepted:
        fresh = ", ".join(f"{k}={v!r}" for k, v in retry.values.items())
        raise AssertionError(
            f"A valid request was refused as if a unique value were taken: {shown(response)}. "
            f"Sent again with fresh values ({fresh}), it was refused again: {shown(retry.response)}. "
            f"The server refuses a valid value, not a taken one.")
    return None
