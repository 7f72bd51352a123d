"""A fast path: the same steps as the Connexion stack, built once per operation.

Connexion's per-request stack (two routers, six middlewares, a new parameter validator, URI
parser, body validator and handler decorator per request) costs several times what the mock's
own work does. For a request that matches exactly one operation of the spec and carries either
no body (an operation without one) or a JSON body with its length stated (an operation that
takes JSON), this runs the same pieces in the same order, each built once at start-up:

    security   Connexion's own verification function for the operation (OR'd requirements,
               the same 401 messages), asking `Mock.authenticate` for the principal
    policy     KeyPolicy.guard: the rate limit, then `x-access` (rate headers on what follows)
    params     validation.ParamsValidator over Connexion's URI parser (types, defaults, messages)
    body       validation.BodyValidator: parse (400 for malformed JSON) and validate the body
    arguments  Connexion's own extraction of typed path and query arguments (defaults filled in)
               and of the body argument (a missing optional body is the schema's default)
    handler    Mock.answerer, the function behind Mock.handler, with the same inputs
    response   Connexion's response decorator (JSON encoding, content type)
    validation Connexion's response validation when Settings.validate_responses is on
    errors     errors.error_response, as the Connexion path's error handlers answer

Anything else (an unknown or ambiguous path, another content type, a body where the operation
takes none, a chunked body, docs and admin paths) goes to Connexion unchanged, and
tests/mock/test_fastpath.py holds the two paths to the same answers. So does a request that may
be over a limit (limits.InputGate refuses it there): a body over `max_body_bytes`, as many `&`
in the query as `max_query_params`, two `Authorization` headers, HTTP/1.1 without `Host`.
"""

from __future__ import annotations

import re

from connexion.context import _context, _operation, _receive, _scope
from connexion.decorators.parameter import (
    _get_body_argument,
    _get_path_arguments,
    _get_query_arguments,
    _get_query_defaults,
    _query_args_helper,
)
from connexion.decorators.response import AsyncResponseDecorator
from connexion.frameworks.starlette import Starlette as StarletteFramework
from connexion.lifecycle import ConnexionRequest
from connexion.middleware.response_validation import ResponseValidationOperation
from connexion.middleware.security import SecurityOperation
from connexion.resolver import Resolver
from connexion.security import SecurityHandlerFactory
from connexion.spec import OpenAPISpecification
from connexion.uri_parsing import OpenAPIURIParser
from connexion.utils import is_nullable
from starlette.responses import Response

from .auth import security_map
from .encoding import JSONIFIER
from .errors import error_response
from .validation import VALIDATORS, BodyValidator, ParamsValidator

JSON = "application/json"
# the Content-Type values the fast path reads a body under (any other goes to Connexion)
_JSON_TYPES = frozenset({b"application/json", b"application/json; charset=utf-8", b"application/json;charset=utf-8"})
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _URIParser(OpenAPIURIParser):
    """Connexion's URI parser with the parameter schemas looked up once, not on every use."""

    def __init__(self, param_defns, body_defn):
        super().__init__(param_defns, body_defn)
        self._schemas = super().param_schemas

    @property
    def param_schemas(self):
        return self._schemas


class _Responses(AsyncResponseDecorator):
    """Connexion's response building, with the operation's content type worked out once."""

    def __init__(self, produces):
        super().__init__(framework=StarletteFramework, jsonifier=JSONIFIER)
        kinds = set(produces)
        self._only = next(iter(kinds)) if len(kinds) == 1 else None
        self._none = not kinds

    def _infer_content_type(self, data, headers):
        if not any(name.lower() == "content-type" for name in headers):
            if self._only is not None:
                return self._only
            if self._none:
                return None if data is None else JSON
        return super()._infer_content_type(data, headers)


