"""The control surface beside each API, and its interactive docs."""

from __future__ import annotations

import httpx
import pytest

from apispec.load import SLUGS
from apispec.model import slug_of
from mockserver.app import Settings
from mockserver.testing import running

SLUG = "namak"
HEADERS = {"Authorization": "Bearer YOUR_API_KEY"}


def test_reset_restores_the_fixtures_and_clears_the_journal(client):
    created = client.post("/v1/events", json={"title": "T", "date": "2024-01-01T00:00:00Z", "location": {}}).json()
    assert client.delete("/v1/events/evt_123").status_code == 204
    journal = client.get("/__admin/requests").json()["requests"]
    assert [(e["method"], e["path"], e["status"]) for e in journal] == [
        ("POST", "/v1/events", 201), ("DELETE", "/v1/events/evt_123", 204)]
    assert journal[0]["request_body"]["title"] == "T" and journal[0]["response_body"]["id"] == created["id"]
    assert client.post("/__admin/reset", json={}).json()["status"] == "reset"
    assert client.get("/v1/events/evt_123").status_code == 200
    assert client.get(f"/v1/events/{created['id']}").status_code == 404
    assert [e["path"] for e in client.get("/__admin/requests").json()["requests"]] == [
        "/v1/events/evt_123", f"/v1/events/{created['id']}"]


def test_state_and_health(client):
    state = client.get("/__admin/state").json()
    assert "evt_123" in [e["id"] for e in state["events"]]
    assert client.get("/__admin/health").json() == {"status": "ok", "api": "namak"}
    assert client.get("/__admin/nothing").status_code == 404


def test_reset_clears_rate_limit_windows():
    settings = Settings(rate_limits={"limit": 2}, rate_limit_window=300)
    with running(SLUG, settings=settings) as server, httpx.Client(base_url=server.root, headers=HEADERS) as c:
        assert [c.get("/v1/events").status_code for _ in range(3)] == [200, 200, 429]
        c.post("/__admin/reset", json={})
        assert c.get("/v1/events").status_code == 200


@pytest.mark.parametrize("slug", SLUGS)
def test_interactive_docs_serve_the_spec(slug):
    with running(slug) as server:
        docs = httpx.get(server.root + "/__docs/", timeout=10)
        spec = httpx.get(server.root + "/openapi.json", timeout=10).json()
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert slug_of(spec) == slug
    assert spec["servers"] == [{"url": ""}]  # "Try it out" calls the mock itself
