"""Shared fixtures. A test module names its API in `SLUG` (and may set `SETTINGS` and
`HEADERS`); it then gets that API's mock served by uvicorn on 127.0.0.1 and a free port, with
response validation on, so any response that breaks its spec fails the test that got it."""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from mockserver.app import Settings
from mockserver.testing import RedisServer, free_port, running

__all__ = ["RedisServer", "free_port"]  # tests import them from here too



@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


_prefixes = iter(range(1, 1 << 30))


@pytest.fixture
def redis_prefix():
    """A key prefix no other test uses."""
    return f"test{next(_prefixes)}"


def pytest_generate_tests(metafunc):
    """The suite's mock runs on each store backend a module names in `STORES`, else on those in the
    environment's MOCK_STORES (`memory,redis`: `make test-redis`), else in memory."""
    if "store_backend" in metafunc.fixturenames:
        stores = getattr(metafunc.module, "STORES", None) or os.environ.get("MOCK_STORES", "memory").split(",")
        metafunc.parametrize("store_backend", stores, indirect=True, scope="module")


@pytest.fixture(scope="module")
def store_backend(request):
    """None (in memory) or the URL of the session's Redis, with a prefix of the module's own."""
    if request.param == "memory":
        return None
    server = request.getfixturevalue("redis_server")
    return server.url, f"suite{next(_prefixes)}"


@pytest.fixture(scope="module")
def mock(request, store_backend):
    # every answer the store gives from an index is checked against a scan (a setting of this mock's
    # store): a handler that changes a record in place instead of through Store.update fails the test
    settings = getattr(request.module, "SETTINGS", None) or Settings(validate_responses=True, verify_indexes=True)
    if store_backend is not None:
        url, prefix = store_backend
        settings = dataclasses.replace(settings, store=url, store_prefix=prefix)
    with running(request.module.SLUG, settings=settings) as served:
        yield served


@pytest.fixture
def client(mock, request):
    """An HTTP client on a freshly reset mock, sending the module's demo credentials."""
    httpx.post(mock.root + "/__admin/reset", json={}, timeout=10).raise_for_status()
    headers = getattr(request.module, "HEADERS", {})
    with httpx.Client(base_url=mock.root, headers=headers, timeout=10) as http:
        yield http


@pytest.fixture
def anon(mock):
    """An HTTP client with no credentials."""
    with httpx.Client(base_url=mock.root, timeout=10) as http:
        yield http


CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium through chromedriver (Debian's `chromium` and `chromium-driver`, which
    `make test` installs), one for the whole session. No skip: without it a browser test fails."""
    assert shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER), \
        "chromium and chromium-driver are needed: apt-get install chromium chromium-driver (make test does)"
    profile = tempfile.mkdtemp(prefix="chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
