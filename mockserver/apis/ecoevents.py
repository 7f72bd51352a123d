"""EcoEvents: new events start as drafts."""

from __future__ import annotations

from . import api_key_principal


def authenticate(store, scheme, credential):
    return api_key_principal(store, credential)


def createEvent(call):
    return call.resources.create(call.operation, call.body, extra={"status": "draft"})
