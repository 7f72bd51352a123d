"""State that outlives a restart: `GET /__admin/state` downloads it, `PUT /__admin/state` loads one
(checked as fixtures are: a bad one is a 400 and changes nothing), and `mockserver serve SLUG --state
FILE` loads the file at start when it exists and writes it at shutdown (Ctrl-C or SIGTERM)."""

from __future__ import annotations

import json
import signal

import httpx
import pytest

from mockserver import cli
from mockserver.app import Settings
from mockserver.testing import ServedProcess, running

TIMEOUT = 10
NAMAK_KEY = {"Authorization": "Bearer YOUR_API_KEY"}
NEW_EVENT = {"title": "Kept across restarts", "date": "2024-07-15T09:00:00Z", "location": {"venue": "Hall A"}}

# a write to each API, so the state holds records the mock made itself (as a developer's would)
WRITES = {
    "namak": [("POST", "/v1/events", NAMAK_KEY, NEW_EVENT)],
    "amarevents": [("POST", "/api/auth/register", {}, {"username": "john", "email": "john@email.com",
                                                       "password": "secret123", "number": "01700000000"}),
                   ("POST", "/api/auth/login", {}, {"email": "karim@email.com", "password": "karim123"}),
                   ("PUT", "/api/tickets/43", {"Authorization": "Bearer ae_o_demo"}, {"status": "Success"})],
    "tickets": [],  # read-only: its state is the fixtures'

    "ecoevents": [("PUT", "/api/events/evt_1a2b3c4d5e6f", NAMAK_KEY, {"capacity": 600, "status": "published"})],
    "eventify": [("POST", "/api/user/register/", {}, {"email": "new@example.com", "phone_number": "+919000000000",
                                                      "password": "pw123456"})],
}


TOKEN = "s3cret-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize("slug", sorted(WRITES))
def test_a_downloaded_state_loads_back_as_it_was(slug):
    """With the admin token, `?secrets=include` downloads the whole state, secrets and all: it loads back
    after a reset, and the logins it holds work again."""
    with (running(slug, settings=Settings(validate_responses=True, admin_token=TOKEN)) as mock,
          httpx.Client(base_url=mock.root, headers=ADMIN, timeout=TIMEOUT) as http):
        for method, path, headers, body in WRITES[slug]:
            assert http.request(method, path, headers=headers, json=body).status_code < 300, (method, path)
        download = http.get("/__admin/state?secrets=include")
        assert download.status_code == 200
        assert download.headers["content-disposition"] == f'attachment; filename="{slug}-state.json"'
        assert "<redacted" not in download.text
        assert http.post("/__admin/reset", json={}).status_code == 200
        assert (http.get("/__admin/state?secrets=include").json() != download.json()) == bool(WRITES[slug])
        loaded = http.put("/__admin/state", content=download.content, headers={"Content-Type": "application/json"})
        assert loaded.status_code == 200, loaded.text
        assert loaded.json()["status"] == "loaded"
        assert http.get("/__admin/state?secrets=include").json() == download.json()


def test_a_redacted_download_loads_back_while_the_mock_holds_its_secrets():
    """The default download is redacted; PUT back, each `<redacted:...>` is the secret the store holds at
    that place; one it no longer holds (a registration undone by a reset) is a 400 saying how to keep it."""
    register = {"username": "john", "email": "john@email.com", "password": "secret123", "number": "01700000000"}
    with running("amarevents") as mock, httpx.Client(base_url=mock.root, timeout=TIMEOUT) as http:
        assert http.post("/api/auth/register", json=register).status_code == 201
        download = http.get("/__admin/state")
        assert "secret123" not in download.text and "karim123" not in download.text and "ae_u_demo" not in download.text
        before = mock.store.snapshot()
        assert http.put("/__admin/state", content=download.content,
                        headers={"Content-Type": "application/json"}).status_code == 200
        assert mock.store.snapshot() == before
        login = {"email": "john@email.com", "password": "secret123"}
        assert http.post("/api/auth/login", json=login).status_code == 200
        assert http.get("/api/auth/me", headers={"Authorization": "Bearer ae_u_demo"}).status_code == 200
        http.post("/__admin/reset", json={})
        refused = http.put("/__admin/state", content=download.content, headers={"Content-Type": "application/json"})
        assert refused.status_code == 400
        assert "field '_password': <redacted:" in refused.json()["error"]
        assert "?secrets=include" in refused.json()["error"]
        # a redacted secret is only ever put back where it came from: moved to another record, it is refused
        moved = download.json()
        users = moved["users"]
        users[0]["_password"] = next(u["_password"] for u in users if u["email"] == "karim@email.com")
        assert http.put("/__admin/state", json=moved).status_code == 400


def test_secrets_include_needs_an_admin_token():
    with running("namak") as mock:
        answer = httpx.get(mock.root + "/__admin/state?secrets=include", timeout=TIMEOUT)
    assert answer.status_code == 403 and "--admin-token" in answer.json()["error"]


