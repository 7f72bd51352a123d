"""The control surface keeps its secrets and its door (issue 13): what it shows has passwords, keys,
tokens and session ids redacted; only JSON changes it; only loopback Host names and the mock's own
origin reach it; `--admin-token` guards every call; admin calls are journaled; binding beyond
loopback needs a token. Over real HTTP, the CLI as a user runs it, and a real browser."""

from __future__ import annotations

import json

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from test_cors import run_page  # the page on another origin (tests/mock is on the path)

from mockserver import cli
from mockserver.app import Settings
from mockserver.testing import ServedProcess, running

TIMEOUT = 10
JSON = {"Content-Type": "application/json"}
TOKEN = "team-token-42"
NAMAK_KEY = {"Authorization": "Bearer YOUR_API_KEY"}
EVENT = {"title": "Kept", "date": "2024-07-15T09:00:00Z", "location": {"venue": "Hall A"}}


def _events(root) -> list[str]:
    answer = httpx.get(root + "/v1/events?limit=100", headers=NAMAK_KEY, timeout=TIMEOUT)
    return [e["id"] for e in answer.json()["data"]]


# --- 1. secrets redacted ---------------------------------------------------------------------------------

def test_no_secret_can_be_read_from_state_or_journal():
    """Passwords, raw keys (Amar's "never shown again" one), session ids and tokens: none in the state,
    the journal (bodies, headers, Set-Cookie) or the admin journal; each shown as <redacted:HASH>."""
    with (running("amarevents") as amar, running("eventify") as eventify, running("tickets") as tickets,
          httpx.Client(timeout=TIMEOUT) as http):
        a = amar.root + "/api"
        http.post(a + "/auth/register", json={"username": "john", "email": "john@email.com",
                                              "password": "hunter2-secret", "number": "01700000000"})
        login = http.post(a + "/auth/login", json={"email": "karim@email.com", "password": "karim123"})
        session = login.cookies["session"]
        assert http.get(a + "/auth/me", cookies={"session": session}).status_code == 200
        created = http.post(a + "/keys", headers={"Authorization": "Bearer ae_o_demo"},
                            json={"name": "CI", "key_type": "organizer", "permissions": ["events:read"]})
        raw_key = created.json()["data"]["key"]
        assert created.status_code == 201 and raw_key, created.text
        e = eventify.root + "/api"
        token = http.post(e + "/user/login/", json={"username": "user@example.com",
                                                    "password": "securepassword123"}).json()["token"]
        t = http.post(tickets.root + "/api/authenticate/", json={"username": "demo@example.com",
                                                                 "password": "demo-password"}).json()["token"]
        secrets = ["hunter2-secret", "karim123", "organizer123", session, raw_key, "ae_u_demo", "ae_o_demo",
                   "securepassword123", token, t, "demo-password", "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"]
        shown = ""
        for root in (amar.root, eventify.root, tickets.root):
            shown += http.get(root + "/__admin/state").text
            shown += http.get(root + "/__admin/requests?admin=include").text
        journal = http.get(amar.root + "/__admin/requests").json()["requests"]
    leaked = [secret for secret in secrets if secret in shown]
    assert leaked == [], leaked
    assert shown.count("<redacted:") > 20
    login_entry = next(x for x in journal if x["path"] == "/api/auth/login")
    assert login_entry["request_body"]["password"].startswith("<redacted:")
    assert login_entry["request_body"]["email"] == "karim@email.com"  # only the secrets go
    set_cookie = dict(login_entry["response_headers"])["set-cookie"]
    assert set_cookie.startswith("session=<redacted:") and "HttpOnly" in set_cookie
    keys_entry = next(x for x in journal if x["path"] == "/api/keys")
    assert dict(keys_entry["request_headers"])["authorization"].startswith("Bearer <redacted:")
    assert keys_entry["response_body"]["data"]["key"].startswith("<redacted:")
    assert keys_entry["response_body"]["data"]["name"] == "CI"


def test_the_state_file_keeps_the_secrets_so_logins_survive_a_restart(tmp_path):
    """--state FILE is written from the store, not through HTTP: a login made before the restart works after."""
    kept = tmp_path / "amar.json"
    user = {"username": "kept", "email": "kept@email.com", "password": "kept-pass-1", "number": "01700000001"}
    with ServedProcess("amarevents", "--port", "0", "--quiet", "--state", str(kept)) as first:
        root = first.roots["amarevents"]
        assert httpx.post(root + "/api/auth/register", json=user, timeout=TIMEOUT).status_code == 201
        assert first.stop() == 0
    assert "kept-pass-1" in kept.read_text()
    with ServedProcess("amarevents", "--port", "0", "--quiet", "--state", str(kept)) as second:
        login = httpx.post(second.roots["amarevents"] + "/api/auth/login", timeout=TIMEOUT,
                           json={"email": user["email"], "password": user["password"]})
    assert login.status_code == 200, login.text


# --- 2. JSON only, and no CORS for /__admin -------------------------------------------------------------

