"""Limits on every input (issue 13), over real HTTP to the mock served by uvicorn on loopback: each
limit answers in the API's own error body, and a flood of it leaves an ordinary request answered
within a generous bound and every earlier record intact.

Settings (or the `mockserver serve` flags, `test_serve_flags_set_the_limits`) make the limits small
here so that a flood is cheap."""

from __future__ import annotations

import concurrent.futures
import json
import socket
import threading
import time

import httpx
import pytest
from starlette.datastructures import ImmutableMultiDict

from mockserver.app import Settings
from mockserver.testing import ServedProcess, running

from .test_hostile_input import TARGETS, assert_api_error

BEARER = {"Authorization": "Bearer YOUR_API_KEY"}
PROMPTLY = 5.0  # seconds: a generous bound for "still answered", not a speed measurement
EVENT = {"title": "Kept", "date": "2026-07-15T09:00:00Z", "location": {"venue": "Hall A"}}


def raw(port: int, pieces, pause: float = 0.0, timeout: float = 10) -> bytes:
    """Send `pieces` on one connection, then read until the server closes it (b"" if it never
    answers within `timeout`: the read times out)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        try:
            for piece in pieces:
                conn.sendall(piece)
                if pause:
                    time.sleep(pause)
        except OSError:
            pass  # the server refused before the client finished: its answer is read below
        out = b""
        try:
            while chunk := conn.recv(65536):
                out += chunk
        except TimeoutError:
            return b"TIMED OUT " + out
        except OSError:
            pass
        return out


def status_and_body(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


def assert_error_body(slug: str, status: int, body: dict, *words: str):
    """`body` is the API's own error body (its x-error-body for the status) and names `words`."""
    from apispec.model import contract
    from contract_tests.rules.errors import shape_errors

    assert shape_errors(contract(slug).error_template(status), body) == [], body
    for word in words:
        assert word in json.dumps(body), (word, body)


class Kept:
    """A record created before a flood, and the journal's entries then: both must survive it."""

    def __init__(self, server):
        self.server = server
        created = httpx.post(server.base_url + "/events", json=EVENT, headers=BEARER, timeout=10)
        assert created.status_code == 201, created.text
        self.record = created.json()
        self.journal = httpx.get(server.root + "/__admin/requests", timeout=10).json()["requests"]

    def still_served(self):
        started = time.monotonic()
        answer = httpx.get(f"{self.server.base_url}/events/{self.record['id']}", headers=BEARER, timeout=PROMPTLY)
        assert time.monotonic() - started < PROMPTLY
        assert answer.status_code == 200 and answer.json() == self.record
        journal = httpx.get(self.server.root + "/__admin/requests", timeout=PROMPTLY).json()["requests"]
        assert journal[:len(self.journal)] == self.journal


@pytest.fixture(scope="module")
def namak():
    settings = Settings(validate_responses=True, max_body_bytes=64 * 1024, max_query_params=100,
                        max_header_bytes=16 * 1024, header_timeout=2, body_timeout=2, rate_limits={"limit": 10**9})
    with running("namak", settings=settings) as server:
        yield server


# ---- bodies: 413 ------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=TARGETS, ids=lambda t: t.slug)
def each_api(request):
    with running(request.param.slug, settings=Settings(validate_responses=True)) as server:
        yield request.param, server


def test_a_body_over_the_limit_is_413_in_each_apis_body(each_api):
    target, server = each_api
    big = b'{"name": "' + b"x" * (1 << 20) + b'"}'  # default limit: 1 MiB
    answer = httpx.post(server.root + target.post_path, content=big, timeout=30,
                        headers={**target.headers, "Content-Type": "application/json"})
    assert answer.status_code == 413
    assert_api_error(target, answer)
    assert "1048576" in answer.text
    entry = httpx.get(server.root + "/__admin/requests", timeout=10).json()["requests"][-1]
    assert entry["status"] == 413 and entry["request_body"] is None  # refused unread


