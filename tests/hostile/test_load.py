"""Load: 64 concurrent clients mixing writes and reads lose nothing, and rate limits hold exactly."""

from __future__ import annotations

import concurrent.futures
import random

import httpx

from mockserver.app import Settings
from mockserver.testing import running

CLIENTS = 64
BEARER = {"Authorization": "Bearer YOUR_API_KEY"}
EVENT = {"name": "Load", "location": {"city": "Oslo"}, "startDate": "2026-06-15T09:00:00Z",
         "endDate": "2026-06-16T09:00:00Z", "capacity": 10, "category": "meetup"}


def test_64_clients_mixing_writes_lose_nothing():
    with running("ecoevents", settings=Settings(validate_responses=True)) as server:
        seeded = httpx.get(server.base_url + "/events", headers=BEARER).json()["pagination"]["total"]

        def client(n: int) -> dict:
            rng = random.Random(n)
            mine: dict[str, int] = {}      # id -> the capacity last written
            deleted, statuses = set(), []
            with httpx.Client(base_url=server.base_url, headers=BEARER, timeout=30) as http:
                for step in range(12):
                    action = rng.choice(["create", "create", "update", "read", "delete"]) if mine else "create"
                    if action == "create":
                        r = http.post("/events", json={**EVENT, "name": f"c{n}-{step}", "capacity": step + 1})
                        mine[r.json()["id"]] = step + 1
                    elif action == "update":
                        key = rng.choice(sorted(mine))
                        r = http.put(f"/events/{key}", json={"capacity": 100 + step})
                        mine[key] = 100 + step
                    elif action == "read":
                        key = rng.choice(sorted(mine))
                        r = http.get(f"/events/{key}")
                        assert r.json()["capacity"] == mine[key]
                    else:
                        key = rng.choice(sorted(mine))
                        r = http.delete(f"/events/{key}")
                        deleted.add(key)
                        del mine[key]
                    statuses.append(r.status_code)
            return {"alive": mine, "deleted": deleted, "statuses": statuses}

        with concurrent.futures.ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            outcomes = list(pool.map(client, range(CLIENTS)))

        statuses = [s for o in outcomes for s in o["statuses"]]
        assert all(s < 500 for s in statuses) and set(statuses) <= {200, 201}
        alive = {k: v for o in outcomes for k, v in o["alive"].items()}
        deleted = set().union(*(o["deleted"] for o in outcomes))
        with httpx.Client(base_url=server.base_url, headers=BEARER, timeout=30) as http:
            total = http.get("/events").json()["pagination"]["total"]
            assert total == seeded + len(alive)   # created minus deleted, nothing lost or doubled
            for key, capacity in alive.items():
                assert http.get(f"/events/{key}").json()["capacity"] == capacity
            for key in deleted:
                assert http.get(f"/events/{key}").status_code == 404


def test_rate_limit_holds_exactly_under_concurrency():
    limit = 50
    settings = Settings(validate_responses=True, rate_limits={"limit": limit}, rate_limit_window=300)
    with running("namak", settings=settings) as server:
        def burst(_):
            with httpx.Client(base_url=server.base_url, headers=BEARER, timeout=30) as http:
                return [http.get("/events").status_code for _ in range(3)]

        with concurrent.futures.ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            statuses = [s for group in pool.map(burst, range(CLIENTS)) for s in group]
    assert statuses.count(200) == limit
    assert statuses.count(429) == CLIENTS * 3 - limit
