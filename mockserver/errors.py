"""Errors are values; each API renders them in its own body, from its spec's `x-error-body`."""

from __future__ import annotations

import json
import logging

from connexion.lifecycle import ConnexionResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response

from apispec import ext
from apispec.model import Contract

from . import journal

log = logging.getLogger("mockserver")


class ApiError(Exception):
    """A failed request: status, a message naming what was wrong, and the field when there is one.

    `fields` ({field: message}) reports several fields at once where the body has a `{field}`
    key; `template` names the `x-error-body` entry to render with when it is not the status's
    own (`default`: the standard body, for a 401 that is not the API's usual 401 body).
    """

    def __init__(self, status: int, message: str, *, field: str | None = None, headers=None,
                 fields: dict[str, str] | None = None, template: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = dict(fields or {})
        self.field = field or next(iter(self.fields), None)
        self.headers = dict(headers or {})
        self.template = template


def fill(template, values: dict):
    """The template with its `{placeholder}` strings (values and keys) replaced."""
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            if key == "{field}" and values.get("fields"):  # one entry per offending field
                for name, message in values["fields"].items():
                    out[name] = fill(value, {**values, "field": name, "message": message})
            else:
                out[fill(key, values)] = fill(value, values)
        return out
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    if isinstance(template, str) and template.startswith("{") and template.endswith("}"):
        return values.get(template[1:-1], template)
    return template


def render(contract: Contract, error: ApiError, operation_id: str | None = None) -> Response:
    operation = contract.operations.get(operation_id) if operation_id else None
    template = contract.error_template(error.template or error.status, operation)
    codes = ext.errors.codes(contract)
    code = codes.get(error.status, codes.get(str(error.status), f"HTTP_{error.status}"))
    body = fill(template, {"message": error.message, "code": code,
                           "field": error.field or "non_field_errors", "fields": error.fields})
    response = operation.response(error.status) if operation else None
    headers = {**fixed_headers(response), **error.headers}
    return Response(json.dumps(body), status_code=error.status, media_type="application/json", headers=headers)


def fixed_headers(response: dict | None) -> dict[str, str]:
    """The headers a documented response always carries with one fixed value (WWW-Authenticate: Token)."""
    fixed = {}
    for name, header in ((response or {}).get("headers") or {}).items():
        schema = header.get("schema", {})
        if header.get("required") and len(schema.get("enum", [])) == 1:
            fixed[name] = schema["enum"][0]
    return fixed


def as_api_error(contract: Contract, request, exc: Exception) -> ApiError:
    """Any failure as the ApiError the API answers with (`request`: method, url and scope)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, HTTPException):  # Starlette's, and Connexion's ProblemExceptions (the docs)
        status = exc.status_code
        detail = str(exc.detail or "")
        if status == 404 and detail in ("", "Not Found"):
            detail = f"No route for {request.method} {request.url.path}"
        headers = dict(exc.headers or {})
        if status == 405:
            detail = f"Method {request.method} not allowed on {request.url.path}"
            headers["Allow"] = ", ".join(contract.methods_at(request.url.path))
        return ApiError(status, detail, headers=headers)
    if isinstance(exc, UnicodeDecodeError):
        return ApiError(400, "Request body is not valid UTF-8")
    log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return ApiError(500, "Internal server error")


def error_response(contract: Contract, request, exc: Exception) -> Response:
    """The response to any failure, in the API's own body (`request`: method, url and scope)."""
    error = as_api_error(contract, request, exc)
    journal.note(getattr(request, "scope", None), why=error.message)  # the console shows why
    return render(contract, error, journal.operation_of(request.scope))


def install(app, contract: Contract) -> None:
    """Register error handlers on the Connexion app behind /__docs, so that what fails there (an
    unknown file, a method the spec's JSON is not served with) is answered in the API's own body."""

    async def on_error(request, exc: Exception):
        answer = error_response(contract, request, exc)
        headers = {k: v for k, v in answer.headers.items() if k not in ("content-type", "content-length")}
        return ConnexionResponse(status_code=answer.status_code, content_type=answer.media_type,
                                 body=answer.body, headers=headers)

    for cls in (HTTPException, Exception):
        app.add_error_handler(cls, on_error)
