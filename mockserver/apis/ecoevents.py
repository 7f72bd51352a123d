"""EcoEvents: only authentication is its own; a new event starts as a draft by its spec's default."""

from __future__ import annotations

from . import api_key_principal


def authenticate(store, scheme, credential):
    return api_key_principal(store, credential)

