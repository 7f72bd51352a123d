"""The validating proxy (issue 16) over real HTTP: in front of a faithful mock it reports nothing; in
front of a broken server it names the rule; an invalid request is forwarded, or blocked; an upstream
that is down is a 502 in the API's own body."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys

import httpx
import pytest

from contract_tests.cli import main as contract_test
from mockserver.app import Settings
from mockserver.proxy import HEADER, create_proxy
from mockserver.testing import running, serving
from tests.harness.broken import BREAKAGES

KEY = {"Authorization": "Bearer YOUR_API_KEY"}
TICKETS_KEY = {"Authorization": "Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"}
EVENT = {"title": "Proxy meetup", "date": "2025-05-01T18:00:00Z",
         "location": {"venue": "Hall", "address": "1 Main St"}, "capacity": 10}


@contextlib.contextmanager
def proxied(slug: str, wrap=None, **options):
    with running(slug, settings=Settings(), wrap=wrap) as upstream:
        with serving(create_proxy(slug, upstream.base_url, **options)) as proxy:
            yield proxy, upstream


def violations(response: httpx.Response) -> list[dict]:
    return json.loads(response.headers.get(HEADER, "[]"))


def breakage(name: str):
    return next(b for b in BREAKAGES if b.name == name)


def test_faithful_mock_reports_nothing():
    with proxied("namak") as (proxy, upstream):
        with httpx.Client(base_url=proxy.root, headers=KEY) as client:
            listed = client.get("/v1/events", params={"limit": 2})
            created = client.post("/v1/events", json=EVENT)
            read = client.get(f"/v1/events/{created.json()['id']}")
            missing = client.get("/v1/events/evt_nope")
            anonymous = client.get("/v1/events", headers={"Authorization": ""})
        summary = httpx.get(proxy.root + "/__admin/violations").json()
    assert listed.status_code == 200 and len(listed.json()["data"]) <= 2
    assert created.status_code == 201 and read.status_code == 200
    assert missing.status_code == 404 and anonymous.status_code == 401
    for answer in (listed, created, read, missing, anonymous):
        assert HEADER not in answer.headers, answer.headers[HEADER]
    assert summary == {"exchanges": 5, "violations": 0, "by_operation": {}}
    assert "X-RateLimit-Limit" in listed.headers  # headers pass through


@pytest.mark.parametrize("name", ["drops a required field", "turns 201 into 200"])
def test_broken_server_violation_named(name):
    broken = breakage(name)
    with proxied(broken.slug, wrap=broken.wrap) as (proxy, upstream):
        with httpx.Client(base_url=proxy.root, headers=KEY) as client:
            answer = client.get("/v1/events/evt_123") if broken.include == ("getEvent",) else \
                client.post("/v1/events", json=EVENT)
        summary = httpx.get(proxy.root + "/__admin/violations").json()
        journal = httpx.get(proxy.root + "/__admin/requests").json()["requests"]
    assert [v["rule"] for v in violations(answer)] == [broken.rule]
    assert violations(answer)[0]["level"] == "violation"
    operation = broken.include[0]
    assert summary["by_operation"] == {operation: {broken.rule: 1}}
    assert journal[-1]["operation"] == operation and journal[-1]["violations"][0]["rule"] == broken.rule


def test_invalid_request_forwarded_by_default_and_blocked_with_block_invalid():
    bad = {**EVENT, "title": 42}
    with proxied("namak") as (proxy, upstream):
        answer = httpx.post(proxy.root + "/v1/events", json=bad, headers=KEY)
        upstream_saw = [e for e in httpx.get(upstream.root + "/__admin/requests").json()["requests"]]
    assert answer.status_code == 400  # the upstream's own answer: it was forwarded
    assert [e["method"] for e in upstream_saw] == ["POST"]
    assert [v["rule"] for v in violations(answer)] == ["request_conformance"]

    with proxied("namak", block_invalid=True) as (proxy, upstream):
        answer = httpx.post(proxy.root + "/v1/events", json=bad, headers=KEY)
        upstream_saw = httpx.get(upstream.root + "/__admin/requests").json()["requests"]
    assert answer.status_code == 400 and upstream_saw == []
    assert [v["rule"] for v in violations(answer)] == ["request_conformance"]
    # the API's own error body (namak's: {"error": {...}} as the mock renders it)
    with running("namak", settings=Settings()) as mock:
        native = httpx.post(mock.root + "/v1/events", json=bad, headers=KEY).json()
    assert answer.json().keys() == native.keys()


def test_upstream_down_is_a_502_in_the_api_body():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with serving(create_proxy("namak", f"http://127.0.0.1:{port}/v1", timeout=2)) as proxy:
        answer = httpx.get(proxy.root + "/v1/events", headers=KEY)
    with running("namak", settings=Settings()) as mock:
        native = httpx.get(mock.root + "/v1/events/evt_nope", headers=KEY).json()
    assert answer.status_code == 502
    assert answer.json().keys() == native.keys()
    assert "Upstream" in json.dumps(answer.json())


def test_link_urls_mapped_back_to_the_proxy():
    with proxied("tickets") as (proxy, upstream):
        answer = httpx.get(proxy.root + "/api/events/", params={"page_size": 1}, headers=TICKETS_KEY)
    link = answer.headers["link"]
    assert 'rel="next"' in link and proxy.base_url + "/" in link, link
    assert upstream.root not in link


def test_admin_not_forwarded():
    with proxied("namak") as (proxy, upstream):
        health = httpx.get(proxy.root + "/__admin/health").json()
        upstream_saw = httpx.get(upstream.root + "/__admin/requests").json()["requests"]
        report = proxy.app.report()
    assert health["api"] == "namak" and upstream_saw == []
    assert "No violations." in report


def test_cli_report_and_fail_on_violation(tmp_path):
    broken = breakage("drops a required field")
    report = tmp_path / "violations.md"
    with running(broken.slug, settings=Settings(), wrap=broken.wrap) as upstream:
        process = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "proxy", "namak", "--upstream",
                                    upstream.base_url, "--port", "0", "--report", str(report),
                                    "--fail-on-violation", "--quiet"],
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE, text=True)
        try:
            line = process.stdout.readline()
            root = line.split()[2].rsplit("/v1", 1)[0]
            answer = httpx.get(root + "/v1/events/evt_123", headers=KEY)
        finally:
            process.send_signal(signal.SIGINT)
            code = process.wait(30)
    assert [v["rule"] for v in violations(answer)] == ["response_schema_conformance"]
    assert code == 1
    text = report.read_text()
    assert "| getEvent | response_schema_conformance | violation | 1 |" in text, text


SHARED = {  # a breakage of a single-exchange rule, and a request that shows it
    "drops the rate-limit headers": ("/v1/events", KEY),
    "sends the wrong error body": ("/api/events/999999", {"Authorization": "Bearer ae_u_demo"}),
    "ignores page_size": ("/api/events/?page_size=1", TICKETS_KEY),
    "ignores limit": ("/api/events?limit=1", KEY),
    "reports a wrong total": ("/api/events?limit=2", KEY),
    "ignores a filter": ("/v1/events?status=draft", KEY),
    "sorts in the wrong order": ("/api/events?sortBy=name&order=asc", KEY),
}


@pytest.mark.parametrize("name", list(SHARED))
def test_shared_rules_named_on_live_traffic(name):
    """The contract suite's own single-exchange rules (apispec.exchange), run by the proxy."""
    broken = breakage(name)
    path, key = SHARED[name]
    with proxied(broken.slug, wrap=broken.wrap) as (proxy, upstream):
        answer = httpx.get(proxy.root + path, headers=key)
    assert broken.rule in [v["rule"] for v in violations(answer)], violations(answer)


