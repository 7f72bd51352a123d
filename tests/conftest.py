"""Shared fixtures. A test module names its API in `SLUG` (and may set `SETTINGS` and
`HEADERS`); it then gets that API's mock served by uvicorn on 127.0.0.1 and a free port, with
response validation on, so any response that breaks its spec fails the test that got it."""

from __future__ import annotations

import shutil
import tempfile

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from mockserver.app import Settings
from mockserver.testing import running


@pytest.fixture(scope="module")
def mock(request):
    # every answer the store gives from an index is checked against a scan (a setting of this mock's
    # store): a handler that changes a record in place instead of through Store.update fails the test
    settings = getattr(request.module, "SETTINGS", None) or Settings(validate_responses=True, verify_indexes=True)
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
