"""Tickets: Django REST framework style token auth. Every other operation is a plain read
served by the generic resources (link pagination, url-id filters through related objects)."""

from __future__ import annotations

from apispec import ext

from ..auth import strip_scheme
from ..errors import ApiError
from ..fixtures import Record
from . import Api, handlers

# the collections the mock keeps, and the schema of a stored record (checked at start, fixtures.py);
# a user's password and token are private fields (`_password`, `_token`)
COLLECTIONS = {
    "users": Record({"type": "object", "required": ["id", "email"],
                     "properties": {"id": {"type": "integer"}, "email": {"type": "string"}}}),
    "events": Record("Event"),
    "product_groups": Record("ProductGroup"),
    "products": Record("Product"),
    "product_availabilities": Record("ProductAvailability"),
    "payment_methods": Record("PaymentMethod"),
}


def authenticate(store, scheme, credential):
    key = strip_scheme(credential, ext.credentials.auth_prefix(scheme) or "")
    user = store.find("users", _token=key) if key else None
    return {"sub": user["email"], "rate_key": key} if user else None


def obtainAuthToken(call):
    """The user's token for a right email and password (a user has one token, DRF style)."""
    body = call.body
    user = call.store.find("users", email=body["username"])
    if user is None or user["_password"] != body["password"]:
        raise ApiError(401, call.operation.response_example(401)["detail"])
    return {"token": user["_token"]}

API = Api(collections=COLLECTIONS, authenticate=authenticate, handlers=handlers(globals(), "tickets"))
