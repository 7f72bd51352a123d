"""Latency and faults, set over HTTP from /__admin/faults or per request with `Prefer`, seen by a
real HTTP client: delays, error statuses in the API's own body, and broken connections."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from starlette.middleware.cors import CORSMiddleware

from mockserver.app import create_app
from mockserver.testing import running

SLUG = "namak"
HEADERS = {"Authorization": "Bearer YOUR_API_KEY"}
FAULTS = ["CONNECTION_RESET_BY_PEER", "EMPTY_RESPONSE", "MALFORMED_RESPONSE_CHUNK", "RANDOM_DATA_THEN_CLOSE"]
# a read, and the same read with a Content-Type on the GET (two request paths once served these apart)
PLAIN = ("/v1/events/evt_123", {})
TYPED = ("/v1/events/evt_123", {"Content-Type": "application/json"})


def _broken(client, path, headers, fault):
    """What the client sees of a broken connection (it must see no answer)."""
    if fault == "MALFORMED_RESPONSE_CHUNK":
        with client.stream("GET", path, headers=headers) as answer:
            assert answer.status_code == 200  # the status line and headers arrive, then a broken chunk
            with pytest.raises(httpx.RemoteProtocolError, match="chunk"):
                answer.read()
        return
    expected = {"CONNECTION_RESET_BY_PEER": (httpx.ReadError, "reset by peer"),
                "EMPTY_RESPONSE": (httpx.RemoteProtocolError, "without sending a response"),
                "RANDOM_DATA_THEN_CLOSE": (httpx.RemoteProtocolError, None)}[fault]
    with pytest.raises(expected[0], match=expected[1]):
        client.get(path, headers=headers)


@pytest.mark.parametrize("fault", FAULTS)
def test_a_connection_fault_per_request(client, fault):
    _broken(client, "/v1/events", {"Prefer": f"fault={fault}"}, fault)
    assert client.get("/v1/events").status_code == 200  # the mock goes on serving
    entry = client.get("/__admin/requests").json()["requests"][0]
    assert (entry["operation"], entry["status"], entry["fault"]) == ("listEvents", None, fault)
    assert entry["why"] == f"fault {fault} (from Prefer)"


@pytest.mark.parametrize("fault", FAULTS)
def test_a_connection_fault_rule_breaks_its_operation_on_both_paths(client, fault):
    assert client.post("/__admin/faults", json={"operation": "getEvent", "fault": fault}).status_code == 201
    for path, headers in (PLAIN, TYPED):
        _broken(client, path, headers, fault)
    assert client.get("/v1/events").status_code == 200  # another operation is untouched
    why = [e["why"] for e in client.get("/__admin/requests").json()["requests"]]
    assert why[:2] == [f"fault {fault} (from /__admin/faults rule for getEvent)"] * 2


def test_a_chance_of_a_connection_fault_repeats_with_its_seed(client):
    def outcomes():
        client.post("/__admin/faults", json={"operation": "listEvents", "fault": "EMPTY_RESPONSE",
                                             "probability": 0.5, "seed": 4})
        seen = []
        for _ in range(16):
            try:
                seen.append(client.get("/v1/events").status_code)
            except httpx.RemoteProtocolError:
                seen.append("empty")
        return seen

    first = outcomes()
    assert first.count("empty") > 2 and first.count(200) > 2  # seeded: always so
    assert outcomes() == first


def test_delays_fixed_per_request_and_per_rule(client):
    started = time.monotonic()
    assert client.get("/v1/events", headers={"Prefer": "delay=300"}).status_code == 200
    assert time.monotonic() - started >= 0.3
    client.post("/__admin/faults", json={"fixedDelayMilliseconds": 250})  # every operation
    for path, headers in (PLAIN, TYPED):
        started = time.monotonic()
        assert client.get(path, headers=headers).status_code == 200
        assert time.monotonic() - started >= 0.25
    journal = client.get("/__admin/requests").json()["requests"]
    assert [e["delay_ms"] for e in journal] == [300, 250, 250]
    assert all(e["duration_ms"] >= e["delay_ms"] for e in journal)


@pytest.mark.parametrize("distribution, low, high", [
    ({"type": "uniform", "lower": 5, "upper": 60}, 5, 60),
    ({"type": "lognormal", "median": 20, "sigma": 0.6}, 1, 400),
])
def test_random_delays_are_drawn_from_their_distribution_and_repeat_with_a_seed(client, distribution, low, high):
    def delays():
        client.delete("/__admin/requests", headers={"Content-Type": "application/json"})
        client.post("/__admin/faults", json={"operation": "listEvents", "delayDistribution": distribution, "seed": 5})
        for _ in range(12):
            assert client.get("/v1/events").status_code == 200
        return [e["delay_ms"] for e in client.get("/__admin/requests").json()["requests"]]

    first = delays()
    assert all(low <= d <= high for d in first) and len(set(first)) > 6
    assert delays() == first  # the same seed, the same delays


def test_a_chance_of_a_documented_error_status_in_the_apis_body(client):
    def statuses():
        client.post("/__admin/faults", json={"operation": "listEvents", "status": [429, 403], "probability": 0.4,
                                             "seed": 11})
        return [client.get("/v1/events") for _ in range(30)]

    first = statuses()
    codes = [a.status_code for a in first]
    assert codes.count(200) > 5 and codes.count(429) > 1 and codes.count(403) > 1  # seeded: always so
    assert set(codes) == {200, 429, 403}
    assert [a.status_code for a in statuses()] == codes  # the same seed, the same answers
    refused = next(a for a in first if a.status_code == 403)
    assert set(refused.json()) == {"error"} and refused.headers["X-RateLimit-Limit"]  # Namak's own body
    assert "Retry-After" in next(a for a in first if a.status_code == 429).headers
    whys = {e["why"] for e in client.get("/__admin/requests").json()["requests"] if e["status"] != 200}
    assert whys == {"Injected 429 (a /__admin/faults rule for listEvents)",
                    "Injected 403 (a /__admin/faults rule for listEvents)"}


def test_an_error_status_applies_on_both_paths_after_authentication(client, anon):
    client.post("/__admin/faults", json={"operation": "getEvent", "status": 500})
    for path, headers in (PLAIN, TYPED):
        assert client.get(path, headers=headers).status_code == 500
    assert anon.get("/v1/events/evt_123").status_code == 401  # a missing key is still a 401


def test_an_every_operation_status_only_answers_where_documented(client):
    # Namak documents 404 on its {id} operations and POST /v1/bookings only
    client.post("/__admin/faults", json={"status": 404})
    assert client.get("/v1/events/evt_123").status_code == 404
    assert client.get("/v1/events").status_code == 200


def test_rules_are_listed_replaced_cleared_and_reset(client):
    listing = client.get("/__admin/faults").json()
    assert listing["faults"] == []
    assert {"operationId": "getEvent", "method": "GET", "path": "/v1/events/{id}"} in listing["operations"]
    client.post("/__admin/faults", json={"fixedDelayMilliseconds": 10})
    client.post("/__admin/faults", json={"operation": "getEvent", "status": 500})
    client.post("/__admin/faults", json={"operation": "getEvent", "status": 429, "probability": 0.5, "seed": 1})
    assert client.get("/__admin/faults").json()["faults"] == [
        {"operation": "*", "fixedDelayMilliseconds": 10},
        {"operation": "getEvent", "status": 429, "probability": 0.5, "seed": 1}]
    assert client.delete("/__admin/faults", headers={"Content-Type": "application/json"},
                         params={"operation": "getEvent"}).json()["cleared"] == 1
    assert [r["operation"] for r in client.get("/__admin/faults").json()["faults"]] == ["*"]
    client.post("/__admin/faults", json={"operation": "getEvent", "fault": "EMPTY_RESPONSE"})
    assert client.delete("/__admin/faults", headers={"Content-Type": "application/json"}).json()["cleared"] == 2
    client.post("/__admin/faults", json={"fault": "EMPTY_RESPONSE"})
    client.post("/__admin/reset", json={})
    assert client.get("/__admin/faults").json()["faults"] == []
    assert client.get("/v1/events").status_code == 200


@pytest.mark.parametrize("rule, named", [
    ({"operation": "getEvnt", "fixedDelayMilliseconds": 10}, "operation 'getEvnt' is not an operationId of namak"),
    ({"fixedDelayMilliseconds": 60001}, "fixedDelayMilliseconds 60001: milliseconds from 0 to 60000"),
    ({"fixedDelayMilliseconds": -1}, "fixedDelayMilliseconds -1"),
    ({"fixedDelayMilliseconds": "500"}, "fixedDelayMilliseconds '500'"),
    ({"delayDistribution": {"type": "uniform", "lower": 90, "upper": 10}}, "lower is above upper"),
    ({"delayDistribution": {"type": "uniform", "lower": 0, "upper": 70000}}, "delayDistribution.upper 70000"),
    ({"delayDistribution": {"type": "lognormal", "median": 100}}, "takes median and sigma"),
    ({"delayDistribution": {"type": "pareto"}}, '{"type": "uniform"'),
    ({"fixedDelayMilliseconds": 1, "delayDistribution": {"type": "lognormal", "median": 1, "sigma": 1}},
     "not both"),
    ({"fault": "EXPLODE"}, "fault 'EXPLODE' is not one of CONNECTION_RESET_BY_PEER"),
    ({"operation": "getEvent", "status": 503}, "getEvent documents no 503 answer (it documents 200, 400"),
    ({"status": 200}, "an error status (400-599)"),
    ({"status": 418}, "no operation of namak documents 418"),
    ({"status": 500, "fault": "EMPTY_RESPONSE"}, "status or fault, not both"),
    ({"status": 500, "probability": 1.5}, "probability 1.5: a number from 0 to 1"),
    ({"fixedDelayMilliseconds": 5, "probability": 0.5}, "give one of them"),
    ({"status": 500, "seed": "x"}, "seed 'x': a whole number"),
    ({"delay": 5}, "unknown field delay (fields: operation, fixedDelayMilliseconds"),
    ({}, "a rule needs fixedDelayMilliseconds, delayDistribution, status or fault"),
    ([1], "a rule is a JSON object"),
])
def test_a_bad_rule_is_a_400_naming_what_was_wrong(client, rule, named):
    answer = client.post("/__admin/faults", json=rule)
    assert answer.status_code == 400
    assert named in answer.json()["error"]
    assert client.get("/__admin/faults").json()["faults"] == []


def test_a_body_that_is_not_json_is_a_400(client):
    answer = client.post("/__admin/faults", content=b"{delay", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and "not JSON" in answer.json()["error"]
    assert client.put("/__admin/faults", json={}).status_code == 405


def test_under_another_asgi_server_a_fault_cuts_the_answer_off_mid_body():
    """No uvicorn transport behind `send` (httpx's in-process ASGI transport): the answer starts, then the
    app fails, which every server turns into a broken connection."""
    async def call():
        transport = httpx.ASGITransport(app=create_app(SLUG))
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as http:
            return await http.get("/v1/events", headers={**HEADERS, "Prefer": "fault=EMPTY_RESPONSE"})

    with pytest.raises(ConnectionAbortedError, match="EMPTY_RESPONSE"):
        asyncio.run(call())


def test_a_fault_reaches_the_connection_through_a_cors_middleware_in_front():
    """Starlette's CORSMiddleware wraps `send` in a partial: the fault still resets the connection."""
    with running(SLUG, wrap=lambda app: CORSMiddleware(app, allow_origins=["*"])) as server, \
            httpx.Client(base_url=server.root, headers={**HEADERS, "Origin": "http://localhost:3000"}) as http:
        with pytest.raises(httpx.ReadError, match="reset by peer"):
            http.get("/v1/events", headers={"Prefer": "fault=CONNECTION_RESET_BY_PEER"})
        assert http.get("/v1/events").headers["access-control-allow-origin"] == "*"
