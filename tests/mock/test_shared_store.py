"""One mock's state in Redis, shared by several processes (`--workers 2`, or two `mockserver serve`
runs on one Redis): Amar's rules hold across them (capacity never oversold, an email registered
once, no write lost), a record made through one reads back through the other, a Redis outage is a
503 in Amar's own body and passes, and a restart keeps the data."""

from __future__ import annotations

import concurrent.futures

import httpx
import pytest

from apispec.model import contract
from mockserver.testing import ServedProcess
from tests.conftest import RedisServer

ADMIN = {"Authorization": "Bearer ae_a_demo"}
ORGANIZER = {"Authorization": "Bearer ae_o_demo"}
SPEC = contract("amarevents")


def serve(redis_url: str, prefix: str, *extra: str) -> ServedProcess:
    return ServedProcess("amarevents", "--port", "0", "--quiet", "--rate-limit", "100000",
                         "--store", redis_url, "--store-prefix", prefix, *extra)


def data(response, status=200):
    assert response.status_code == status, response.text
    return response.json()["data"]


def example(operation_id):
    return SPEC.operations[operation_id].spec["requestBody"]["content"]["application/json"]["example"]


@pytest.mark.parametrize("topology", ["two workers", "two processes"])
def test_64_clients_over_two_processes_oversell_nothing_and_lose_nothing(redis_server, redis_prefix, topology):
    if topology == "two workers":
        processes = [serve(redis_server.url, redis_prefix, "--workers", "2")]
    else:
        processes = [serve(redis_server.url, redis_prefix), serve(redis_server.url, redis_prefix)]
    with processes[0]:
        if len(processes) > 1:
            processes[1].start()
        try:
            roots = [p.roots["amarevents"] for p in processes]

            def jobs():  # (n, the root it goes to): the 64 clients alternate between the processes
                return [(n, roots[n % len(roots)]) for n in range(64)]
            first = httpx.Client(base_url=roots[0], timeout=20)
            last = httpx.Client(base_url=roots[-1], timeout=20)
            ticket_type = data(first.post("/api/ticket-types", headers=ORGANIZER,
                                          json={"event_id": 12, "name": "Limited", "capacity": 10}), 201)
            listed = data(last.get("/api/ticket-types", params={"event_id": 12}))
            assert ticket_type["id"] in {t["id"] for t in listed}                       # read back

            def buy(job):
                n, root = job
                return httpx.post(root + "/api/tickets", headers=ADMIN, timeout=30,
                                  json={"event_id": 12, "ticket_type_id": ticket_type["id"], "name": f"Runner {n}",
                                        "email": f"r{n}@email.com"}).status_code

            def register(job):
                n, root = job
                return httpx.post(root + "/api/auth/register", timeout=30,
                                  json={**example("registerUser"), "username": f"john{n}"}).status_code

            def donate(job):
                n, root = job
                return data(httpx.post(root + "/api/donations", timeout=30,
                                       json={**example("createDonation"), "transaction_id": f"TX{n:05d}"}), 201)["id"]

            with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
                bought = list(pool.map(buy, jobs()))
                registered = list(pool.map(register, jobs()))
                donated = list(pool.map(donate, jobs()))
            assert (bought.count(201), bought.count(409)) == (10, 54), bought
            assert (registered.count(201), registered.count(409)) == (1, 63), registered
            assert len(set(donated)) == 64
            for client in (first, last):
                listed = {t["id"]: t for t in data(client.get("/api/ticket-types", params={"event_id": 12}))}
                assert (listed[ticket_type["id"]]["sold"], listed[ticket_type["id"]]["available"]) == (10, 0)
                donations = data(client.get("/api/admin/donations", headers=ADMIN))
                assert {d["id"] for d in donations} >= set(donated) and len(donations) == 4 + 64
        finally:
            for process in processes[1:]:
                process.stop()


def test_a_restart_on_the_same_redis_keeps_the_data_and_reset_store_drops_it(redis_server, redis_prefix):
    with serve(redis_server.url, redis_prefix) as process:
        made = data(httpx.post(process.roots["amarevents"] + "/api/donations", timeout=10,
                               json={**example("createDonation"), "transaction_id": "TXKEPT"}), 201)
    with serve(redis_server.url, redis_prefix) as process:
        kept = httpx.get(process.roots["amarevents"] + "/api/admin/donations", headers=ADMIN, timeout=10)
        assert "TXKEPT" in {d["transaction_id"] for d in data(kept) if d["id"] == made["id"]}
    with serve(redis_server.url, redis_prefix, "--reset-store") as process:
        gone = httpx.get(process.roots["amarevents"] + "/api/admin/donations", headers=ADMIN, timeout=10)
        assert made["id"] not in {d["id"] for d in data(gone)} and len(data(gone)) == 4


def test_redis_stopped_mid_run_is_a_503_in_the_api_s_body_and_passes():
    redis = RedisServer()
    redis.start()
    try:
        with serve(redis.url, "outage") as process, \
                httpx.Client(base_url=process.roots["amarevents"], timeout=30) as client:
            assert client.get("/api/events").status_code == 200
            redis.stop()
            for response in (client.get("/api/events"), client.get("/api/auth/me", headers=ADMIN),
                             client.post("/api/donations", json=example("createDonation"))):
                assert response.status_code == 503, response.text
                body = response.json()
                assert body["success"] is False and "Redis" in body["error"], body
            redis.start()
            assert client.get("/api/events").status_code == 200               # back, nothing restarted
            client.post("/__admin/reset", json={}).raise_for_status()        # no persistence: refilled
            assert len(data(client.get("/api/events"))) > 0
    finally:
        redis.stop()


@pytest.mark.parametrize("args, words", [(("--workers", "2"), ("--workers 2 needs a shared store", "--store")),
                                         (("--store", "http://x"), ("not a Redis URL",))])
def test_workers_without_a_shared_store_are_refused_in_one_line(args, words):
    process = ServedProcess("amarevents", "--port", "0", *args).launch()
    assert process.finish() == 2
    assert len(process.stderr) == 1 and all(word in process.stderr[0] for word in words), process.stderr
