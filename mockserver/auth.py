"""Security from the spec: Connexion checks the schemes each operation names; the credentials
are looked up in the store by the API's own `authenticate` function; `x-access` (key types and
permissions) is enforced after authentication.
"""

from __future__ import annotations

from connexion.security import ApiKeySecurityHandler, BearerSecurityHandler

from apispec import ext
from apispec.model import Contract

from .errors import ApiError


def security_map(authenticate):
    """Connexion security handlers that ask `authenticate(scheme, credential)` for the principal.

    `authenticate` returns a dict (the principal: `sub` plus whatever the API needs) or None.
    """

    def bound(base):
        class Handler(base):
            def _resolve_func(self, security_scheme):
                def check(credential, *_, **__):
                    return authenticate(security_scheme, credential)

                return check

        return Handler

    return {"bearer": bound(BearerSecurityHandler), "apiKey": bound(ApiKeySecurityHandler)}


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
