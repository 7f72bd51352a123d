"""The journal (`GET /__admin/requests`) says, for each request, the operation that served it and why
it got its answer; for a request that matched no operation, the nearest operations and what differed."""

from __future__ import annotations

from mockserver.app import Settings

SLUG = "namak"
HEADERS = {"Authorization": "Bearer YOUR_API_KEY"}
SETTINGS = Settings(validate_responses=True, rate_limits={"limit": 4})


def _journal(client):
    return client.get("/__admin/requests").json()["requests"]


def test_why_each_request_got_its_answer(client, anon):
    client.get("/v1/events")
    anon.get("/v1/events")
    client.get("/v1/events", headers={"Authorization": "Bearer wrong"})
    client.post("/v1/events", json={"title": "x"})
    client.get("/v1/events/evt_nope")
    client.get("/v1/events", headers={"Prefer": "code=500"})
    client.get("/v1/events")
    journal = _journal(client)
    assert [(e["operation"], e["status"], e["why"]) for e in journal[:-1]] == [
        ("listEvents", 200, None),
        ("listEvents", 401, "Missing API key: send an Authorization header"),
        ("listEvents", 401, "Invalid API key"),
        ("createEvent", 400, "date is required"),
        ("getEvent", 404, "Event evt_nope not found"),
        ("listEvents", 500, "Prefer: code=500"),
    ]
    assert (journal[-1]["operation"], journal[-1]["status"]) == ("listEvents", 429)
    assert journal[-1]["why"].startswith("Rate limit exceeded: 4 requests per hour; retry in ")
    assert all(e["duration_ms"] >= 0 for e in _journal(client))


def test_why_with_a_content_type_on_a_get_too(client):
    connexion = {"Content-Type": "application/json"}  # a body type on a GET (once served by another path)
    client.get("/v1/events/evt_123", headers={**connexion, "Prefer": "code=500"})
    client.get("/v1/events?limit=abc", headers=connexion)
    client.get("/v1/events/evt_123", headers={**connexion, "Prefer": "bogus=1"})
    assert [(e["operation"], e["status"]) for e in _journal(client)] == [
        ("getEvent", 500), ("listEvents", 400), ("getEvent", 400)]
    whys = [e["why"] for e in _journal(client)]
    assert whys[0] == "Prefer: code=500"
    assert whys[1].startswith("query parameter limit: 'abc' is not of type")
    assert whys[2].startswith("Malformed Prefer header: unknown preference 'bogus=1'. Accepted: code=NNN")


def test_a_request_matching_no_operation_names_the_nearest(client):
    client.get("/v1/evnts/evt_123")
    client.patch("/v1/events/evt_123", json={})
    client.get("/v1/events/evt_123/tickets")
    near = [e["near_misses"] for e in _journal(client)]
    assert near[0][0] == {"operation": "getEvent", "method": "GET", "path": "/v1/events/{id}",
                          "differs": ["path: 'evnts' where /v1/events/{id} has 'events'"]}
    assert {"operation": "updateEvent", "method": "PUT", "path": "/v1/events/{id}",
            "differs": ["method: PATCH, the operation is PUT"]} in near[1]
    assert near[2][0]["operation"] == "getEvent"
    assert near[2][0]["differs"] == ["path: 'tickets' after where /v1/events/{id} ends"]
    assert [e["status"] for e in _journal(client)] == [404, 405, 404]
    client.get("/v1/events/evt_123")
    assert "near_misses" not in _journal(client)[-1]  # a request that matched has none
