"""The one request path: every API request goes through these stages, built once per operation
at start-up (Prism's named stages are the model):

    route      routing.Router: the operation for the method and path (404, 405, a slash redirect)
    limits     limits.InputGate: too many query parameters, two Authorization headers, no Host,
               a stated body over the limit (400, 413)
    security   auth.Security: the operation's schemes, the principal from `Mock.authenticate` (401)
    policy     ratelimit.KeyPolicy: the rate limit, then `x-access` (429, 403); its headers go on
               every answer from here on, errors too
    params     validation.ParamsValidator: path, query, header and cookie parameters, resolved by
               the spec's style rules (connexion.uri_parsing.OpenAPIURIParser), the last of a
               repeated one counting; then typed, with the query's defaults filled in
    body       the Content-Type against what the operation takes, then validation.BodyValidator:
               read, parse (400 for malformed JSON), validate (400 naming the field)
    handle     Mock.answerer: the operation's behaviour -> (body, status, headers)
    respond    JSON encoding (encoding.py) and the content type the operation documents
    check      validation.ResponseCheck, when Settings.validate_responses: an answer off its
               documented response is the API's 500

A failure at any stage is answered in the API's own error body (errors.error_response) and
journaled with its why. `/__docs` (Swagger UI) and `/openapi.json` are handed to Connexion, which
serves them (docs.py).
"""

from __future__ import annotations

import copy

from connexion.uri_parsing import OpenAPIURIParser
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from . import encoding, journal
from .auth import Security
from .errors import ApiError, error_response
from .routing import FOUND, NOT_ALLOWED, REDIRECT, Router
from .validation import (
    BodyValidator,
    ParamsValidator,
    ResponseCheck,
    media_type_matches,
    split_content_type,
    typed,
)

JSON = "application/json"


class URIParser(OpenAPIURIParser):
    """The spec's rules for reading path and query values (styles, `explode`, arrays, the last of a
    repeated value counting), with the parameters' schemas gathered once, not on every lookup."""

    def __init__(self, parameters: list[dict], body_definition: dict):
        super().__init__(parameters, body_definition)
        self.schemas = {name: param.get("schema", {}) for name, param in self.param_defns.items()}

    @property
    def param_schemas(self):
        return self.schemas


def is_json(mime: str | None) -> bool:
    if not mime or "/" not in mime:
        return False
    main, _, sub = mime.partition("/")
    sub = sub.split(";", 1)[0]
    return main == "application" and (sub == "json" or sub.endswith("+json"))


def _query_defaults(definitions: dict[str, dict]) -> dict:
    """Each query parameter's default (an object's built from its properties' defaults)."""
    defaults = {}
    for name, param in definitions.items():
        schema = param.get("schema", {})
        if "default" in param:
            defaults[name] = param["default"]
        elif schema.get("type") == "object":
            defaults[name] = copy.deepcopy(schema["default"]) if "default" in schema else \
                _object_default(schema.get("properties", {}), {})
        elif "default" in schema:
            defaults[name] = schema["default"]
    return defaults


def _object_default(properties: dict, out: dict) -> dict:
    for name, prop in properties.items():
        if "default" in prop and name not in out:
            out[name] = copy.copy(prop["default"])
        elif prop.get("type") == "object" and "properties" in prop:
            out[name] = _object_default(prop["properties"], out.setdefault(name, {}))
    return out