class _Body:
    """Reads, parses and validates a JSON body, as Connexion's request validation does."""

    def __init__(self, op):
        self.nullable = is_nullable(op.body_definition(JSON))
        self.validator = BodyValidator(schema=op.body_schema(JSON), required=op.request_body.get("required", False),
                                       nullable=self.nullable, encoding="utf-8", strict_validation=False)
        self.op = op

    async def read(self, receive):
        async def stream():
            more = True
            while more:
                message = await receive()
                more = message.get("more_body", False)
                yield message.get("body", b"")

        body = await self.validator._parse(stream(), scope=None)
        if not (body is None and self.nullable):
            self.validator._validate(body)
        return _get_body_argument(body, operation=self.op, arguments=(), has_kwargs=True, content_type=JSON,
                                  sanitize=_same)["body"]


class _Query:
    """Typed query arguments with the operation's defaults worked out once."""

    def __init__(self, op):
        self.op = op
        self.definitions = {p["name"]: p for p in op.parameters if p["in"] == "query"}
        self.defaults = _get_query_defaults(self.definitions)
        # scalar defaults merge as a plain update; anything nested takes Connexion's deep merge
        self.flat = not any(isinstance(v, dict | list) for v in self.defaults.values())

    def arguments(self, query_params: dict) -> dict:
        if not self.definitions:
            return {}
        if not self.flat:
            return _get_query_arguments(query_params, operation=self.op, arguments=(), has_kwargs=True,
                                        sanitize=_same)
        return _query_args_helper(self.definitions, {**self.defaults, **query_params}, (), True, _same)


class _Route:
    """One operation, its pieces built once."""

    def __init__(self, fast: FastPath, op, spec_op):
        self.operation_id = spec_op.operation_id
        self.op = op
        self.uri_parser = _URIParser(op.parameters, op.body_definition())
        self.security = SecurityOperation.from_operation(
            op, next_app=None, security_handler_factory=fast.security_factory)
        self.params = ParamsValidator(op.parameters, uri_parser=self.uri_parser)
        self.has_path = any(p["in"] == "path" for p in op.parameters)
        self.query = _Query(op)
        self.body = _Body(op) if spec_op.spec.get("requestBody") else None
        self.responses = _Responses(op.produces)
        self.answer = fast.mock.answerer(spec_op.operation_id)
        self.validate_response = (ResponseValidationOperation(_send_response, operation=op,
                                                              validator_map=VALIDATORS)
                                  if fast.mock.settings.validate_responses else _send_response)
        self.fast = fast

    async def __call__(self, scope, receive, send):
        fast = self.fast
        extensions = scope["extensions"]
        extensions["connexion_routing"] = {"api_base_path": "", "operation_id": self.operation_id}
        context = extensions.setdefault("connexion_context", {})
        request = ConnexionRequest(scope, receive, uri_parser=self.uri_parser)
        try:
            if self.security.security:
                await self.security.verification_fn(request)
            principal = context.get("token_info")

            async def proceed():
                self.params.validate_request(request)
                body = await self.body.read(receive) if self.body is not None else None
                _context.set(context)
                _operation.set(self.op)
                _receive.set(receive)
                _scope.set(scope)
                # what Connexion's parameter decorator passes the handler: its parameter names are
                # identifiers here (see FastPath), so Connexion's sanitizing leaves them as they are
                params = self.query.arguments(request.query_params)
                if self.has_path:
                    params = {**_get_path_arguments(request.path_params, operation=self.op, sanitize=_same),
                              **params}
                result = self.answer(params, body, principal, request, context.get("rate_headers"))
                response = self.responses.build_framework_response(result)
                await self.validate_response(scope, response, send)

            if principal is None:
                await proceed()
            else:
                await fast.policy.guard(principal, self.operation_id, context, proceed)
        except Exception as exc:  # noqa: BLE001 - every failure is answered as the Connexion path answers it
            answer = error_response(fast.mock.contract, request, exc)
            await Response(content=answer.body, status_code=answer.status_code, media_type=answer.mimetype,
                           headers=answer.headers)(scope, receive, send)


def _query_keys(spec_op, mock) -> bool:
    """Whether the operation accepts an API key in the query (Connexion's security reads those from
    a request without a URI parser; left to it)."""
    return any(mock.contract.security_scheme(name).get("in") == "query"
               for requirement in spec_op.spec.get("security") or [] for name in requirement)


