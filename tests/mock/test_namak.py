"""Namak mock over real HTTP: life cycle, the document's examples, auth, validation, paging,
filters, bookings against capacity, rate limiting and concurrency."""

from __future__ import annotations

import concurrent.futures

import httpx
import pytest

from mockserver.app import Settings
from mockserver.testing import running

SLUG = "namak"
HEADERS = {"Authorization": "Bearer YOUR_API_KEY"}
NEW_EVENT = {"title": "New Event", "date": "2024-09-01T10:00:00Z",
             "location": {"venue": "Hall A", "address": "1 Main St"}}


def error_of(response):
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return body["error"]


def test_documented_event_reads_as_in_the_document(client):
    response = client.get("/v1/events/evt_123")
    assert response.status_code == 200
    event = response.json()
    assert event["title"] == "Summer Conference 2024"
    assert event["location"] == {"venue": "Convention Center", "address": "123 Main St, San Francisco, CA"}
    assert (event["attendees"], event["capacity"], event["status"]) == (150, 200, "active")


def test_event_life_cycle(client):
    created = client.post("/v1/events", json=NEW_EVENT)
    assert created.status_code == 201
    event_id = created.json()["id"]
    assert event_id == "evt_124"  # the document's own next id after evt_123
    assert created.json()["created_at"].endswith("Z")
    assert client.get(f"/v1/events/{event_id}").json()["title"] == "New Event"
    listed = client.get("/v1/events", params={"limit": 100}).json()["data"]
    assert event_id in [e["id"] for e in listed]
    updated = client.put(f"/v1/events/{event_id}", json={"title": "Renamed"})
    assert updated.status_code == 200 and updated.json()["title"] == "Renamed"
    assert client.get(f"/v1/events/{event_id}").json()["title"] == "Renamed"
    assert client.delete(f"/v1/events/{event_id}").status_code == 204
    gone = client.get(f"/v1/events/{event_id}")
    assert gone.status_code == 404
    assert event_id in error_of(gone)["message"]
    assert client.delete(f"/v1/events/{event_id}").status_code == 404


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eA=="}])
def test_missing_or_wrong_key_gets_401_in_namak_body(anon, headers):
    response = anon.get("/v1/events", headers=headers)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


@pytest.mark.parametrize("body, field", [
    ({"date": "2024-09-01T10:00:00Z", "location": {}}, "title"),
    ({"title": "x", "location": {}}, "date"),
    ({"title": "x", "date": "yesterday", "location": {}}, "date"),
    ({"title": "x", "date": "2024-09-01T10:00:00Z"}, "location"),
    ({"title": 5, "date": "2024-09-01T10:00:00Z", "location": {}}, "title"),
])
def test_invalid_event_gets_400_naming_the_field(client, body, field):
    response = client.post("/v1/events", json=body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_request" and field in error["message"]


@pytest.mark.parametrize("content, content_type", [
    (b'{"title": ', "application/json"),
    (b"\xff\xfe{}", "application/json"),
    (b"title=x", "application/x-www-form-urlencoded"),
    (b"", "application/json"),
])
def test_malformed_bodies_get_400_not_500(client, content, content_type):
    response = client.post("/v1/events", content=content, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_unknown_route_and_method(client):
    assert error_of(client.get("/v1/nothing"))["code"] == "not_found"
    response = client.patch("/v1/events/evt_123", json={})
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"page": 0}, {"limit": "ten"},
                                    {"status": "archived"}])
def test_list_parameters_out_of_range_get_400(client, params):
    response = client.get("/v1/events", params=params)
    assert response.status_code == 400
    assert next(iter(params)) in error_of(response)["message"]


def test_pagination_pages_and_meta(client):
    for n in range(7):
        assert client.post("/v1/events", json={**NEW_EVENT, "title": f"E{n}"}).status_code == 201
    total = 10  # three seeded + seven created
    first = client.get("/v1/events", params={"limit": 4}).json()
    assert first["meta"] == {"page": 1, "limit": 4, "total": total}
    assert len(first["data"]) == 4
    last = client.get("/v1/events", params={"limit": 4, "page": 3}).json()
    assert len(last["data"]) == 2
    past = client.get("/v1/events", params={"limit": 4, "page": 4}).json()
    assert past["data"] == [] and past["meta"]["total"] == total
    seen = [e["id"] for p in (1, 2, 3) for e in client.get("/v1/events", params={"limit": 4, "page": p}).json()["data"]]
    assert len(seen) == len(set(seen)) == total
    assert client.get("/v1/events").json()["meta"]["limit"] == 20