@pytest.mark.parametrize("headers, body", [({}, None), ({"Content-Type": "text/plain"}, "x"),
                                           ({"Content-Type": "application/x-www-form-urlencoded"}, "a=1"),
                                           ({"Content-Type": "multipart/form-data; boundary=x"}, "--x--")])
def test_a_change_that_is_not_json_is_refused_and_changes_nothing(headers, body):
    with running("namak") as mock, httpx.Client(base_url=mock.root, timeout=TIMEOUT) as http:
        created = http.post("/v1/events", json=EVENT, headers=NAMAK_KEY).json()["id"]
        for method, path in (("POST", "/__admin/reset"), ("DELETE", "/__admin/requests"),
                             ("POST", "/__admin/faults"), ("PUT", "/__admin/state")):
            refused = http.request(method, path, headers=headers, content=body)
            assert refused.status_code == 415, (method, path, refused.text)
            assert "Content-Type: application/json" in refused.json()["error"]
        assert created in _events(mock.root)
        assert len(http.get("/__admin/requests").json()["requests"]) >= 1
        assert http.post("/__admin/reset", headers=JSON).status_code == 200  # JSON, even with no body
        assert created not in _events(mock.root)


def test_admin_answers_no_other_origin():
    with running("namak") as mock:
        evil = {"Origin": "http://localhost:3000"}
        preflight = httpx.options(mock.root + "/__admin/reset", timeout=TIMEOUT, headers={
            **evil, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
        read = httpx.get(mock.root + "/__admin/state", headers=evil, timeout=TIMEOUT)
        own = httpx.get(mock.root + "/__admin/health", headers={"Origin": mock.root}, timeout=TIMEOUT)
        api = httpx.get(mock.root + "/v1/events/evt_123", headers={**evil, **NAMAK_KEY}, timeout=TIMEOUT)
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
    assert read.status_code == 403 and "access-control-allow-origin" not in read.headers
    assert "http://localhost:3000" in read.json()["error"]
    assert own.status_code == 200  # the console's own calls
    assert api.headers["access-control-allow-origin"] == "http://localhost:3000"  # the API still answers CORS


def test_a_page_on_another_origin_cannot_change_the_mock(browser):
    """A page elsewhere tries the reset the issue found (text/plain needs no preflight) and a JSON one."""
    with running("namak") as mock:
        created = httpx.post(mock.root + "/v1/events", json=EVENT, headers=NAMAK_KEY, timeout=TIMEOUT).json()["id"]
        seen = run_page(browser, [
            {"name": "plain", "method": "POST", "url": mock.root + "/__admin/reset", "raw": "x",
             "headers": {"Content-Type": "text/plain"}},
            {"name": "json", "method": "POST", "url": mock.root + "/__admin/reset", "body": {}},
            {"name": "read", "method": "GET", "url": mock.root + "/__admin/state"},
        ])
        after = _events(mock.root)
    assert created in after, seen
    assert all("Failed to fetch" in seen[name].get("error", "") for name in ("plain", "json", "read")), seen


# --- 3. loopback Host names only ------------------------------------------------------------------------

def test_only_loopback_host_names_reach_admin():
    with running("namak") as mock, running("namak", settings=Settings(allowed_hosts=("mock.team.lan",))) as named:
        port = mock.port
        answers = {host: httpx.get(mock.root + "/__admin/health", headers={"Host": host}, timeout=TIMEOUT)
                   for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "localhost",
                                f"evil.example:{port}", "attacker.test", f"mock.team.lan:{port}")}
        reset = httpx.post(mock.root + "/__admin/reset", headers={**JSON, "Host": "rebound.evil.example"},
                           timeout=TIMEOUT)
        api = httpx.get(mock.root + "/v1/events/evt_123", headers={**NAMAK_KEY, "Host": "evil.example"},
                        timeout=TIMEOUT)
        admitted = httpx.get(named.root + "/__admin/health", headers={"Host": "mock.team.lan:80"}, timeout=TIMEOUT)
    assert {h: a.status_code for h, a in answers.items()} == {
        f"127.0.0.1:{port}": 200, f"localhost:{port}": 200, f"[::1]:{port}": 200, "localhost": 200,
        f"evil.example:{port}": 403, "attacker.test": 403, f"mock.team.lan:{port}": 403}
    assert "--allowed-host" in answers["attacker.test"].json()["error"]
    assert reset.status_code == 403
    assert api.status_code == 200  # the API itself answers any Host
    assert admitted.status_code == 200


# --- 4. the admin token ---------------------------------------------------------------------------------

def test_the_admin_token_guards_every_admin_call():
    with running("namak", settings=Settings(admin_token=TOKEN)) as mock, httpx.Client(base_url=mock.root,
                                                                                      timeout=TIMEOUT) as http:
        calls = [("GET", "/__admin/health"), ("GET", "/__admin/state"), ("GET", "/__admin/requests"),
                 ("GET", "/__admin/faults"), ("POST", "/__admin/reset"), ("DELETE", "/__admin/requests")]
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            for method, path in calls:
                refused = http.request(method, path, headers={**JSON, **headers})
                assert refused.status_code == 401, (method, path, headers)
                assert refused.headers["www-authenticate"].startswith("Bearer")
        good = {**JSON, "Authorization": f"Bearer {TOKEN}"}
        assert [http.request(m, p, headers=good).status_code for m, p in calls] == [200] * len(calls)
        assert http.get("/__admin/").status_code == 200  # the console page itself: static, no data
        assert http.get("/v1/events/evt_123", headers=NAMAK_KEY).status_code == 200  # the API: its own keys


def _stop_before_binding(monkeypatch):
    def refuse(slug, host, port):
        raise cli.CliError("(test: not bound)")

    monkeypatch.setattr(cli, "_bind", refuse)


def test_beyond_loopback_the_mock_needs_a_token_and_warns_on_every_interface(monkeypatch, capsys):
    _stop_before_binding(monkeypatch)
    for host in ("0.0.0.0", "192.0.2.10", "::"):
        with pytest.raises(SystemExit) as stopped:
            cli.main(["serve", "namak", "--host", host, "--port", "0"])
        assert stopped.value.code == 2
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1, err
        assert f"--host {host}" in err and "--admin-token" in err and "Traceback" not in err
    assert cli.main(["serve", "namak", "--host", "0.0.0.0", "--port", "0", "--admin-token", TOKEN]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("mockserver: warning: --host 0.0.0.0 serves on every network interface"), err
    assert cli.main(["serve", "namak", "--host", "127.0.0.1", "--port", "0"]) == 1  # loopback: no warning
    assert "warning" not in capsys.readouterr().err


def test_serve_with_a_token_and_an_allowed_host():
    with ServedProcess("namak", "--port", "0", "--quiet", "--admin-token", TOKEN,
                       "--allowed-host", "mock.team.lan") as process:
        root = process.roots["namak"]
        anonymous = httpx.post(root + "/__admin/reset", headers=JSON, timeout=TIMEOUT)
        named = httpx.post(root + "/__admin/reset", timeout=TIMEOUT, headers={
            **JSON, "Host": "mock.team.lan", "Authorization": f"Bearer {TOKEN}"})
    assert anonymous.status_code == 401 and named.status_code == 200
    assert any("/__admin needs 'Authorization: Bearer" in line for line in process.stdout)
    assert TOKEN not in "\n".join(process.stdout)


def test_the_console_asks_for_the_token_once(browser):
    with running("namak", settings=Settings(admin_token=TOKEN)) as mock:
        httpx.post(mock.root + "/v1/events", json=EVENT, headers=NAMAK_KEY, timeout=TIMEOUT)
        browser.get(mock.root + "/__admin/")
        wait = WebDriverWait(browser, TIMEOUT)
        wait.until(lambda d: d.find_element(By.ID, "token-form").is_displayed())
        browser.find_element(By.ID, "admin-token").send_keys(TOKEN)
        browser.find_element(By.ID, "token-set").click()
        wait.until(lambda d: d.find_element(By.ID, "api").text == "namak")
        wait.until(lambda d: "/v1/events" in d.find_element(By.ID, "journal").text)
        assert browser.execute_script("return sessionStorage.getItem('mockserver-admin-token')") == TOKEN
        browser.refresh()  # kept for the tab: not asked again
        wait.until(lambda d: d.find_element(By.ID, "api").text == "namak")
        assert not browser.find_element(By.ID, "token-form").is_displayed()
        browser.execute_script("sessionStorage.clear()")
        browser.get("about:blank")
        browser.get(mock.root + f"/__admin/#token={TOKEN}")  # or given in the URL's fragment
        wait.until(lambda d: d.find_element(By.ID, "api").text == "namak")
        assert "#" not in browser.current_url  # the token does not stay in the address bar
        browser.execute_script("sessionStorage.clear()")


# --- 5. admin calls journaled ---------------------------------------------------------------------------

def test_admin_calls_are_journaled_marked_and_redacted():
    with running("namak", settings=Settings(admin_token=TOKEN)) as mock, httpx.Client(
            base_url=mock.root, timeout=TIMEOUT, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        http.get("/v1/events", headers=NAMAK_KEY)
        http.post("/__admin/reset", headers=JSON)
        http.post("/__admin/faults", json={"fixedDelayMilliseconds": 1})
        http.post("/__admin/reset", headers={"Content-Type": "text/plain", "Authorization": f"Bearer {TOKEN}"})
        http.get("/__admin/state", headers={"Authorization": "Bearer nope"})
        plain = http.get("/__admin/requests").json()["requests"]
        everything = http.get("/__admin/requests?admin=include").json()["requests"]
    assert plain == []  # the reset cleared the API's journal; admin calls are listed only when asked
    admin = [(e["method"], e["path"], e["status"]) for e in everything if e.get("admin")]
    assert admin[:4] == [("POST", "/__admin/reset", 200), ("POST", "/__admin/faults", 201),
                         ("POST", "/__admin/reset", 415), ("GET", "/__admin/state", 401)]
    assert all(e.get("admin") for e in everything)
    text = json.dumps(everything)
    assert TOKEN not in text and "Bearer <redacted:" in text