@pytest.mark.parametrize("name", list(SHARED))
def test_shared_rules_silent_on_a_faithful_mock(name):
    broken = breakage(name)
    path, key = SHARED[name]
    with proxied(broken.slug) as (proxy, upstream):
        answer = httpx.get(proxy.root + path, headers=key)
    assert violations(answer) == []


def test_record_keeps_every_exchange_as_har_without_credentials(tmp_path):
    with proxied("namak", record=tmp_path) as (proxy, upstream):
        with httpx.Client(base_url=proxy.root, headers=KEY) as client:
            created = client.post("/v1/events", json=EVENT)
            client.get("/v1/events", params={"status": "draft"})
        path = proxy.app.recorder.write()
    text = path.read_text()
    har = json.loads(text)["log"]
    assert path.name == "namak.har"
    assert [(e["request"]["method"], e["response"]["status"]) for e in har["entries"]] == [("POST", 201), ("GET", 200)]
    assert json.loads(har["entries"][0]["response"]["content"]["text"])["id"] == created.json()["id"]
    assert har["entries"][1]["request"]["queryString"] == [{"name": "status", "value": "draft"}]
    assert "YOUR_API_KEY" not in text
    auth = [h["value"] for h in har["entries"][0]["request"]["headers"] if h["name"].lower() == "authorization"]
    assert auth and auth[0].startswith("Bearer <redacted:")


def test_replay_of_a_recording_lists_what_a_broken_server_answers_differently(tmp_path):
    with proxied("namak", record=tmp_path) as (proxy, upstream):
        with httpx.Client(base_url=proxy.root, headers=KEY) as client:
            client.get("/v1/events", params={"limit": 2})
            client.get("/v1/events/evt_123")
        har = proxy.app.recorder.write()
    with running("namak", settings=Settings()) as faithful:
        same = replay_lines(contract_test, har, faithful.base_url)
    broken = breakage("drops a required field")
    with running("namak", settings=Settings(), wrap=broken.wrap) as server:
        differs = replay_lines(contract_test, har, server.base_url)
    assert same == (0, ["2 exchange(s) replayed, 0 difference(s)"])
    code, lines = differs
    assert code == 1 and "GET /events/evt_123: body.title missing" in lines, lines


def replay_lines(contract_test, har, base_url):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = contract_test(["replay", str(har), "--base-url", base_url])
    return code, out.getvalue().splitlines()
