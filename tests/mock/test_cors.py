"""CORS: a web app on another origin uses every mock from a real browser (headless Chromium), and
the preflight, origins and exposed headers over plain HTTP.

The page is served by `http.server` on `localhost:PORT`; the mocks answer on `127.0.0.1:PORTn`
(another origin and another site), Amar's cookie session on `localhost:PORTn` (another origin,
the same site, as a dev server and a local API are). The page writes what each fetch saw into
the DOM, where the test reads it.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import pathlib
import tempfile
import threading
import time

import httpx
import pytest
from selenium.webdriver.support.ui import WebDriverWait

from apispec.load import SLUGS
from mockserver.app import Settings
from mockserver.testing import ServedProcess, running

ORIGIN_HEADERS = {"Origin": "http://localhost:3000"}

PAGE = """<!doctype html>
<html><body><pre id="results"></pre><script>
const calls = %s;
(async () => {
  const results = {};
  for (const call of calls) {
    try {
      const init = {method: call.method, headers: call.headers || {}, credentials: call.credentials || "same-origin"};
      if (call.body !== undefined) {
        init.body = JSON.stringify(call.body);
        init.headers["Content-Type"] = "application/json";
      }
      if (call.raw !== undefined) init.body = call.raw;
      const response = await fetch(call.url, init);
      const headers = {};
      for (const name of call.read || []) headers[name] = response.headers.get(name);
      const text = await response.text();
      results[call.name] = {status: response.status, headers, body: text ? JSON.parse(text) : null};
    } catch (error) {
      results[call.name] = {error: String(error)};
    }
  }
  document.getElementById("results").textContent = JSON.stringify(results);
  document.body.dataset.done = "yes";
})();
</script></body></html>
"""

RATE = ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]


@contextlib.contextmanager
def page_server(directory: str):
    """A static file server for the page: the app's origin, `http://localhost:PORT`."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run_page(browser, calls: list[dict]) -> dict:
    """Serve a page that makes `calls` with fetch from another origin; what each one saw."""
    with tempfile.TemporaryDirectory() as directory, page_server(directory) as origin:
        pathlib.Path(directory, "app.html").write_text(PAGE % json.dumps(calls), encoding="utf-8")
        browser.get(origin + "/app.html")
        WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.body.dataset.done") == "yes")
        return json.loads(browser.find_element("id", "results").text)


@pytest.fixture(scope="module")
def mocks():
    with contextlib.ExitStack() as stack:
        yield {slug: stack.enter_context(running(slug, settings=Settings(validate_responses=True))) for slug in SLUGS}


def test_a_page_on_another_origin_uses_every_mock(browser, mocks):
    url = {slug: mock.root for slug, mock in mocks.items()}
    amar_same_site = f"http://localhost:{mocks['amarevents'].port}"
    calls = [
        {"name": "namak", "method": "POST", "url": url["namak"] + "/v1/events",
         "headers": {"Authorization": "Bearer YOUR_API_KEY"},
         "body": {"title": "From the browser", "date": "2024-07-15T09:00:00Z", "location": {"venue": "Hall A"}},
         "read": RATE},
        {"name": "amar", "method": "PUT", "url": url["amarevents"] + "/api/tickets/43",
         "headers": {"Authorization": "Bearer ae_o_demo"}, "body": {"status": "Success"},
         "read": [*RATE, "X-RateLimit-Type"]},
        {"name": "amar_login", "method": "POST", "url": amar_same_site + "/api/auth/login", "credentials": "include",
         "body": {"email": "karim@email.com", "password": "karim123"}},
        {"name": "amar_session", "method": "GET", "url": amar_same_site + "/api/auth/me", "credentials": "include"},
        {"name": "tickets_token", "method": "POST", "url": url["tickets"] + "/api/authenticate/",
         "body": {"username": "demo@example.com", "password": "demo-password"}},
        {"name": "tickets", "method": "GET", "url": url["tickets"] + "/api/products/?page_size=2",
         "headers": {"Authorization": "Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"}, "read": ["Link"]},
        {"name": "tickets_anonymous", "method": "GET", "url": url["tickets"] + "/api/products/",
         "read": ["WWW-Authenticate"]},
        {"name": "ecoevents", "method": "PUT", "url": url["ecoevents"] + "/api/events/evt_1a2b3c4d5e6f",
         "headers": {"Authorization": "Bearer YOUR_API_KEY"}, "body": {"capacity": 600, "status": "published"}},
        {"name": "eventify", "method": "POST", "url": url["eventify"] + "/api/events/events-by-month-year/",
         "body": {"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", "username": "john_doe",
                  "month": "June", "year": 2025}},
    ]
    seen = run_page(browser, calls)

    assert seen["namak"]["status"] == 201 and seen["namak"]["body"]["title"] == "From the browser", seen["namak"]
    assert seen["namak"]["headers"]["X-RateLimit-Limit"] == "1000"
    assert int(seen["namak"]["headers"]["X-RateLimit-Remaining"]) < 1000
    assert int(seen["namak"]["headers"]["X-RateLimit-Reset"]) > time.time() - 5

    assert seen["amar"]["status"] == 200, seen["amar"]
    assert seen["amar"]["headers"]["X-RateLimit-Limit"] == "120"
    assert seen["amar"]["headers"]["X-RateLimit-Type"] == "organizer"
    assert seen["amar_login"]["status"] == 200, seen["amar_login"]
    assert seen["amar_session"]["status"] == 200, seen["amar_session"]  # the session cookie went with it
    assert "karim" in json.dumps(seen["amar_session"]["body"])

    assert seen["tickets_token"] == {"status": 200, "headers": {},
                                     "body": {"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"}}
    assert seen["tickets"]["status"] == 200 and len(seen["tickets"]["body"]) == 2
    assert seen["tickets"]["headers"]["Link"].startswith(f'<{url["tickets"]}/api/products/?')
    assert seen["tickets_anonymous"]["status"] == 401
    assert seen["tickets_anonymous"]["headers"]["WWW-Authenticate"] == "Token"

    assert seen["ecoevents"]["status"] == 200 and json.dumps(seen["ecoevents"]["body"]).count("600") >= 1
    assert seen["eventify"]["status"] == 200, seen["eventify"]
    # and the mocks saw them all: the writes landed
    assert any(e["title"] == "From the browser" for e in mocks["namak"].store.all("events"))


