"""Errors are values; each API renders them in its own body, from its spec's `x-error-body`."""

from __future__ import annotations

import json
import logging

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionResponse
from starlette.exceptions import HTTPException

from .contract import Contract

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


def render(contract: Contract, error: ApiError, operation_id: str | None = None) -> ConnexionResponse:
    operation = contract.operations.get(operation_id) if operation_id else None
    template = contract.error_template(error.template or error.status, operation)
    codes = contract.ext("error-codes", {})
    code = codes.get(error.status, codes.get(str(error.status), f"HTTP_{error.status}"))
    body = fill(template, {"message": error.message, "code": code,
                           "field": error.field or "non_field_errors", "fields": error.fields})
    headers = dict(error.headers)
    response = operation.response(error.status) if operation else None
    for name, header in ((response or {}).get("headers") or {}).items():
        # headers a status always carries with a fixed value (WWW-Authenticate: Token)
        schema = header.get("schema", {})
        if header.get("required") and name not in headers and len(schema.get("enum", [])) == 1:
            headers[name] = schema["enum"][0]
    return ConnexionResponse(status_code=error.status, content_type="application/json",
                             body=json.dumps(body), headers=headers)


# Connexion's own problems, said in words a frontend developer can act on.
_REWORDED = {
    "No authorization token provided": "Missing API key: send an Authorization header",
    "Provided token is not valid": "Invalid API key",
    "Provided apikey is not valid": "Invalid API key",
    "Invalid authorization header": "Malformed Authorization header",
}


def _operation_id(request) -> str | None:
    return request.scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id")


def install(app, contract: Contract) -> None:
    """Register error handlers that answer every failure in the API's own body."""

    async def on_api_error(request, exc: ApiError):
        return render(contract, exc, _operation_id(request))

    async def on_http_error(request, exc: HTTPException):
        status = exc.status_code
        detail = str(exc.detail or "")
        if status == 415:
            # No document lists 415; all say a bad request body is a 400.
            status, detail = 400, "Content-Type must be application/json: " + detail
        elif status == 404 and detail in ("", "Not Found"):
            detail = f"No route for {request.method} {request.url.path}"
        headers = dict(exc.headers or {})
        if status == 405:
            detail = f"Method {request.method} not allowed on {request.url.path}"
            headers["Allow"] = ", ".join(contract.methods_at(request.url.path))
        detail = _REWORDED.get(detail, detail)
        return render(contract, ApiError(status, detail, headers=headers), _operation_id(request))

    async def on_bad_utf8(request, exc):
        return render(contract, ApiError(400, "Request body is not valid UTF-8"), _operation_id(request))

    async def on_crash(request, exc):
        log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
        return render(contract, ApiError(500, "Internal server error"), _operation_id(request))

    app.add_error_handler(ApiError, on_api_error)
    for cls in (ProblemException, HTTPException):
        app.add_error_handler(cls, on_http_error)
    app.add_error_handler(UnicodeDecodeError, on_bad_utf8)
    app.add_error_handler(Exception, on_crash)
