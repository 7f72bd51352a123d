"""EcoEvents mock over real HTTP: the document's curl examples, life cycle, filters, search,
sorting, paging metadata, auth, validation and concurrency."""

from __future__ import annotations

import concurrent.futures
import re

import httpx
import pytest

SLUG = "ecoevents"
HEADERS = {"Authorization": "Bearer YOUR_API_KEY"}

# the document's own create example, verbatim
SUMMIT = {
    "name": "Sustainable Tech Summit 2026",
    "description": "A conference focused on sustainable technology solutions",
    "location": {"address": "123 Green Street", "city": "San Francisco", "state": "CA", "country": "US",
                 "zipCode": "94102", "coordinates": {"lat": 37.7749, "lng": -122.4194}},
    "startDate": "2026-06-15T09:00:00Z",
    "endDate": "2026-06-17T18:00:00Z",
    "capacity": 500,
    "category": "conference",
    "sustainabilityGoals": {"carbonNeutral": True, "wasteReduction": 80, "localSourcing": True,
                            "renewableEnergy": True},
    "tags": ["technology", "sustainability", "green-tech"],
}


def error_of(response, status):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return body["error"]


def test_create_example_answers_as_documented(client):
    response = client.post("/api/events", json=SUMMIT)
    assert response.status_code == 201
    event = response.json()
    assert re.fullmatch(r"evt_[0-9a-f]{12}", event["id"])
    assert {k: event[k] for k in SUMMIT} == SUMMIT
    assert event["status"] == "draft"
    assert event["createdAt"] == event["updatedAt"]


def test_documented_get_put_list_delete_examples(client):
    got = client.get("/api/events/evt_1a2b3c4d5e6f")
    assert got.status_code == 200 and got.json()["name"] == "Sustainable Tech Summit 2026"
    put = client.put("/api/events/evt_1a2b3c4d5e6f", json={"capacity": 600, "status": "published"})
    assert put.status_code == 200
    assert (put.json()["capacity"], put.json()["status"]) == (600, "published")
    listed = client.get("/api/events", params={"page": 1, "limit": 10, "status": "published",
                                               "category": "conference"}).json()
    assert [e["id"] for e in listed["events"]] == ["evt_1a2b3c4d5e6f"]
    assert listed["events"][0]["capacity"] == 600
    assert listed["pagination"] == {"page": 1, "limit": 10, "total": 1, "totalPages": 1,
                                    "hasNext": False, "hasPrev": False}
    deleted = client.delete("/api/events/evt_1a2b3c4d5e6f")
    assert deleted.json() == {"success": True, "message": "Event successfully deleted",
                              "deletedId": "evt_1a2b3c4d5e6f"}
    assert error_of(client.get("/api/events/evt_1a2b3c4d5e6f"), 404)["code"] == "NOT_FOUND"


def test_update_shows_and_moves_updated_at(client):
    created = client.post("/api/events", json=SUMMIT).json()
    changed = client.put(f"/api/events/{created['id']}", json={"tags": ["solar"]}).json()
    assert changed["tags"] == ["solar"] and changed["name"] == SUMMIT["name"]
    assert changed["updatedAt"] >= created["updatedAt"]
    assert client.get(f"/api/events/{created['id']}").json()["tags"] == ["solar"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
def test_missing_or_wrong_key(anon, headers):
    assert error_of(anon.get("/api/events", headers=headers), 401)["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize("change, field", [
    ({"name": None}, "name"), ({"capacity": "many"}, "capacity"), ({"capacity": 0}, "capacity"),
    ({"startDate": "15/06/2026"}, "startDate"), ({"location": "SF"}, "location"),
    ({"tags": "green"}, "tags"), ({"sustainabilityGoals": {"wasteReduction": 101}}, "wasteReduction"),
])
def test_invalid_create_names_the_field(client, change, field):
    body = {k: v for k, v in {**SUMMIT, **change}.items() if v is not None}
    error = error_of(client.post("/api/events", json=body), 400)
    assert error["code"] == "INVALID_REQUEST" and field in error["message"]


def test_invalid_update_status_is_rejected(client):
    error = error_of(client.put("/api/events/evt_1a2b3c4d5e6f", json={"status": "archived"}), 400)
    assert "status" in error["message"]
    assert client.get("/api/events/evt_1a2b3c4d5e6f").json()["status"] == "draft"  # nothing lost


def _ids(client, **params):
    return [e["id"] for e in client.get("/api/events", params=params).json()["events"]]


def test_filters_return_only_matching_events(client):
    assert _ids(client, category="workshop") == ["evt_0c0ffee00001"]
    assert set(_ids(client, status="published")) == {"evt_0c0ffee00001", "evt_0c0ffee00002"}
    assert _ids(client, search="solar") == ["evt_0c0ffee00002"]          # description
    assert _ids(client, search="SUSTAINABLE TECH") == ["evt_1a2b3c4d5e6f"]  # name, any case
    assert set(_ids(client, tags="music,waste")) == {"evt_0c0ffee00001", "evt_0c0ffee00002"}
    assert _ids(client, startDate="2026-06-01T00:00:00Z", sortBy="startDate", order="asc") == [
        "evt_1a2b3c4d5e6f", "evt_0c0ffee00002"]
    assert _ids(client, endDate="2026-05-01T00:00:00Z") == ["evt_0c0ffee00001"]
    assert _ids(client, category="gala") == []


