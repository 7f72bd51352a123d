"""API keys with types (`x-key-types` on a security scheme): what a key of each type may hold and do.

`x-key-types` lists the types from least to most privileged (Amar: user < organizer < admin), each
with its key `prefix`, `rate_limit` and the `permissions` a key of it may hold. The rules here follow
from that declaration alone, for any API that makes it:

- an account holds keys of its own type and every lesser one; a key is worth at most what its account
  may now hold (a key of a type the account may no longer hold acts as the account's own type, with
  only the permissions that type may hold);
- a key's permissions limit what it does with keys ("a subset of allowed permissions"): it grants only
  what it holds, creates no key of a higher type than its own, and manages (updates, deactivates,
  deletes) another key only if that key's type is no higher and it holds at least all that key holds;
  `*` holds every permission. A login session is the account itself, not a key: it may manage every
  key of its account, within what the account may hold.

Every refusal is a 403 naming the key type, the key or the permissions.
"""

from __future__ import annotations

from apispec import ext
from apispec.model import Contract

from .errors import ApiError


class KeyTypes:
    def __init__(self, contract: Contract):
        self.types: dict = ext.credentials.declared_key_types(contract)

    def __getitem__(self, kind: str) -> dict:
        """`{prefix, rate_limit, permissions}` of a key type."""
        return self.types[kind]

    def held_by(self, account_kind: str) -> list[str]:
        """The key types an account of `account_kind` may hold: its own and every lesser one."""
        kinds = list(self.types)
        return kinds[: kinds.index(account_kind) + 1]

    def rank(self, kind: str) -> int:
        return list(self.types).index(kind)

    def worth(self, key: dict, account_kind: str) -> tuple[str, list[str]]:
        """(key type, permissions) a key acts with, its account being of `account_kind` now."""
        if key["key_type"] in self.held_by(account_kind):
            return key["key_type"], list(key["permissions"])
        allowed = self.types[account_kind]["permissions"]
        return account_kind, [p for p in key["permissions"] if p in allowed]

    def check_permissions(self, key_type: str, permissions: list[str]) -> None:
        """403 for permissions outside what the key type may hold."""
        outside = [p for p in permissions if p not in self.types[key_type]["permissions"]]
        if outside:
            raise ApiError(403, f"permissions: a {key_type} key cannot hold {', '.join(outside)}",
                           field="permissions")

    def ensure_grantable(self, principal: dict, kind: str, permissions: list[str]) -> None:
        """403 when the calling key would give a key more than it holds itself."""
        if not by_key(principal):
            return
        own = principal["key_type"]
        if self.rank(kind) > self.rank(own):
            raise ApiError(403, f"key_type: this {own} key cannot create or change {kind} keys: a key creates and "
                                f"changes keys of its own type or a lesser one", field="key_type")
        missing = not_held(principal, permissions)
        if missing:
            raise ApiError(403, f"permissions: this key does not hold {', '.join(missing)}, so it cannot grant it",
                           field="permissions")

    def ensure_manageable(self, principal: dict, key: dict) -> None:
        """403 when the calling key holds less than another key it would update, deactivate or delete."""
        if not by_key(principal) or key["id"] == principal.get("key_id"):
            return
        own = principal["key_type"]
        if self.rank(key["key_type"]) > self.rank(own):
            raise ApiError(403, f"API key {key['id']} is a {key['key_type']} key; this {own} key cannot manage it")
        missing = not_held(principal, key["permissions"])
        if missing:
            raise ApiError(403, f"API key {key['id']} holds {', '.join(missing)}, which this key does not: "
                                f"managing a key needs at least what it holds")


def by_key(principal: dict) -> bool:
    return principal.get("via") == "key"


def not_held(principal: dict, permissions) -> list[str]:
    """Of `permissions`, those the calling key does not hold (`*` holds them all)."""
    held = set(principal.get("permissions") or [])
    return [] if "*" in held else [p for p in permissions if p not in held]