def test_a_stated_length_over_the_limit_is_refused_before_the_body_is_sent(namak):
    # only the head is sent: the answer comes without waiting for the 10 MB it announces
    answer = raw(namak.port, [b"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer YOUR_API_KEY\r\n"
                              b"Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{"], timeout=5)
    status, body = status_and_body(answer.split(b"TIMED OUT ")[-1])
    assert status == 413
    assert_error_body("namak", 413, body, "65536")


def test_a_chunked_body_is_cut_off_at_the_limit(namak):
    # a chunked body never ends here: the server answers and closes once it has seen more than the limit
    head = (b"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer YOUR_API_KEY\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"4000\r\n" + b" " * 0x4000 + b"\r\n"
    answer = raw(namak.port, [head, *[chunk] * 64], timeout=10)  # 1 MiB offered, 64 KiB allowed
    assert not answer.startswith(b"TIMED OUT"), "the connection was not cut off"
    assert answer.startswith(b"HTTP/1.1 4")


def test_a_flood_of_large_bodies_leaves_the_mock_serving(namak):
    kept = Kept(namak)
    big = b'{"title": "' + b"x" * (4 << 20) + b'"}'

    def send(_):
        return httpx.post(namak.base_url + "/events", content=big, timeout=60,
                          headers={**BEARER, "Content-Type": "application/json"}).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert set(pool.map(send, range(16))) == {413}
    kept.still_served()


# ---- query parameters: 400 ---------------------------------------------------------------------------

def test_too_many_query_parameters_are_400_naming_the_limit(each_api):
    target, server = each_api
    query = "&".join(f"p{i}=1" for i in range(101))
    answer = httpx.get(server.root + target.read_path.format(id="x") + "?" + query, headers=target.headers,
                       timeout=30)
    assert answer.status_code == 400
    assert_api_error(target, answer)
    assert "Too many query parameters: 101 (at most 100)" in answer.text


def test_the_limit_itself_is_served(namak):
    query = "&".join(f"p{i}=1" for i in range(99)) + "&status=draft"
    answer = httpx.get(namak.base_url + "/events?" + query, headers=BEARER, timeout=10)
    assert answer.status_code == 200
    assert all(event["status"] == "draft" for event in answer.json()["data"])


def test_query_values_are_gathered_in_one_pass(monkeypatch):
    # Connexion gathered each key's values with getlist, a scan of every parameter per key
    def scan(self, key):
        raise AssertionError("getlist walks every parameter for each key")

    monkeypatch.setattr(ImmutableMultiDict, "getlist", scan)
    with running("namak", settings=Settings(max_query_params=20_000)) as server:
        query = "&".join(f"p{i}=1" for i in range(8000)) + "&status=draft&status=active"
        answer = httpx.get(server.base_url + "/events?" + query, headers=BEARER, timeout=30)
        assert answer.status_code == 200, answer.text  # the last of a repeated scalar wins, as before
        assert {event["status"] for event in answer.json()["data"]} == {"active"}


def test_a_flood_of_query_parameters_leaves_the_mock_serving(namak):
    kept = Kept(namak)
    query = "&".join(f"p{i}=1" for i in range(8000))
    public = httpx.Client(timeout=30)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = set(pool.map(lambda _: public.get(namak.base_url + "/events?" + query).status_code, range(32)))
    assert statuses == {400}
    kept.still_served()


# ---- headers: 431, duplicates, Host -----------------------------------------------------------------

def test_headers_over_the_limit_are_431_in_the_apis_body(namak):
    head = b"GET /v1/events HTTP/1.1\r\nHost: x\r\nX-Big: "
    answer = raw(namak.port, [head, *[b"a" * 8192] * 64], pause=0.01)  # 512 KiB offered, 16 KiB allowed
    status, body = status_and_body(answer)
    assert status == 431
    assert_error_body("namak", 431, body, "16384")


def test_headers_over_the_limit_after_a_kept_alive_request_are_431(namak):
    first = b"GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer YOUR_API_KEY\r\n\r\n"
    answer = raw(namak.port, [first, b"GET /v1/events HTTP/1.1\r\nHost: x\r\nX-Big: ", *[b"a" * 8192] * 8],
                 pause=0.05)
    assert answer.startswith(b"HTTP/1.1 200")
    assert b"HTTP/1.1 431 " in answer


def test_a_flood_of_huge_headers_leaves_the_mock_serving(namak):
    kept = Kept(namak)
    head = b"GET /v1/events HTTP/1.1\r\nHost: x\r\nX-Big: "

    def flood(_):  # twelve 16 MB headers offered at once; each is cut after the limit
        return raw(namak.port, [head, *[b"a" * 65536] * 256])

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(flood, range(12)))
    assert all(answer.startswith(b"HTTP/1.1 431") for answer in answers), [a[:40] for a in answers]
    kept.still_served()