@pytest.mark.parametrize("sort_by", ["createdAt", "startDate", "name", "capacity"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sorting_in_requested_order(client, sort_by, order):
    events = client.get("/api/events", params={"sortBy": sort_by, "order": order}).json()["events"]
    full = {e["id"]: client.get(f"/api/events/{e['id']}").json() for e in events}
    keys = [full[e["id"]][sort_by] for e in events]
    keys = [k.lower() for k in keys] if sort_by == "name" else keys
    assert keys == sorted(keys, reverse=(order == "desc"))


def test_default_order_is_newest_first(client):
    created = client.post("/api/events", json=SUMMIT).json()
    assert _ids(client)[0] == created["id"]


def test_paging_metadata_on_every_page(client):
    for n in range(4):
        client.post("/api/events", json={**SUMMIT, "name": f"Extra {n}"}).raise_for_status()
    pages = [client.get("/api/events", params={"limit": 3, "page": p}).json() for p in (1, 2, 3)]
    assert [len(p["events"]) for p in pages] == [3, 3, 1]
    assert [(p["pagination"]["hasPrev"], p["pagination"]["hasNext"]) for p in pages] == [
        (False, True), (True, True), (True, False)]
    assert {p["pagination"]["totalPages"] for p in pages} == {3}
    assert {p["pagination"]["total"] for p in pages} == {7}
    beyond = client.get("/api/events", params={"limit": 3, "page": 9}).json()
    assert beyond["events"] == [] and beyond["pagination"]["hasNext"] is False


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"page": 0}, {"sortBy": "price"},
                                    {"order": "up"}, {"status": "gone"}])
def test_list_parameters_out_of_range(client, params):
    assert next(iter(params)) in error_of(client.get("/api/events", params=params), 400)["message"]


def test_concurrent_creates_and_deletes_keep_totals(client, mock):
    def create(n):
        with httpx.Client(base_url=mock.root, headers=HEADERS, timeout=20) as c:
            return c.post("/api/events", json={**SUMMIT, "name": f"Parallel {n}"}).json()["id"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        ids = list(pool.map(create, range(48)))

    def delete(event_id):
        with httpx.Client(base_url=mock.root, headers=HEADERS, timeout=20) as c:
            return c.delete(f"/api/events/{event_id}").status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        assert set(pool.map(delete, ids[:16])) == {200}
    assert len(set(ids)) == 48
    assert client.get("/api/events").json()["pagination"]["total"] == 3 + 48 - 16


def test_an_event_that_ends_before_it_starts_is_refused(client):
    backwards = client.post("/api/events", json={**SUMMIT, "endDate": "2026-06-15T08:59:59Z"})
    failure = error_of(backwards, 400)
    assert failure["code"] == "INVALID_REQUEST" and "endDate" in failure["message"] and "before" in failure["message"]
    offset = client.post("/api/events", json={**SUMMIT, "endDate": "2026-06-15T10:00:00+02:00"})  # 08:00Z
    assert error_of(offset, 400)["code"] == "INVALID_REQUEST"
    instant = client.post("/api/events", json={**SUMMIT, "endDate": SUMMIT["startDate"]})
    assert instant.status_code == 201  # ends as it starts: not before
    path = f"/api/events/{instant.json()['id']}"
    # a PUT is judged with the stored dates: moving one of them past the other is refused, nothing changes
    assert error_of(client.put(path, json={"startDate": "2026-06-16T00:00:00Z"}), 400)["code"] == "INVALID_REQUEST"
    assert error_of(client.put(path, json={"endDate": "2026-06-01T00:00:00Z"}), 400)["code"] == "INVALID_REQUEST"
    assert client.get(path).json()["startDate"] == SUMMIT["startDate"]
    moved = client.put(path, json={"startDate": "2026-07-01T09:00:00Z", "endDate": "2026-07-02T18:00:00Z"})
    assert moved.status_code == 200 and moved.json()["endDate"] == "2026-07-02T18:00:00Z"
    assert error_of(client.put("/api/events/evt_000000000000", json={"name": "x"}), 404)["code"] == "NOT_FOUND"


def test_a_new_event_starts_like_every_api_s_new_records(client):
    """Starting values: the schema's default (`status: draft`), null in an unset nullable field
    (`description`), the creation time in the `x-timestamp` fields; an update restamps `updatedAt` only."""
    bare = {k: v for k, v in SUMMIT.items() if k != "description"}
    event = client.post("/api/events", json=bare).json()
    assert (event["status"], event["description"]) == ("draft", None)
    assert event["createdAt"] == event["updatedAt"]
    assert client.get(f"/api/events/{event['id']}").json()["description"] is None
