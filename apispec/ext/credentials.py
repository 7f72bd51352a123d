"""How credentials come and go beyond `securitySchemes`:

    x-body-auth            credentials carried in the request body (Eventify: `{token, username}`
                           field names), on the spec and on each operation that takes them
    x-issues-credential    the operation that logs in, and where its answer holds the credential
    x-revokes-credential   an operation that ends a credential (logout, a key deleted)
    x-key-types            on a security scheme: key types (roles) told by the key's prefix
    x-auth-prefix          on an apiKey scheme in a header: the word before the key in the header's
                           value (Tickets: `Authorization: Token <key>`)
"""

from __future__ import annotations

from . import value


def body_auth(node) -> dict | None:
    """`x-body-auth` of an operation or of the spec (Contract or raw dict)."""
    return value(node, "body-auth")


def issues(operation) -> dict | None:
    return value(operation, "issues-credential")


def revokes(operation) -> dict | None:
    return value(operation, "revokes-credential")


def key_types(scheme: dict) -> dict:
    """{key type: what the scheme says of it (its prefix...)} of a security scheme."""
    return value(scheme, "key-types", {})


def declared_key_types(contract) -> dict:
    """{key type: what its scheme says of it} over every security scheme of a spec (Contract or
    raw dict): the roles a key's prefix tells apart. Empty when no scheme declares any."""
    raw = contract if isinstance(contract, dict) else getattr(contract, "raw", None) or {}
    found: dict = {}
    for scheme in ((raw.get("components") or {}).get("securitySchemes") or {}).values():
        if isinstance(scheme, dict):
            found.update(key_types(scheme))
    return found


def auth_prefix(scheme: dict) -> str | None:
    """The word an apiKey scheme's header value puts before the key (`Token`), or None."""
    return value(scheme, "auth-prefix")
