"""Each API's own behaviour: what its spec cannot express. Every module here ends with one `API`,
the explicit interface between it and the generic mock:

    API = Api(
        collections={...},            # the collections it keeps and a stored record's schema (fixtures.py)
        authenticate=fn,              # (store, scheme, credential) -> principal | None: a header/cookie
                                      #   credential (default: none is ever valid, 401)
        authenticate_body=fn,         # (store, body) -> principal, or ApiError: credentials in the JSON
                                      #   body (`x-body-auth`; default: None, the API has none)
        handlers=handlers(globals(), SLUG),  # {operationId: handler(call)}: its functions named after
                                      #   an operationId of its spec
    )

An operation with no handler is served by the generic resource actions (`x-resource`,
resources.py). A handler gets a `Call` (app.py): the operation, its validated inputs, the principal,
the store (with its clock and id source), the resources, the contract and the rate window; it answers
`body`, `(body, status)` or `(body, status, headers)`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping

from apispec.model import contract

from ..fixtures import Record

Handler = Callable[..., object]


def no_credential(store, scheme: dict, credential: str | None):
    """The default `authenticate`: an API that declares no credential of its own accepts none."""
    return None


@dataclasses.dataclass(frozen=True)
class Api:
    """What one API module provides (see the module docstring); every field has a default."""

    collections: Mapping[str, Record] = dataclasses.field(default_factory=dict)
    authenticate: Callable[..., dict | None] = no_credential
    authenticate_body: Callable[..., dict] | None = None
    handlers: Mapping[str, Handler] = dataclasses.field(default_factory=dict)


def handlers(namespace: dict, slug: str) -> dict[str, Handler]:
    """The functions of a module's namespace named after an operationId of the API's spec."""
    return {op_id: namespace[op_id] for op_id in contract(slug).operations if callable(namespace.get(op_id))}


def load(slug: str) -> Api:
    """The `API` of `mockserver/apis/<slug>.py`."""
    return importlib.import_module(f"{__name__}.{slug}").API


def api_key_principal(store, credential: str | None):
    """The principal of a plain API key listed in the store's `api_keys` collection."""
    if not credential:
        return None
    record = store.get("api_keys", credential)
    if record is None or not record.get("active", True):
        return None
    return {"sub": record.get("owner", credential), "rate_key": credential}