def test_a_loaded_state_is_what_the_api_serves():
    with running("namak") as mock, httpx.Client(base_url=mock.root, headers=NAMAK_KEY, timeout=TIMEOUT) as http:
        state = http.get("/__admin/state").json()
        state["events"] = [{**e, "title": "Renamed"} for e in state["events"] if e["id"] == "evt_122"]
        state["bookings"] = []
        assert http.put("/__admin/state", json=state).json()["collections"] == {"api_keys": 1, "events": 1,
                                                                                "bookings": 0}
        assert [e["title"] for e in http.get("/v1/events").json()["data"]] == ["Renamed"]
        assert http.get("/v1/events/evt_123").status_code == 404
        assert http.post("/v1/events", json=NEW_EVENT).json()["id"] == "evt_123"  # ids go on from the loaded
        http.post("/__admin/reset", json={})  # reset goes back to the fixtures, not to the loaded state
        assert http.get("/v1/events/evt_123").json()["title"] == "Summer Conference 2024"


@pytest.mark.parametrize("body, says", [
    (b"{not json", "the body is not JSON"),
    (b"[]", "expected a mapping of collection name to records"),
    (json.dumps({"evnets": []}).encode(),
     "collection 'evnets': namak keeps no such collection (did you mean 'events'?)"),
    (json.dumps({"events": [{"id": "evt_1", "title": "T"}]}).encode(),
     "collection 'events', record 1 (id 'evt_1'): field 'date': required, missing"),
    (json.dumps({"events": [{**NEW_EVENT, "id": "evt_1", "attendees": 0, "capacity": 1, "status": "open"}]}).encode(),
     "collection 'events', record 1 (id 'evt_1'): field 'status': 'open' is not one of"),
])
def test_a_bad_state_is_a_400_and_changes_nothing(body, says):
    with running("namak") as mock, httpx.Client(base_url=mock.root, timeout=TIMEOUT) as http:
        before = http.get("/__admin/state").json()
        refused = http.put("/__admin/state", content=body, headers={"Content-Type": "application/json"})
        assert http.get("/__admin/state").json() == before
    assert refused.status_code == 400
    assert says in refused.json()["error"], refused.json()


def test_the_fixtures_layout_loads_too():
    with running("namak") as mock, httpx.Client(base_url=mock.root, headers=NAMAK_KEY, timeout=TIMEOUT) as http:
        state = http.get("/__admin/state").json()
        state["events"] = state["events"][:1]
        assert http.put("/__admin/state", json={"collections": state}).status_code == 200
        assert len(http.get("/v1/events").json()["data"]) == 1


# --- --state FILE: across restarts, as a user runs it -------------------------------------------------

def test_state_outlives_a_restart(tmp_path):
    kept = tmp_path / "namak-state.json"
    with ServedProcess("namak", "--port", "0", "--quiet", "--state", str(kept)) as first:
        root = first.roots["namak"]
        created = httpx.post(root + "/v1/events", json=NEW_EVENT, headers=NAMAK_KEY, timeout=TIMEOUT).json()
        assert httpx.delete(root + "/v1/events/evt_121", headers=NAMAK_KEY, timeout=TIMEOUT).status_code == 204
        assert not kept.exists()  # written at shutdown
        assert first.stop(signal.SIGTERM) == 0
    assert first.stderr == []
    assert first.stdout[-1].startswith(f"namak: state written to {kept}")
    assert created["id"] in [e["id"] for e in json.loads(kept.read_text())["events"]]

    with ServedProcess("namak", "--port", "0", "--quiet", "--state", str(kept)) as second:
        root = second.roots["namak"]
        again = httpx.get(root + f"/v1/events/{created['id']}", headers=NAMAK_KEY, timeout=TIMEOUT)
        assert again.status_code == 200 and again.json()["title"] == NEW_EVENT["title"]
        assert httpx.get(root + "/v1/events/evt_121", headers=NAMAK_KEY, timeout=TIMEOUT).status_code == 404
        changed = httpx.put(root + f"/v1/events/{created['id']}", json={"title": "Changed"}, headers=NAMAK_KEY,
                            timeout=TIMEOUT)
        assert changed.status_code == 200
        assert second.stop(signal.SIGINT) == 0  # Ctrl-C
    titles = {e["id"]: e["title"] for e in json.loads(kept.read_text())["events"]}
    assert titles[created["id"]] == "Changed"
    assert "evt_121" not in titles


def test_a_bad_state_file_stops_the_start_in_one_line_per_problem(tmp_path, capsys):
    kept = tmp_path / "namak-state.json"
    kept.write_text(json.dumps({"events": [{"id": "evt_1", "title": 5}]}), encoding="utf-8")
    assert cli.main(["serve", "namak", "--port", "0", "--state", str(kept)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"mockserver: {kept}: collection 'events', record 1 (id 'evt_1'): field 'title': 5 is not of type" in err
    assert "Traceback" not in err
    kept.write_text("{", encoding="utf-8")
    assert cli.main(["serve", "namak", "--port", "0", "--state", str(kept)]) == 1
    assert "not valid YAML" in capsys.readouterr().err


def test_state_needs_a_directory_to_be_kept_in(tmp_path, capsys):
    assert cli.main(["serve", "namak", "--port", "0", "--state", str(tmp_path / "no" / "state.json")]) == 1
    assert "no directory" in capsys.readouterr().err