def test_two_authorization_headers_are_400(each_api):
    target, server = each_api
    headers = [("Authorization", "Bearer YOUR_API_KEY"), ("Authorization", "Bearer somebody-else")]
    answer = httpx.get(server.root + target.read_path.format(id="x"), headers=headers, timeout=10)
    assert answer.status_code == 400
    assert_api_error(target, answer)
    assert "Authorization header sent 2 times" in answer.text


def test_http_1_1_without_host_is_400_in_the_apis_body(namak):
    answer = raw(namak.port, [b"GET /v1/events HTTP/1.1\r\nAuthorization: Bearer YOUR_API_KEY\r\n"
                              b"Connection: close\r\n\r\n"])
    status, body = status_and_body(answer)
    assert status == 400
    assert_error_body("namak", 400, body, "Host")
    # HTTP/1.0 needs none
    answer = raw(namak.port, [b"GET /v1/events HTTP/1.0\r\nAuthorization: Bearer YOUR_API_KEY\r\n\r\n"])
    assert answer.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("head", [
    b"GET /v1/events HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    b"GET /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n",
    b"GET /v1/ev ents HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # TLS spoken to plain HTTP
], ids=["header without colon", "bad Content-Length", "space in path", "TLS hello"])
def test_what_the_parser_cannot_read_is_400_in_the_apis_body(namak, head):
    status, body = status_and_body(raw(namak.port, [head]))
    assert status == 400
    assert_error_body("namak", 400, body, "Invalid HTTP request")


# ---- timeouts and slow connections: 408 -----------------------------------------------------------------

def test_a_slow_head_is_408_and_an_idle_connection_is_closed(namak):
    started = time.monotonic()
    answer = raw(namak.port, [b"GET /v1/events HTTP/1.1\r\nHost: x\r\n"])  # never finished
    status, body = status_and_body(answer)
    assert status == 408 and time.monotonic() - started < PROMPTLY
    assert_error_body("namak", 408, body, "2 s")
    assert raw(namak.port, []) == b""  # nothing sent: closed (not held), nothing to answer


