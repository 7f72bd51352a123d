"""What the benchmarks ask of each API: a read by id, a paged list with a filter, a create."""

from __future__ import annotations

import copy
import dataclasses
import itertools


@dataclasses.dataclass(frozen=True)
class Workload:
    collection: str
    read_path: str                     # a concrete read by id
    read_route: str                    # the same as a Starlette route (for the ceiling app)
    list_path: str
    list_query: str                    # a paged list with a filter
    filter_param: str
    filter_field: str
    size_param: str
    headers: dict
    create_body: dict | None = None    # None: the API creates nothing; "{n}" in a value: a number per request
    create_headers: dict | None = None
    create_path: str | None = None     # None: the list path
    int_ids: bool = False
    post_reads: bool = False           # Eventify reads with POST bodies
    read_body: dict | None = None
    list_body: dict | None = None


BEARER = {"Authorization": "Bearer YOUR_API_KEY"}
EVENTIFY_AUTH = {"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", "username": "john_doe"}

WORKLOADS = {
    "namak": Workload(
        "events", "/v1/events/evt_123", "/v1/events/{key}", "/v1/events", "status=active&limit=20",
        "status", "status", "limit", BEARER,
        create_body={"title": "Bench", "date": "2024-07-15T09:00:00Z", "location": {"venue": "Hall"}}),
    "amarevents": Workload(
        "events", "/api/events/10", "/api/events/{key}", "/api/events", "category=Conference&limit=20",
        "category", "category", "limit", {}, int_ids=True,
        create_body={"name": "Bench", "organization_id": 3},
        create_headers={"Authorization": "Bearer ae_o_demo"}),
    "tickets": Workload(
        "events", "/api/events/166a1ddb-492c-49a0-a84c-2465b9b43f01/", "/api/events/{key}/",
        "/api/products/", "event=166a1ddb-492c-49a0-a84c-2465b9b43f01&page_size=20", "event", "event",
        "page_size", {"Authorization": "Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"}),
    "ecoevents": Workload(
        "events", "/api/events/evt_1a2b3c4d5e6f", "/api/events/{key}", "/api/events",
        "status=published&limit=20", "status", "status", "limit", BEARER,
        create_body={"name": "Bench", "location": {"city": "Oslo"}, "startDate": "2026-06-15T09:00:00Z",
                     "endDate": "2026-06-16T09:00:00Z", "capacity": 10, "category": "meetup"}),
    "eventify": Workload(
        "events", "/api/events/event-details/", "/api/events/event-details/", "/api/events/pincode-events/",
        "", "pincode", "pincode", "limit", {}, int_ids=True, post_reads=True,
        read_body={**EVENTIFY_AUTH, "event_id": 1}, list_body={**EVENTIFY_AUTH, "pincode": "560001"},
        # its one create: registering a user, whose email and phone number must be new each time
        create_path="/api/user/register/",
        create_body={"email": "bench{n}@example.com", "phone_number": "+1555{n}", "password": "benchpass123"}),
}


def seeded_fixtures(slug: str, fixtures: dict, records: int) -> dict:
    """The API's fixtures with its benchmark collection grown to `records` records."""
    work = WORKLOADS[slug]
    out = copy.deepcopy(fixtures)
    seeds = out["collections"][work.collection]
    grown = list(seeds)
    for n, template in zip(range(len(seeds), records), itertools.cycle(seeds), strict=False):
        record = dict(template)
        record["id"] = _id_like(template["id"], n)
        grown.append(record)
    out["collections"][work.collection] = grown[:records]
    return out


def _id_like(example, n: int):
    if isinstance(example, int):
        return 100_000 + n
    text = str(example)
    if len(text) == 36 and text.count("-") == 4:  # a uuid
        return f"00000000-0000-4000-8000-{n:012d}"
    prefix = text.split("_", 1)[0] + "_" if "_" in text else ""
    width = max(len(text) - len(prefix), 6)
    return f"{prefix}{n:0{width}x}" if prefix == "evt_" and width == 12 else f"{prefix}b{n}"
