"""Each API's own behaviour: what its spec cannot express, as functions named after the
operationIds they implement, plus `authenticate(store, scheme, credential)`.

An operation with no function here is served by the generic resource actions.
"""

from __future__ import annotations


def api_key_principal(store, credential: str | None):
    """The principal of a plain API key listed in the store's `api_keys` collection."""
    if not credential:
        return None
    record = store.get("api_keys", credential)
    if record is None or not record.get("active", True):
        return None
    return {"sub": record.get("owner", credential), "rate_key": credential}
