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
JSON = {"Content-Type": "application/json"}  # what the admin guard asks of a DELETE
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


def both(redis_url: str, prefix: str, *extra: str) -> list[ServedProcess]:
    """Two `mockserver serve` runs on one Redis and prefix, started."""
    first = serve(redis_url, prefix, *extra).start()
    try:
        return [first, serve(redis_url, prefix, *extra).start()]
    except BaseException:
        first.stop()
        raise


def test_a_rate_limit_of_n_passes_exactly_n_across_two_processes(redis_server, redis_prefix):
    processes = both(redis_server.url, redis_prefix, "--rate-limit", "7", "--rate-limit-window", "3600")
    try:
        roots = [p.roots["amarevents"] for p in processes]

        def get(n):
            return httpx.get(roots[n % 2] + "/api/auth/me", headers=ADMIN, timeout=30)
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(get, range(16)))             # at once, alternating between the two
        statuses = [a.status_code for a in answers]
        assert (statuses.count(200), statuses.count(429)) == (7, 9), statuses
        admitted = sorted(int(a.headers["X-RateLimit-Remaining"]) for a in answers if a.status_code == 200)
        assert admitted == [0, 1, 2, 3, 4, 5, 6]                 # each counted once, in one window
        refused = [a for a in answers if a.status_code == 429]
        assert all(a.headers["X-RateLimit-Remaining"] == "0" and a.headers["X-RateLimit-Limit"] == "7"
                   and 3500 < int(a.headers["Retry-After"]) <= 3600 for a in refused), refused[0].headers
        assert "7 requests per hour" in refused[0].json()["error"]
        other = httpx.get(roots[1] + "/api/auth/me", headers=ORGANIZER, timeout=10)   # another key: its own
        assert other.status_code == 200 and other.headers["X-RateLimit-Remaining"] == "6"
        httpx.post(roots[1] + "/__admin/reset", json={}, timeout=10).raise_for_status()  # one reset, both
        assert httpx.get(roots[0] + "/api/auth/me", headers=ADMIN, timeout=10).status_code == 200
    finally:
        for process in processes:
            process.stop()


def test_journal_and_fault_rules_are_one_for_both_processes(redis_server, redis_prefix):
    processes = both(redis_server.url, redis_prefix)
    try:
        httpx.get(processes[1].roots["amarevents"] + "/api/events", timeout=10)  # to be cleared below
        first, second = (httpx.Client(base_url=p.roots["amarevents"], timeout=10) for p in processes)
        first.delete("/__admin/requests", headers=JSON).raise_for_status()  # either clears the one journal
        first.get("/api/events", params={"page": 1})
        second.get("/api/auth/me", headers=ADMIN)
        first.get("/api/nowhere")
        for client in (first, second):                               # either shows every process's traffic
            journal = client.get("/__admin/requests").json()["requests"]
            assert [(e["path"], e["status"], e["operation"]) for e in journal] == [
                ("/api/events", 200, "listEvents"), ("/api/auth/me", 200, "getAuthMe"), ("/api/nowhere", 404, None)]
            assert journal[1]["response_body"]["success"] is True and journal[2]["near_misses"]
            assert journal[0]["query"] == "page=1"

        rule = {"operation": "listEvents", "status": 500}
        assert first.post("/__admin/faults", json=rule).status_code == 201   # set through one
        assert second.get("/__admin/faults").json()["faults"] == [rule]
        injected = second.get("/api/events")                                 # holds on the other
        assert injected.status_code == 500, injected.text
        assert first.get("/__admin/requests").json()["requests"][-1]["why"].startswith("Injected 500 (a /__admin")
        assert second.get("/api/auth/me", headers=ADMIN).status_code == 200  # its operation only
        first.post("/__admin/faults", json={"operation": "getAuthMe", "fault": "EMPTY_RESPONSE"}).raise_for_status()
        with pytest.raises(httpx.RemoteProtocolError):
            second.get("/api/auth/me", headers=ADMIN)
        assert second.delete("/__admin/faults", params={"operation": "listEvents"}, headers=JSON).json()["cleared"] == 1
        assert first.get("/api/events").status_code == 200                   # cleared through the other
        second.post("/__admin/reset", json={}).raise_for_status()            # reset clears rules and journal
        assert first.get("/__admin/faults").json()["faults"] == []
        assert first.get("/api/auth/me", headers=ADMIN).status_code == 200
        assert [e["path"] for e in first.get("/__admin/requests").json()["requests"]] == ["/api/auth/me"]
    finally:
        for process in processes:
            process.stop()