def _deep_merge(into: dict, values: dict) -> dict:
    for key, value in values.items():
        if isinstance(into.get(key), dict) and isinstance(value, dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value
    return into


class Params:
    """The params stage: validate, then the handler's arguments by their spec names."""

    def __init__(self, parameters: list[dict], body_definition: dict):
        self.uri = URIParser(parameters, body_definition)
        self.validator = ParamsValidator(parameters)
        self.path = {p["name"]: p for p in parameters if p["in"] == "path"}
        self.query = {p["name"]: p for p in parameters if p["in"] == "query"}
        self.defaults = _query_defaults(self.query)
        # scalar defaults merge as a plain update; anything nested takes a deep merge
        self.flat = not any(isinstance(v, dict | list) for v in self.defaults.values())
        self.reads_headers = any(p["in"] in ("header", "cookie") for p in parameters)

    def __call__(self, request: Request, path_params: dict) -> dict:
        path = self.uri.resolve_path(path_params) if self.path else {}
        query = {}
        if self.query:
            lists: dict[str, list[str]] = {}
            for key, value in request.query_params.multi_items():  # one pass (getlist scans per key)
                lists.setdefault(key, []).append(value)
            query = self.uri.resolve_query(lists)
        headers, cookies = (request.headers, request.cookies) if self.reads_headers else ({}, {})
        self.validator.validate(path, query, headers, cookies)
        arguments = {}
        for name, definition in self.path.items():
            key = name.replace("-", "_")
            if key in path:
                arguments[name] = typed(path[key], definition) if key == name else path[key]
        if self.query:
            merged = {**self.defaults, **query} if self.flat else _deep_merge(copy.deepcopy(self.defaults), query)
            for name, value in merged.items():
                definition = self.query.get(name)
                if definition is not None:
                    arguments[name] = typed(value, definition)
        return arguments


class Body:
    """The body stage: the Content-Type against what the operation takes (a missing one is taken
    as the first), then the body read, parsed and validated (JSON); what the handler gets."""

    def __init__(self, request_body: dict):
        self.content = request_body.get("content") or {}
        self.consumes = list(self.content)
        # by each media type (or range) the operation takes, lower-cased: the JSON ones' validators
        self.validators = {mime.lower(): BodyValidator(request_body, media) if is_json(mime) else None
                           for mime, media in self.content.items()}

    async def __call__(self, scope, receive):
        content_type = length = None
        for name, value in scope["headers"]:
            if name == b"content-type" and content_type is None:
                content_type = value.decode("latin-1")
            elif name == b"content-length":
                length = value
        mime, encoding = split_content_type(content_type)
        mime = mime or self.consumes[0]
        encoding = encoding or "utf-8"
        declared = media_type_matches(mime.lower(), self.validators)
        if declared is None:
            raise ApiError(400, f"Content-Type must be application/json: Invalid Content-type ({mime}), "
                                f"expected {self.consumes}")
        validator = self.validators[declared]
        stated = length is not None and length.isdigit() and int(length) > 0
        if validator is None:  # a media type taken as it comes
            raw = await read(receive)
            return raw or None
        if stated:
            raw = await read(receive)
        else:  # no length stated: the schema's default stands in for the body, if it has one
            raw = validator.missing(encoding)
            if raw is None:
                raw = await read(receive)
        body = validator.parse(raw, encoding)
        validator.validate(body)
        return validator.argument(body)


async def read(receive) -> bytes:
    chunks = []
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


class Respond:
    """The respond stage: the handler's (body, status, headers) as a response, in the content type
    the operation documents (JSON encoded)."""

    def __init__(self, produces: list[str]):
        self.produces = produces
        kinds = set(produces)
        self.only = next(iter(kinds)) if len(kinds) == 1 else None

    def __call__(self, result) -> Response:
        data, status, headers = result
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        if content_type is not None:
            if content_type not in set(self.produces) | ({JSON} if data is not None and not self.produces else set()):
                raise ApiError(500, f"Returned content type ({content_type}) is not defined in operation spec "
                                    f"({self.produces}).")
        elif self.only is not None:
            content_type = self.only
        elif not self.produces:
            content_type = None if data is None else JSON
        elif isinstance(data, str) and any("text/plain" in p for p in self.produces):
            content_type = next(p for p in reversed(self.produces) if "text/plain" in p)
        else:
            raise ApiError(500, "Multiple response content types are defined in the operation spec, but the "
                                "handler response did not specify which one to return.")
        if data is not None and is_json(split_content_type(content_type)[0]):
            data = encoding.dumps(data)
        status = status or (200 if data is not None else 204)
        if content_type and not any(k.lower() == "content-type" for k in headers):
            headers = {**headers, "Content-Type": content_type}
        return Response(content=data, status_code=status, media_type=content_type, headers=headers)


class OperationPipeline:
    """One operation's stages after the route, built once."""

    def __init__(self, mock, operation, gate, policy):
        spec = operation.spec
        self.operation_id = operation.operation_id
        self.contract = mock.contract
        self.gate = gate
        self.security = Security(mock.contract, spec.get("security") or [], mock.authenticate)
        self.policy = policy
        request_body = spec.get("requestBody") or {}
        content = request_body.get("content") or {}
        first = next(iter(content.values()), {})
        self.params = Params(operation.parameters, first)
        self.body = Body(request_body) if request_body else None
        self.answer = mock.answerer(operation.operation_id)
        produces = [mime for response in spec.get("responses", {}).values() for mime in (response.get("content") or {})]
        self.respond = Respond(produces)
        self.check = ResponseCheck(spec, produces) if mock.settings.validate_responses else None

    async def __call__(self, scope, receive, send, path_params: dict) -> None:
        request = Request(scope, receive)
        rate = None
        try:
            self.gate.check(scope)
            principal = self.security.principal(request)
            if principal is not None:
                rate = self.policy.admit(principal, self.operation_id)
            params = self.params(request, path_params)
            body = await self.body(scope, receive) if self.body is not None else None
            response = self.respond(self.answer(params, body, principal, request, rate))
            if self.check is not None:
                self.check.check(response.status_code, dict(response.headers.items()), response.body)
        except Exception as exc:  # noqa: BLE001 - every failure is answered in the API's body
            if rate and isinstance(exc, ApiError):
                exc.headers = {**rate, **exc.headers}
            elif rate and isinstance(exc, HTTPException):
                exc.headers = {**rate, **(exc.headers or {})}
            response = error_response(self.contract, request, exc)
        await response(scope, receive, send)


class Pipeline:
    """The ASGI app of one API: routes each request to its operation's pipeline; `/__docs` and
    `/openapi.json` (and lifespan events) go to `docs`, the Connexion app that serves them."""

    def __init__(self, mock, gate, policy, docs):
        self.mock = mock
        self.gate = gate
        self.docs = docs
        self.router = Router()
        for operation in mock.contract.operations.values():
            self.router.add(operation.path, operation.method,
                            OperationPipeline(mock, operation, gate, policy))

    def operation_id(self, scope) -> str | None:
        """The operationId that serves the request, if one does."""
        match = self.router.match(scope)
        return match.target.operation_id if match.kind == FOUND else None

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http" or path == "/openapi.json" or path == "/__docs" or path.startswith("/__docs/"):
            await self.docs(scope, receive, send)
            return
        match = self.router.match(scope)
        if match.kind == FOUND:
            scope.setdefault("extensions", {})[journal.OPERATION] = match.target.operation_id
            scope["path_params"] = match.path_params
            await match.target(scope, receive, send, match.path_params)
            return
        if match.kind == REDIRECT:
            await RedirectResponse(match.location, status_code=307)(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            if match.kind == NOT_ALLOWED:
                raise HTTPException(405)
            self.gate.check(scope)
            raise HTTPException(404)
        except Exception as exc:  # noqa: BLE001 - answered in the API's body
            response = error_response(self.mock.contract, request, exc)
        await response(scope, receive, send)