def test_status_filter(client):
    drafts = client.get("/v1/events", params={"status": "draft"}).json()
    assert drafts["data"] and all(e["status"] == "draft" for e in drafts["data"])
    assert drafts["meta"]["total"] == len(drafts["data"])
    created = client.post("/v1/events", json=NEW_EVENT).json()  # new events are drafts
    assert created["id"] in [e["id"] for e in client.get("/v1/events", params={"status": "draft"}).json()["data"]]
    assert created["id"] not in [e["id"] for e in client.get("/v1/events", params={"status": "active"}).json()["data"]]


def test_bookings_count_against_capacity(client):
    # evt_123: 150 of 200 places booked
    ok = client.post("/v1/bookings", json={"event_id": "evt_123", "attendees": 50})
    assert ok.status_code == 201 and ok.json()["status"] == "confirmed"
    assert client.get("/v1/events/evt_123").json()["attendees"] == 200
    full = client.post("/v1/bookings", json={"event_id": "evt_123", "attendees": 1})
    assert full.status_code == 409 and "attendees" in error_of(full)["message"]
    listed = client.get("/v1/bookings", params={"event_id": "evt_123"}).json()["data"]
    assert ok.json()["id"] in [b["id"] for b in listed]
    assert all(b["event_id"] == "evt_123" for b in listed)
    unknown = client.post("/v1/bookings", json={"event_id": "evt_999", "attendees": 1})
    assert unknown.status_code == 404


def test_cancelling_an_event_cancels_its_bookings(client):
    mine = client.post("/v1/bookings", json={"event_id": "evt_123", "attendees": 3}).json()
    other = client.post("/v1/bookings", json={"event_id": "evt_122", "attendees": 1}).json()
    assert client.delete("/v1/events/evt_123").status_code == 204
    left = client.get("/v1/bookings", params={"event_id": "evt_123"}).json()["data"]
    assert {b["id"] for b in left} == {"bk_1", mine["id"]}            # still listed, as cancelled
    assert {b["status"] for b in left} == {"cancelled"}
    assert client.get("/v1/bookings", params={"event_id": "evt_123", "status": "confirmed"}).json()["data"] == []
    kept = client.get("/v1/bookings", params={"event_id": "evt_122"}).json()["data"]
    assert other["id"] in [b["id"] for b in kept] and {b["status"] for b in kept} == {"confirmed"}
    refused = client.post("/v1/bookings", json={"event_id": "evt_123", "attendees": 1})
    assert refused.status_code == 404 and "evt_123" in error_of(refused)["message"]


def test_booking_needs_at_least_one_attendee(client):
    response = client.post("/v1/bookings", json={"event_id": "evt_123", "attendees": 0})
    assert response.status_code == 400 and "attendees" in error_of(response)["message"]


def test_rate_limit_headers_count_down(client):
    first = client.get("/v1/events")
    second = client.get("/v1/events")
    assert first.headers["X-RateLimit-Limit"] == "1000"
    assert int(second.headers["X-RateLimit-Remaining"]) == int(first.headers["X-RateLimit-Remaining"]) - 1
    assert int(first.headers["X-RateLimit-Reset"]) > 1_700_000_000


def test_rate_limit_429_after_the_limit():
    settings = Settings(validate_responses=True, rate_limits={"limit": 3}, rate_limit_window=30)
    with running(SLUG, settings=settings) as small, httpx.Client(base_url=small.root, headers=HEADERS) as c:
        statuses = [c.get("/v1/events").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = c.get("/v1/events")
        assert error_of(limited)["code"] == "rate_limit_exceeded"
        assert 1 <= int(limited.headers["Retry-After"]) <= 30
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        other = c.get("/v1/events", headers={"Authorization": "Bearer nope"})
        assert other.status_code == 401  # no key, nothing counted


def test_concurrent_bookings_never_oversell(client, mock):
    # evt_122 has 100 places and none booked: 40 clients race for 3 places each
    def book(_):
        with httpx.Client(base_url=mock.root, headers=HEADERS, timeout=20) as c:
            return c.post("/v1/bookings", json={"event_id": "evt_122", "attendees": 3}).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(book, range(40)))
    assert statuses.count(201) == 33 and statuses.count(409) == 7
    assert client.get("/v1/events/evt_122").json()["attendees"] == 99


def test_concurrent_creates_lose_no_write(client, mock):
    def create(n):
        with httpx.Client(base_url=mock.root, headers=HEADERS, timeout=20) as c:
            return c.post("/v1/events", json={**NEW_EVENT, "title": f"C{n}"}).json()["id"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        ids = list(pool.map(create, range(64)))
    assert len(set(ids)) == 64
    total = client.get("/v1/events").json()["meta"]["total"]
    assert total == 3 + 64