def test_a_paused_body_is_408(namak):
    answer = raw(namak.port, [b"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer YOUR_API_KEY\r\n"
                              b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"])
    status, body = status_and_body(answer)
    assert status == 408
    assert_error_body("namak", 408, body, "paused")


def test_200_slow_connections_do_not_starve_an_ordinary_request(namak):
    kept = Kept(namak)
    answers = []

    def trickle(conn):  # a header line now and then, never the end of the head, until the server answers
        deadline = time.monotonic() + 15
        try:
            conn.sendall(b"GET /v1/events HTTP/1.1\r\nHost: x\r\n")
            conn.settimeout(0.5)
            while time.monotonic() < deadline:
                try:
                    answers.append(conn.recv(65536))
                    return
                except TimeoutError:
                    conn.sendall(b"X-Slow: 1\r\n")
        except OSError as exc:
            answers.append(repr(exc).encode())
        finally:
            conn.close()

    conns = [socket.create_connection(("127.0.0.1", namak.port), timeout=10) for _ in range(200)]
    threads = [threading.Thread(target=trickle, args=(conn,), daemon=True) for conn in conns]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    kept.still_served()  # answered while the 200 are held
    for thread in threads:  # the header timeout (2 s) ends each of them, in the API's body
        thread.join(20)
    assert len(answers) == 200 and all(a.startswith(b"HTTP/1.1 408") for a in answers), \
        {a[:40] for a in answers}
    kept.still_served()


# ---- concurrency: 503 -------------------------------------------------------------------------------

def test_connections_over_the_concurrency_limit_are_503_in_the_apis_body():
    with running("namak", settings=Settings(limit_concurrency=20, header_timeout=30)) as server:
        kept = Kept(server)
        held = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(25)]
        try:
            time.sleep(0.2)
            answer = httpx.get(server.base_url + "/events", headers=BEARER, timeout=PROMPTLY)
            assert answer.status_code == 503
            assert_error_body("namak", 503, answer.json(), "at most 20")
        finally:
            for conn in held:
                conn.close()
        deadline = time.monotonic() + PROMPTLY
        while httpx.get(server.root + "/__admin/health", timeout=PROMPTLY).status_code == 503:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        kept.still_served()


# ---- the state document: off the event loop ---------------------------------------------------------

def test_the_state_document_is_built_off_the_event_loop(monkeypatch):
    from mockserver import state

    built_on = []
    document = state.document

    def watched(store):
        built_on.append(threading.current_thread().name)
        return document(store)

    monkeypatch.setattr(state, "document", watched)
    records = [{**EVENT, "id": f"evt_{n}", "title": f"t{n}", "status": "draft", "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z", "capacity": None} for n in range(20_000)]
    with running("namak", settings=Settings()) as server:
        server.store.load({"events": records})

        def download(_):
            return httpx.get(server.root + "/__admin/state", timeout=60)

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            downloads = [pool.submit(download, n) for n in range(4)]
            time.sleep(0.05)
            started = time.monotonic()
            health = httpx.get(server.root + "/__admin/health", timeout=PROMPTLY)
            assert health.status_code == 200 and time.monotonic() - started < PROMPTLY
            answers = [d.result() for d in downloads]
    assert all(a.status_code == 200 and len(a.json()["events"]) == 20_000 for a in answers)
    assert answers[0].headers["content-disposition"] == 'attachment; filename="namak-state.json"'
    assert len(built_on) == 4 and not any(name.startswith("mock-") for name in built_on), built_on


# ---- the flags ----------------------------------------------------------------------------------------

def test_serve_flags_set_the_limits():
    with ServedProcess("namak", "--port", "0", "--quiet", "--max-body-bytes", "100", "--max-query-params", "3",
                       "--max-header-bytes", "2048", "--header-timeout", "1") as process:
        root = process.roots["namak"]
        port = int(root.rsplit(":", 1)[1])
        big = httpx.post(root + "/v1/events", content=b'{"title": "' + b"x" * 100 + b'"}', timeout=10,
                         headers={**BEARER, "Content-Type": "application/json"})
        assert big.status_code == 413 and "100 bytes" in big.text
        assert httpx.get(root + "/v1/events?a=1&b=2&c=3&d=4", headers=BEARER, timeout=10).status_code == 400
        assert httpx.get(root + "/v1/events?a=1&b=2&c=3", headers=BEARER, timeout=10).status_code == 200
        assert raw(port, [b"GET /v1/events HTTP/1.1\r\nHost: x\r\nX-Big: ", b"a" * 4096, b"a" * 4096],
                   pause=0.05).startswith(b"HTTP/1.1 431")
        assert raw(port, [b"GET /v1/events HTTP/1.1\r\nHost: x\r\n"]).startswith(b"HTTP/1.1 408")
    refused = ServedProcess("namak", "--port", "0", "--quiet", "--limit-concurrency", "0").launch()
    assert refused.finish(30) == 2 and "above zero" in "".join(refused.stderr)
