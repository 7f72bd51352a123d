"""The fast path answers exactly as the Connexion path does.

Each API is served twice in process, fast path on and off, with response validation on; the
same requests (reads, and writes with JSON bodies: good, bad, malformed, of other content
types) go to both, in the same order, and must get the same status, body and headers. Random
ids and tokens come from one seeded id source per server (`Settings.ids`), and time from one fixed
clock (`Settings.clock`), so both servers draw the same ones.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json

import httpx
import pytest

from apispec import ext
from apispec.model import contract
from mockserver import resources
from mockserver.app import Settings, create_app
from mockserver.sources import FixedClock, Ids

JSON = {"Content-Type": "application/json"}
NAMAK = {"Authorization": "Bearer YOUR_API_KEY"}
ECO = {"Authorization": "Bearer YOUR_API_KEY"}
TICKETS = {"Authorization": "Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"}
ADMIN, ORGANIZER, USER = ({"Authorization": f"Bearer ae_{k}_demo"} for k in "aou")

# (path, headers, served by the fast path?)
REQUESTS = {
    "namak": [
        ("/v1/events/evt_123", NAMAK, True),
        ("/v1/events", NAMAK, True),
        ("/v1/events?status=active&limit=1&page=2", NAMAK, True),
        ("/v1/events?limit=1&limit=2", NAMAK, True),           # a repeated parameter: the last counts
        ("/v1/events?limit=abc", NAMAK, True),                 # a bad query value: 400 naming it
        ("/v1/events?limit=0", NAMAK, True),                   # below its minimum
        ("/v1/events?status=nonsense", NAMAK, True),
        ("/v1/events?unknown=1", NAMAK, True),
        ("/v1/events/evt_nope", NAMAK, True),                  # 404 in the API's body
        ("/v1/bookings?event_id=evt_123", NAMAK, True),
        ("/v1/events", {}, True),                              # no credentials
        ("/v1/events", {"Authorization": "Bearer wrong"}, True),
        ("/v1/events", {"Authorization": "Bearer"}, True),     # malformed header
        ("/v1/events", {"Authorization": "Basic abc"}, True),
        ("/v1/events/evt_123", {**NAMAK, "Content-Type": "application/json"}, False),
        ("/v1/nowhere", NAMAK, False),
        ("/v1/events/evt_123/", NAMAK, False),
    ],
    "ecoevents": [
        ("/api/events/evt_1a2b3c4d5e6f", ECO, True),
        ("/api/events?status=published&limit=2", ECO, True),
        ("/api/events?limit=-1", ECO, True),
        ("/api/events?page=x", ECO, True),
        ("/api/events/evt_000000000000", ECO, True),
        ("/api/events", {"Authorization": "Bearer nope"}, True),
        ("/api/events", {}, True),
    ],
    "tickets": [
        ("/api/events/", TICKETS, True),
        ("/api/events/166a1ddb-492c-49a0-a84c-2465b9b43f01/", TICKETS, True),
        ("/api/products/?event=166a1ddb-492c-49a0-a84c-2465b9b43f01&page_size=1", TICKETS, True),  # Link header
        ("/api/products/?page_size=1&page=2", TICKETS, True),
        ("/api/products/?page=999", TICKETS, True),            # past the last page
        ("/api/products/?page_size=nope", TICKETS, True),
        ("/api/events/00000000-0000-0000-0000-000000000000/", TICKETS, True),
        ("/api/payment_methods/", TICKETS, True),
        ("/api/events/", {}, True),                            # 401 with WWW-Authenticate: Token
        ("/api/events/", {"Authorization": "Token wrong"}, True),
        ("/api/events/", {"Authorization": "Bearer 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"}, True),
        ("/api/events", TICKETS, False),                       # slashless: redirected
    ],
    "amarevents": [
        ("/api/events", USER, True),
        ("/api/events?category=Conference&limit=2&page=1", USER, True),
        ("/api/events/10", USER, True),
        ("/api/events/abc", USER, True),                       # a typed path parameter: 400
        ("/api/events/99999", USER, True),
        ("/api/events/10/stats", USER, True),                  # 403: organizer or admin keys only
        ("/api/events/10/stats", ORGANIZER, True),
        ("/api/admin/stats", ORGANIZER, True),                 # 403 by key type
        ("/api/admin/stats", ADMIN, True),
        ("/api/admin/users?type=nobody", ADMIN, True),
        ("/api/users/me", USER, True),
        ("/api/users/me/tickets", ORGANIZER, True),
        ("/api/auth/me", {"Cookie": "session=nope"}, True),
        ("/api/auth/me", {}, True),
        ("/api/tickets", {"Authorization": "Bearer ae_u_unknown"}, True),
        ("/api/organizations?limit=1", ORGANIZER, True),
        ("/api/ticket-types?event_id=10", USER, True),
    ],
    "eventify": [
        ("/api/events/event-details/", {}, False),             # a POST operation: Connexion's 405
        ("POST", "/api/events/event-details/", JSON, json.dumps({"token": "nope", "username": "john_doe",
                                                                 "event_id": 1}), True),  # the 401 body
    ],
}


# the id each API's `{id}` paths are filled with in the sweep below
SWEEP_IDS = {"namak": "evt_123", "ecoevents": "evt_1a2b3c4d5e6f", "amarevents": "10", "tickets": "x",
             "eventify": "x"}
SWEEP_HEADERS = {"namak": NAMAK, "ecoevents": ECO, "amarevents": ADMIN, "tickets": TICKETS, "eventify": {}}
def _example(op) -> object:
    media = op.spec["requestBody"]["content"]["application/json"]
    if "example" in media:
        return media["example"]
    if media.get("examples"):
        return next(iter(media["examples"].values()))["value"]
    return media.get("schema", {}).get("example", {})


def _sweep(slug: str) -> list[tuple]:
    """Every operation that takes a body, with its documented example and with bodies it must
    refuse; then every operation without one. Revoking operations go last."""
    spec = contract(slug)
    headers = SWEEP_HEADERS[slug]
    first, last = [], []
    for op in spec.operations.values():
        path = op.path.replace("{id}", SWEEP_IDS[slug])
        queue = last if ext.credentials.revokes(op) or op.method.lower() == "delete" else first
        method = op.method.upper()
        if not op.spec.get("requestBody"):
            if method != "GET":
                queue.append((method, path, headers, None, True))
            continue
        example = _example(op)
        wrong = {name: [] for name in (example or {})} if isinstance(example, dict) else {"x": 1}
        for body, sent, fast in [
            (example, JSON, True),
            (wrong, JSON, True),                                   # every field of the wrong type
            ({}, JSON, True),
            ([1, 2], JSON, True),
            ("{not json", JSON, True),                             # malformed: sent as it is
            ('{"a": ' * 300 + "1" + "}" * 300, JSON, True),       # nested deeper than validation goes
            (example, {"Content-Type": "application/json; charset=utf-8"}, True),
            (example, {"Content-Type": "text/plain"}, False),      # Connexion's 415, said as a 400
            (example, {}, False),                                  # no Content-Type
        ]:
            content = body if isinstance(body, str) else json.dumps(body)
            queue.append((method, path, {**headers, **sent}, content, fast))
    return first + last


async def _answers(slug: str, settings_for, requests):
    """[(fast answers), (Connexion answers)] for the same requests, sent in order."""
    out = []
    for fast in (True, False):
        # ids and tokens from one seeded source, the same draws for both servers; one instant for both
        # (timestamps to the second would differ across a tick)
        settings = dataclasses.replace(settings_for(fast), ids=Ids.seeded(7), clock=FixedClock())
        app = create_app(slug, settings=settings)
        if app.mock.rate_window is not None:  # the same clock for both servers
            app.mock.rate_window.clock = app.mock.rate_window.wallclock = lambda: 1_000_000.0
        seen = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://mock") as http:
            for request in requests:
                method, path, headers, content, served_fast = (request if len(request) == 5
                                                               else ("GET", request[0], request[1], None, request[2]))
                if fast:
                    scope = _scope(method, path, headers, content)
                    assert (app.fast.route(scope) is not None) == served_fast, (method, path, headers)
                response = await http.request(method, path, headers=headers, content=content)
                kept = sorted((k, v) for k, v in response.headers.items() if k not in ("date", "server"))
                seen.append((method, path, content, response.status_code, response.content, kept))
        out.append(seen)
    return out


def _scope(method: str, path: str, headers: dict, content) -> dict:
    raw_path, _, query = path.partition("?")
    sent = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if content is not None:
        sent.append((b"content-length", str(len(content.encode())).encode()))
    return {"type": "http", "method": method, "path": raw_path, "query_string": query.encode(), "root_path": "",
            "headers": sent}


@pytest.mark.parametrize("slug", sorted(REQUESTS))
def test_fast_path_answers_as_connexion_does(slug):
    requests = REQUESTS[slug] + _sweep(slug)
    fast, slow = asyncio.run(_answers(slug, lambda on: Settings(validate_responses=True, fast_path=on), requests))
    for a, b in zip(fast, slow, strict=True):
        assert a == b
    statuses = {answer[3] for answer in fast}
    assert any(200 <= s < 300 for s in statuses) and 400 in statuses, statuses  # the sweep reached both


@pytest.mark.parametrize("slug, headers, path", [
    ("namak", NAMAK, "/v1/events/evt_123"),
    ("amarevents", USER, "/api/users/me"),
])
def test_rate_limited_answers_match(slug, headers, path):
    requests = [(path, headers, True)] * 4 + [(path + "?other=1", headers, True)]
    fast, slow = asyncio.run(_answers(slug, lambda on: Settings(validate_responses=True, fast_path=on,
                                                                rate_limits={"limit": 2}), requests))
    assert [a[3] for a in fast] == [200, 200, 429, 429, 429]
    assert fast == slow


def test_non_conforming_response_is_a_500_either_way(monkeypatch):
    """Response validation runs on the fast path too: a body off its schema is the API's 500."""

    real = resources.Resources.read

    def broken(self, operation, params):
        body, status = real(self, operation, params)
        return {**body, "title": 42}, status

    monkeypatch.setattr(resources.Resources, "read", broken)
    fast, slow = asyncio.run(_answers("namak", lambda on: Settings(validate_responses=True, fast_path=on),
                                      [("/v1/events/evt_123", NAMAK, True)]))
    assert fast[0][3] == 500
    assert fast == slow