@contextlib.contextmanager
def served(slug: str, *args: str):
    """`mockserver serve SLUG ARGS` as a user starts it, on a free port: its root URL."""
    with ServedProcess(slug, "--port", "0", "--quiet", *args) as process:
        yield process.roots[slug]


def test_cors_off_leaves_the_browser_blocked(browser):
    with served("namak", "--cors", "off") as root:
        seen = run_page(browser, [
            {"name": "get", "method": "GET", "url": root + "/v1/events/evt_123",
             "headers": {"Authorization": "Bearer YOUR_API_KEY"}},
            {"name": "simple", "method": "GET", "url": root + "/__admin/health"},
        ])
        preflight = httpx.options(root + "/v1/events", headers={**ORIGIN_HEADERS,
                                                                "Access-Control-Request-Method": "GET"})
    assert "Failed to fetch" in seen["get"].get("error", ""), seen
    assert "Failed to fetch" in seen["simple"].get("error", ""), seen
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_origin_narrows_to_the_named_origins():
    with served("namak", "--cors-origin", "http://localhost:3000", "https://app.example.com") as root:
        for origin in ("http://localhost:3000", "https://app.example.com"):
            allowed = httpx.options(root + "/v1/events", headers={"Origin": origin,
                                                                  "Access-Control-Request-Method": "POST"})
            assert allowed.status_code == 204 and allowed.headers["access-control-allow-origin"] == origin
        refused = httpx.options(root + "/v1/events", headers={"Origin": "http://evil.example",
                                                              "Access-Control-Request-Method": "POST"})
        answer = httpx.get(root + "/v1/events/evt_123", headers={"Origin": "http://evil.example",
                                                                 "Authorization": "Bearer YOUR_API_KEY"})
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    assert refused.json() == {"error": {"code": "forbidden", "message": refused.json()["error"]["message"]}}
    assert "http://evil.example" in refused.json()["error"]["message"]
    assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers


PREFLIGHT = {**ORIGIN_HEADERS, "Access-Control-Request-Method": "PATCH",
             "Access-Control-Request-Headers": "authorization, content-type, x-custom"}


@pytest.mark.parametrize("path", ["/v1/events", "/v1/events/evt_123", "/nowhere/at/all", "/__docs/"])
def test_preflight_on_any_path_is_a_204_echoing_what_was_asked(mocks, path):
    root = mocks["namak"].root
    httpx.delete(root + "/__admin/requests", headers={"Content-Type": "application/json"})
    answer = httpx.options(root + path, headers=PREFLIGHT)
    journal = httpx.get(root + "/__admin/requests").json()["requests"]
    assert answer.status_code == 204 and answer.content == b""
    assert answer.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert answer.headers["access-control-allow-methods"] == "PATCH"
    assert answer.headers["access-control-allow-headers"] == "authorization, content-type, x-custom"
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert journal == []  # answered before the API: no credential needed, nothing counted


def test_preflight_never_counts_against_the_rate_limit():
    settings = Settings(rate_limits={"limit": 2}, rate_limit_window=300)
    headers = {"Authorization": "Bearer YOUR_API_KEY", **ORIGIN_HEADERS}
    with running("namak", settings=settings) as mock, httpx.Client(base_url=mock.root, timeout=10) as http:
        assert [http.options("/v1/events", headers=PREFLIGHT).status_code for _ in range(5)] == [204] * 5
        first = http.get("/v1/events", headers=headers)
        assert first.status_code == 200 and first.headers["X-RateLimit-Remaining"] == "1"
        http.get("/v1/events", headers=headers)
        limited = http.get("/v1/events", headers=headers)
        assert http.options("/v1/events", headers=PREFLIGHT).status_code == 204
    assert limited.status_code == 429
    assert limited.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "Retry-After" in limited.headers["access-control-expose-headers"].split(", ")


@pytest.mark.parametrize("slug, path, extra", [
    ("namak", "/v1/events/evt_123", {"Authorization": "Bearer YOUR_API_KEY"}),   # a 200
    ("namak", "/v1/events?status=bogus", {"Authorization": "Bearer YOUR_API_KEY"}),  # a 400
    ("tickets", "/api/products/", {}),                                             # a 401
    ("tickets", "/api/products", {}),                                              # the slash redirect
    ("eventify", "/api/nothing/", {}),                                             # no route
    ("ecoevents", "/__docs/", {}),                                                 # the docs
])
def test_every_answer_carries_cors_headers(mocks, slug, path, extra):
    answer = httpx.get(mocks[slug].root + path, headers={**ORIGIN_HEADERS, **extra})
    assert answer.headers["access-control-allow-origin"] == "http://localhost:3000", answer.status_code
    assert answer.headers["access-control-allow-credentials"] == "true"
    exposed = answer.headers["access-control-expose-headers"].split(", ")
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After", "Link",
            "WWW-Authenticate", "Location"} <= set(exposed)


def test_without_an_origin_nothing_is_added(mocks):
    answer = httpx.get(mocks["namak"].root + "/v1/events/evt_123", headers={"Authorization": "Bearer YOUR_API_KEY"})
    assert not [name for name in answer.headers if name.startswith("access-control-")]
