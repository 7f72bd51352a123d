"""A fast path for plain GETs: the same steps as the Connexion stack, built once per operation.

Connexion's per-request stack (two routers, six middlewares, a new parameter validator, URI
parser and handler decorator per request) costs several times what the mock's own work does.
For a GET that matches exactly one GET operation of the spec and carries no body, this runs the
same pieces in the same order, each built once at start-up:

    security   Connexion's own verification function for the operation (OR'd requirements,
               the same 401 messages), asking `Mock.authenticate` for the principal
    policy     KeyPolicy.guard: the rate limit, then `x-access` (rate headers on what follows)
    params     validation.ParamsValidator over Connexion's URI parser (types, defaults, messages)
    arguments  Connexion's own extraction of typed path and query arguments (defaults filled in)
    handler    Mock.answerer, the function behind Mock.handler, with the same inputs
    response   Connexion's response decorator (JSON encoding, content type)
    validation Connexion's response validation when Settings.validate_responses is on
    errors     errors.error_response, as the Connexion path's error handlers answer

Anything else (another method, an unknown or ambiguous path, a request with a body or a
Content-Type, docs and admin paths) goes to Connexion unchanged.
"""

from __future__ import annotations

import re

from connexion.context import _context, _operation, _receive, _scope
from connexion.decorators.parameter import _get_path_arguments, _get_query_arguments
from connexion.decorators.response import AsyncResponseDecorator
from connexion.frameworks.starlette import Starlette as StarletteFramework
from connexion.jsonifier import Jsonifier
from connexion.lifecycle import ConnexionRequest
from connexion.middleware.response_validation import ResponseValidationOperation
from connexion.middleware.security import SecurityOperation
from connexion.resolver import Resolver
from connexion.security import SecurityHandlerFactory
from connexion.spec import OpenAPISpecification
from connexion.uri_parsing import OpenAPIURIParser
from starlette.responses import Response

from .auth import security_map
from .errors import error_response
from .validation import VALIDATORS, ParamsValidator

# a GET with any of these carries (or announces) a body: Connexion decides what that means
_BODY_HEADERS = frozenset({b"content-type", b"content-length", b"transfer-encoding"})
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Route:
    """One GET operation, its pieces built once."""

    def __init__(self, fast: FastPath, op, spec_op):
        self.operation_id = spec_op.operation_id
        self.op = op
        self.uri_parser = OpenAPIURIParser(op.parameters, op.body_definition())
        self.security = SecurityOperation.from_operation(
            op, next_app=None, security_handler_factory=fast.security_factory)
        self.params = ParamsValidator(op.parameters, uri_parser=self.uri_parser)
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
                _context.set(context)
                _operation.set(self.op)
                _receive.set(receive)
                _scope.set(scope)
                # what Connexion's parameter decorator passes the handler: its parameter names are
                # identifiers here (see FastPath), so Connexion's sanitizing leaves them as they are
                params = {**_get_path_arguments(request.path_params, operation=self.op, sanitize=_same),
                          **_get_query_arguments(request.query_params, operation=self.op, arguments=(),
                                                 has_kwargs=True, sanitize=_same)}
                result = self.answer(params, None, principal, request, context.get("rate_headers"))
                response = fast.responses.build_framework_response(result)
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
        self.responses = AsyncResponseDecorator(framework=StarletteFramework, jsonifier=Jsonifier())
        self.security_factory = SecurityHandlerFactory(security_map(mock.authenticate))
        spec = _Validated(_string_keys(mock.contract.raw))
        resolver = Resolver(mock.handler)
        # routes by their number of segments: a path is matched against its peers only
        self._routes: dict[int, list[tuple[re.Pattern, _Route]]] = {}
        for spec_op in mock.contract.operations.values():
            if spec_op.method.lower() != "get" or spec_op.spec.get("requestBody"):
                continue
            if not all(_IDENTIFIER.match(p["name"]) for p in spec_op.parameters) or _query_keys(spec_op, mock):
                continue
            op = spec.operation_cls.from_spec(spec, path=spec_op.path, method="get", resolver=resolver,
                                              uri_parser_class=OpenAPIURIParser)
            pattern = re.compile("^" + re.sub(r"\{([^}]+)\}", r"(?P<\1>[^/]+)", spec_op.path) + "$")
            self._routes.setdefault(spec_op.path.count("/"), []).append(
                (pattern, _Route(self, op, spec_op)))

    def route(self, scope):
        """(route, path params) for a plain GET of exactly one operation, else None."""
        if scope["method"] != "GET" or scope.get("root_path"):
            return None
        path = scope["path"]
        found = None
        for pattern, route in self._routes.get(path.count("/"), ()):
            match = pattern.match(path)
            if match:
                if found is not None:
                    return None  # two operations could serve it: Connexion's routing decides
                found = (route, match.groupdict())
        if found is None:
            return None
        for name, _ in scope["headers"]:
            if name.lower() in _BODY_HEADERS:
                return None
        return found

    async def serve(self, route_and_params, scope, receive, send):
        route, path_params = route_and_params
        scope["path_params"] = path_params
        await route(scope, receive, send)