def _json_only(spec_op) -> bool:
    """An operation without a body, or with a JSON body only."""
    body = spec_op.spec.get("requestBody")
    return body is None or set(body.get("content") or {}) == {JSON}


class _Validated(OpenAPISpecification):
    """The spec as Connexion reads it, less a second validation (add_api validated it; the
    validator is most of a cold start)."""

    @classmethod
    def _validate_spec(cls, spec):
        return None


def _string_keys(node):
    """YAML may key responses by integers; Connexion's reader keys them by strings."""
    if isinstance(node, dict):
        return {str(k): _string_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_string_keys(v) for v in node]
    return node


def _same(name):
    return name


async def _send_response(scope, response, send):
    """The innermost app of the fast path: `receive` carries the handler's response."""
    await response(scope, None, send)


class FastPath:
    """Finds the fast route for a request, or None (then Connexion serves it)."""

    def __init__(self, mock, policy):
        self.mock = mock
        self.policy = policy
        self.security_factory = SecurityHandlerFactory(security_map(mock.authenticate))
        self.max_body = mock.settings.max_body_bytes
        self.max_query = mock.settings.max_query_params
        spec = _Validated(_string_keys(mock.contract.raw))
        resolver = Resolver(mock.handler)
        # routes by method and number of segments: a path is matched against its peers only
        self._routes: dict[tuple[str, int], list[tuple[re.Pattern, _Route]]] = {}
        for spec_op in mock.contract.operations.values():
            if not _json_only(spec_op) or _query_keys(spec_op, mock):
                continue
            if not all(_IDENTIFIER.match(p["name"]) for p in spec_op.parameters):
                continue
            method = spec_op.method.lower()
            op = spec.operation_cls.from_spec(spec, path=spec_op.path, method=method, resolver=resolver,
                                              uri_parser_class=_URIParser)
            pattern = re.compile("^" + re.sub(r"\{([^}]+)\}", r"(?P<\1>[^/]+)", spec_op.path) + "$")
            self._routes.setdefault((method.upper(), spec_op.path.count("/")), []).append(
                (pattern, _Route(self, op, spec_op)))

    def route(self, scope):
        """(route, path params) for a request to exactly one operation, in a form it takes, else None."""
        if scope.get("root_path"):
            return None
        path = scope["path"]
        found = None
        for pattern, route in self._routes.get((scope["method"], path.count("/")), ()):
            match = pattern.match(path)
            if match:
                if found is not None:
                    return None  # two operations could serve it: Connexion's routing decides
                found = (route, match.groupdict())
        if found is None:
            return None
        if scope.get("query_string", b"").count(b"&") >= self.max_query:
            return None  # maybe too many parameters: Connexion's path (limits.InputGate) counts them
        return found if _body_fits(scope, found[0].body is not None, self.max_body) else None

    async def serve(self, route_and_params, scope, receive, send):
        route, path_params = route_and_params
        scope["path_params"] = path_params
        await route(scope, receive, send)


def _body_fits(scope, takes_json: bool, max_body: int) -> bool:
    """No body where the operation takes none; one JSON body of stated length, within the limit,
    where it takes JSON (Connexion decides what a missing, chunked, differently typed or too long
    body means). One `Authorization` header, and `Host` on HTTP/1.1 (else limits.InputGate answers)."""
    content_type = length = None
    host = authorized = False
    for name, value in scope["headers"]:
        name = name.lower()
        if name == b"content-type":
            if content_type is not None:
                return False
            content_type = value
        elif name == b"content-length":
            length = value
        elif name == b"transfer-encoding":
            return False
        elif name == b"host":
            host = True
        elif name == b"authorization":
            if authorized:
                return False
            authorized = True
    if not host and scope.get("http_version") == "1.1":
        return False
    if not takes_json:
        return content_type is None and length is None
    return (content_type is not None and content_type.lower() in _JSON_TYPES
            and length is not None and length.isdigit() and 0 < int(length) <= max_body)
