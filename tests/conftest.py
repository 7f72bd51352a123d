"""Shared fixtures. A test module names its API in `SLUG` (and may set `SETTINGS` and
`HEADERS`); it then gets that API's mock served by uvicorn on 127.0.0.1 and a free port, with
response validation on, so any response that breaks its spec fails the test that got it."""

from __future__ import annotations

import httpx
import pytest

from mockserver.app import Settings
from mockserver.store import Store
from mockserver.testing import running

# every answer the store gives from an index is checked against a scan: a handler that changes
# a record in place instead of through Store.update fails the test that reaches it
Store.verify_indexes = True


@pytest.fixture(scope="module")
def mock(request):
    settings = getattr(request.module, "SETTINGS", None) or Settings(validate_responses=True)
    with running(request.module.SLUG, settings=settings) as served:
        yield served


@pytest.fixture
def client(mock, request):
    """An HTTP client on a freshly reset mock, sending the module's demo credentials."""
    httpx.post(mock.root + "/__admin/reset", timeout=10).raise_for_status()
    headers = getattr(request.module, "HEADERS", {})
    with httpx.Client(base_url=mock.root, headers=headers, timeout=10) as http:
        yield http


@pytest.fixture
def anon(mock):
    """An HTTP client with no credentials."""
    with httpx.Client(base_url=mock.root, timeout=10) as http:
        yield http
