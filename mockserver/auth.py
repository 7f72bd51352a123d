"""The security stage: the schemes each operation names, checked as the spec states them; the
credentials are looked up in the store by the API's own `authenticate` function; `x-access` (key
types and permissions) is enforced after authentication and the rate limit (ratelimit.KeyPolicy).

An operation's `security` is a list of alternatives, each a set of schemes that must all hold. The
first alternative whose credentials are present and good gives the principal; an empty
alternative (`{}`) admits anyone. Where none does: the most telling failure (a 403 over a 401,
else the lowest status), or, when no credential was sent at all, 401 "Missing API key". Schemes
read: `http` bearer (`Authorization: Bearer <token>`), and `apiKey` in a header, the query or a
cookie; an alternative naming another kind of scheme is passed over.
"""

from __future__ import annotations

import http.cookies

from apispec import ext
from apispec.model import Contract

from .errors import ApiError

NO_VALUE = object()  # no credential of this scheme in the request

MISSING = "Missing API key: send an Authorization header"
INVALID = "Invalid API key"
MALFORMED = "Malformed Authorization header"


class Security:
    """One operation's security, built once: `principal(request)` -> the principal (a dict: `sub`
    plus what the API needs; `{}` for an alternative that requires nothing), or None for an
    operation that names no security. `authenticate(scheme, credential)` -> principal or None."""

    def __init__(self, contract: Contract, requirements: list[dict], authenticate):
        self.required = bool(requirements)
        self.alternatives = []
        for requirement in requirements:
            checks = []
            for name in requirement:
                check = _check(contract.security_scheme(name), authenticate)
                if check is None:
                    break
                checks.append((name, check))
            else:
                self.alternatives.append(checks)

    def principal(self, request) -> dict | None:
        if not self.required:
            return None
        failures = []
        for checks in self.alternatives:
            try:
                found = _all(checks, request)
            except ApiError as exc:
                failures.append(exc)
                continue
            if found is not NO_VALUE:
                return found
        if failures:
            by_status = {exc.status: exc for exc in failures}
            raise by_status.get(403) or by_status.get(401) or by_status[min(by_status)]
        raise ApiError(401, MISSING)


def _all(checks, request):
    if not checks:
        return {}
    if len(checks) == 1:
        return checks[0][1](request)
    found = {}
    for name, check in checks:
        value = check(request)
        if value is NO_VALUE:
            return NO_VALUE
        found[name] = value
    return found


def _check(scheme: dict, authenticate):
    """The check of one scheme: request -> principal, NO_VALUE, or an ApiError (401)."""
    kind = scheme.get("type")
    if kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
        def bearer(request):
            token = _authorization(request, "bearer")
            return NO_VALUE if token is NO_VALUE else _known(authenticate(scheme, token))

        return bearer
    if kind == "apiKey":
        where, name = scheme.get("in"), scheme.get("name")
        if where not in ("header", "query", "cookie"):
            return None

        def api_key(request):
            if where == "header":
                key = request.headers.get(name)
            elif where == "query":
                key = request.query_params.get(name)
            else:
                key = cookie(request.headers.get("cookie"), name)
            return NO_VALUE if key is None else _known(authenticate(scheme, key))

        return api_key
    return None


def _authorization(request, wanted: str):
    """The credential of an `Authorization: <type> <credential>` header of type `wanted`."""
    value = request.headers.get("authorization")
    if not value:
        return NO_VALUE
    try:
        kind, credential = value.split(maxsplit=1)
    except ValueError:
        raise ApiError(401, MALFORMED) from None
    return credential if kind.lower() == wanted else NO_VALUE


def _known(principal):
    if principal is None:
        raise ApiError(401, INVALID)
    return principal


def cookie(header: str | None, name: str) -> str | None:
    """The value of cookie `name` in a `Cookie` header (a malformed pair ends the reading)."""
    jar = http.cookies.SimpleCookie()
    jar.load(str(header))
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def strip_scheme(value: str, scheme: str) -> str | None:
    """`Token abc` -> `abc` for an apiKey scheme that carries a prefix in its header value."""
    prefix, _, rest = (value or "").partition(" ")
    return rest.strip() if prefix.lower() == scheme.lower() and rest.strip() else None


def check_access(contract: Contract, operation_id: str, principal: dict | None) -> None:
    """403 unless the principal's key type and permissions admit the operation (`x-access`)."""
    operation = contract.operations.get(operation_id)
    rule = ext.access.of(operation) if operation else None
    if not rule or principal is None:
        return
    key_type = principal.get("key_type")
    allowed = rule.get("key_types") or []
    if allowed and key_type not in allowed:
        kind = "a session" if principal.get("via") == "session" else f"a {key_type} key"
        if principal.get("account_limits"):  # a key worth more than its account may now hold
            kind = (f"a {principal['account_limits']} key whose account may no longer hold "
                    f"{principal['account_limits']} keys (it acts as a {key_type} key)")
        raise ApiError(403, f"This endpoint requires a {' or '.join(allowed)} key; this request "
                            f"was made with {kind}")
    if principal.get("via") == "session":
        # a login session acts as the account itself: its account type is checked above, the
        # permissions of API keys do not apply to it; `session: false` refuses sessions
        if rule.get("session") is False:
            raise ApiError(403, "This endpoint requires an API key; a login session is not accepted")
        return
    needed = rule.get("permission")
    held = set(principal.get("permissions") or [])
    if needed and needed not in held and "*" not in held:
        why = (f" (its account may no longer hold {principal['account_limits']} keys)"
               if principal.get("account_limits") else "")
        raise ApiError(403, f"API key lacks the permission '{needed}'{why}")
