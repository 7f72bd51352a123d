"""A verdict you can trust: no green run without evidence, failures grouped with the smallest
request that still fails, harness errors apart from the verdict, JUnit per (operation, rule).

Every test runs the real command (or `execute`) against a mock on loopback, over HTTP.
"""

from __future__ import annotations

import re
import shlex
import xml.etree.ElementTree as ET

import pytest
import requests
import schemathesis
from schemathesis.checks import CHECKS

from contract_tests.cli import main as contract_test
from contract_tests.context import Run, demo_credentials
from contract_tests.runner import Options, execute
from mockserver.app import Settings
from mockserver.testing import running

from .broken import BREAKAGES, Broken, Exchange, server_error_when

SMALL = ["--phases", "examples,fuzzing", "--max-examples", "5", "--seed", "1", "--quiet"]
UNLIMITED = Settings(validate_responses=True, rate_limits={"limit": 10**9})


@pytest.fixture(scope="module")
def ecoevents():
    with running("ecoevents", settings=UNLIMITED) as server:
        yield server


def test_wrong_key_stops_before_the_run(ecoevents, capsys):
    code = contract_test(["ecoevents", "--base-url", ecoevents.base_url, "-H", "Authorization: Bearer WRONG",
                          "--include", "listEvents", "--include", "getEvent", *SMALL])
    captured = capsys.readouterr()
    assert code == 2, captured.out
    assert 'the credential "Authorization: Bearer WRONG" was refused (401' in captured.err
    assert "check -H/--header" in captured.err and "verdict: conforms" not in captured.out


def _refuses_reads_by_id(ex, mock):
    if ex.method == "GET" and ex.path.startswith("/api/events/"):
        ex.status = 401
        ex.set_json({"success": False, "error": {"code": "UNAUTHORIZED", "message": "Invalid API key"}})


def test_an_operation_answered_401_throughout_is_not_enough_evidence(capsys):
    """The key passes the check before the run, but one operation refuses it every time: nothing
    about that operation was tested, and the run says so rather than calling it conforming."""
    wrap = lambda app: Broken(app, after=_refuses_reads_by_id)  # noqa: E731
    with running("ecoevents", settings=Settings(), wrap=wrap) as server:
        code = contract_test(["ecoevents", "--base-url", server.base_url,
                              "--include", "listEvents", "--include", "getEvent", *SMALL])
    out = capsys.readouterr().out
    assert code == 3, out
    assert "getEvent not tested: every request was answered 401" in out
    assert "are the credentials right?" in out
    assert "verdict: NOT ENOUGH EVIDENCE" in out
    assert re.search(r"GET /api/events/\{id\} UNTESTED\s+\d+\s+0/\d+", out), out   # the coverage table row


def test_wrong_base_path_names_404(ecoevents, capsys):
    code = contract_test(["ecoevents", "--base-url", ecoevents.root + "/nope", "--include", "listEvents",
                          "--include", "getEvent", *SMALL])
    out = capsys.readouterr().out
    assert code == 3, out
    assert "every request was answered 404" in out and "is --base-url right?" in out


def _reads_find_nothing(ex, mock):
    if ex.method == "GET" and ex.path.startswith("/api/events/"):
        ex.status = 404
        ex.set_json({"success": False, "error": {"code": "NOT_FOUND", "message": "no such event"}})


def test_allow_untested_lets_one_operation_off(capsys, tmp_path):
    junit = tmp_path / "junit.xml"
    with running("ecoevents", settings=UNLIMITED, wrap=lambda app: Broken(app, after=_reads_find_nothing)) as server:
        argv = ["ecoevents", "--base-url", server.base_url, "--include", "listEvents", "--include", "getEvent",
                "--checks", "not_a_server_error", "--junit-xml", str(junit), *SMALL]
        assert contract_test(argv) == 3
        out = capsys.readouterr().out
        assert "getEvent not tested: every request was answered 404" in out
        assert "no request named a resource that exists" in out     # the list works: not the base URL
        assert "listEvents not tested" not in out
        untested = ET.parse(junit).getroot().find(".//testcase[@name='GET /api/events/{id}: coverage']")
        assert "every request was answered 404" in untested.find("error").get("message")
        assert contract_test([*argv, "--allow-untested", "getEvent"]) == 0
    out = capsys.readouterr().out
    assert "getEvent not tested (allowed by --allow-untested)" in out
    assert "verdict: conforms" in out
    untested = ET.parse(junit).getroot().find(".//testcase[@name='GET /api/events/{id}: coverage']")
    assert untested.find("error") is None and untested.find("skipped") is not None


def test_one_defect_is_one_group_with_the_smallest_request_that_still_fails():
    """A server that answers 500 whenever `status` is given: many failing cases, one group per
    rule, and the reproducer keeps `status` but drops the other parameters, and still fails."""
    wrap = lambda app: Broken(app, after=server_error_when("status", lambda v: True))  # noqa: E731
    with running("namak", settings=Settings(), wrap=wrap) as server:
        run = Run("namak", server.base_url, demo_credentials("namak"))
        result = execute(run, Options(max_examples=15, seed=1, phases=("fuzzing",), include=("listEvents",)))
        groups = [f for f in result.failures if f.rule == "not_a_server_error"]
        assert len(groups) == 1, [f.headline() for f in result.failures]
        group = groups[0]
        assert group.count > 1 and result.by_rule()["not_a_server_error"] == group.count
        assert group.status == 500 and '"detail": "boom"' in group.body
        assert group.shrunk, group.curl
        sent, first = _query(group.curl), _query(group.original_curl)
        assert "status" in sent and len(sent) < len(first), (group.curl, group.original_curl)
        # the reproducer, sent as printed, still fails the same way
        assert _send(group.curl).status_code == 500
    assert result.exit_code() == 1


def _query(curl: str) -> dict:
    url = next(w for w in shlex.split(curl) if w.startswith("http"))
    return dict(requests.utils.urlparse(url).query and
                [p.split("=", 1) for p in requests.utils.urlparse(url).query.split("&")])


def _send(curl: str):
    words = shlex.split(curl)
    headers = dict(w.split(": ", 1) for prev, w in zip(words, words[1:], strict=False) if prev == "-H")
    method = words[words.index("-X") + 1]
    url = next(w for w in words if w.startswith("http"))
    return requests.request(method, url, headers=headers, timeout=10)


@pytest.fixture
def crashing_rule():
    """A rule that crashes on every list answer, as a bug in our own checks would."""
    @schemathesis.check
    def crashing_rule(ctx, response, case):
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("events"), list):
            return {body["events"]: 1}  # TypeError: unhashable type: 'list'
        return None

    try:
        yield "crashing_rule"
    finally:
        CHECKS.unregister("crashing_rule")


def test_a_crashing_check_is_a_harness_error_not_a_verdict(ecoevents, crashing_rule, capsys, tmp_path):
    junit = tmp_path / "junit.xml"
    code = contract_test(["ecoevents", "--base-url", ecoevents.base_url, "--include", "listEvents",
                          "--checks", crashing_rule, "--junit-xml", str(junit), *SMALL])
    out = capsys.readouterr().out
    assert code == 4, out
    assert "harness error: GET /api/events: crashing_rule" in out
    assert "TypeError: unhashable type: 'list'" in out and "Request: curl" in out
    assert "verdict: HARNESS ERROR" in out
    case = ET.parse(junit).getroot().find(".//testcase[@name='GET /api/events: crashing_rule']")
    assert case is not None and case.find("error") is not None


def test_junit_has_a_test_case_per_operation_and_rule(tmp_path, capsys):
    wrap = lambda app: Broken(app, after=server_error_when("status", lambda v: True))  # noqa: E731
    with running("namak", settings=Settings(), wrap=wrap) as server:
        junit = tmp_path / "junit.xml"
        code = contract_test(["namak", "--base-url", server.base_url, "--include", "listEvents", "--include",
                              "getEvent", "--junit-xml", str(junit), *SMALL])
    assert code == 1, capsys.readouterr().out
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    for operation in ("GET /v1/events", "GET /v1/events/{id}"):
        for rule in ("not_a_server_error", "response_schema_conformance", "content_type_conformance"):
            assert f"{operation}: {rule}" in cases, sorted(cases)
    failing = cases["GET /v1/events: not_a_server_error"]
    assert failing.find("failure") is not None and "Reproduce: curl" in failing.find("failure").text
    assert cases["GET /v1/events/{id}: not_a_server_error"].find("failure") is None
    assert int(suite.get("tests")) == len(cases) and int(suite.get("failures")) >= 1


@pytest.fixture
def bare_request_rule():
    """A rule that judges a request of its own (like `missing_credential_rejected` sending the
    request without its credential) and names that request in its message."""
    @schemathesis.check
    def bare_request_rule(ctx, response, case):
        if case.method == "GET" and 200 <= response.status_code < 300:
            url = f"{case.operation.base_url}{case.formatted_path}"
            raise AssertionError(f"without credentials expected 401, got 200\nReproduce: curl -X GET {url}")
        return None

    try:
        yield "bare_request_rule"
    finally:
        CHECKS.unregister("bare_request_rule")


def test_a_rule_may_name_the_request_it_judged(ecoevents, bare_request_rule):
    run = Run("ecoevents", ecoevents.base_url, demo_credentials("ecoevents"))
    result = execute(run, Options(max_examples=5, seed=1, phases=("examples", "fuzzing"), include=("listEvents",),
                                  checks=(bare_request_rule,)))
    [group] = result.failures
    assert group.curl == f"curl -X GET {ecoevents.base_url}/events"   # no credential in it
    assert "Authorization" not in group.curl and "Reproduce" not in group.message
    assert group.count > 1 and not group.shrunk
    assert group.status is None and "Answered" not in group.describe()  # the case's own answer is not the one judged


def test_a_text_body_is_shown_as_text():
    breakage = next(b for b in BREAKAGES if b.name == "crashes on long text")
    with running(breakage.slug, settings=Settings(), wrap=breakage.wrap) as server:
        run = Run(breakage.slug, server.base_url, demo_credentials(breakage.slug))
        result = execute(run, Options(max_examples=5, seed=7, phases=("examples",), include=breakage.include,
                                      checks=("not_a_server_error",)))
    [group] = result.failures
    assert group.status == 500 and group.body == "Internal Server Error"
    text = group.describe()
    assert "Answered 500: Internal Server Error" in text
    assert "Body: None" not in text


def test_deviations_are_listed_apart_and_fail_only_when_strict(monkeypatch, tmp_path, capsys):
    """What `deviations.classify` calls a deviation is not a violation: listed with its reason in
    every output, exit 0; `--strict` makes it one."""
    def classify(rule, failure, case, response, contract):
        assert contract.slug == "namak" and response.status_code == 500 and case.operation.label == failure.operation
        return "the document gives no error body for 500 (x-inferred)" if rule == "error_body_matches_api" else None

    monkeypatch.setattr("contract_tests.deviations.classify", classify)
    wrap = lambda app: Broken(app, after=server_error_when("status", lambda v: True))  # noqa: E731
    report, junit = tmp_path / "report.md", tmp_path / "junit.xml"
    with running("namak", settings=Settings(), wrap=wrap) as server:
        argv = ["namak", "--base-url", server.base_url, "--include", "listEvents", "--checks", "error_body_matches_api",
                "--report", str(report), "--junit-xml", str(junit), *SMALL]
        assert contract_test(argv) == 0
        out = capsys.readouterr().out
        assert "Deviations (the document does not state what they rest on):" in out
        assert "Not a violation: the document gives no error body for 500 (x-inferred)" in out
        assert "verdict: conforms" in out
        markdown = report.read_text()
        assert "### Deviations" in markdown and "<details>" in markdown and "x-inferred" in markdown
        case = ET.parse(junit).getroot().find(".//testcase[@name='GET /v1/events: error_body_matches_api']")
        assert case.find("failure") is None and "x-inferred" in case.find("system-out").text
        assert contract_test([*argv, "--strict"]) == 1
    assert "verdict: VIOLATES THE CONTRACT" in capsys.readouterr().out
    assert ET.parse(junit).getroot().find(".//testcase[@name='GET /v1/events: error_body_matches_api']/failure") \
        is not None


def test_untested_reasons_from_what_came_back():
    from contract_tests.coverage import OperationCoverage

    def op(label, **statuses):
        entry = OperationCoverage(label, "op", cases=sum(statuses.values()), positive=sum(statuses.values()))
        entry.positive_statuses.update({int(s[1:]): n for s, n in statuses.items()})
        return entry

    assert "are the credentials right?" in op("GET /x", s401=4).why()
    assert "is --base-url right?" in op("GET /x", s404=4).why(everything_404=True)
    assert "no request named a resource that exists" in op("GET /x/{id}", s404=4).why()
    assert "answered 429 to 3 of 5 valid requests: the run is pacing to the documented limit" in \
        op("GET /x", s429=3, s400=2).why()
    assert "answered 400 ×2, 422 ×1: none succeeded" in op("GET /x", s400=2, s422=1).why()
    assert "no case was generated" in OperationCoverage("GET /x", "op").why()


def test_no_operation_selected_is_a_usage_error(ecoevents, capsys):
    assert contract_test(["ecoevents", "--base-url", ecoevents.base_url, "--include", "noSuchOperation", *SMALL]) == 2
    assert "no operation selected" in capsys.readouterr().err


def test_message_shape_leaves_out_what_varies_from_case_to_case():
    from contract_tests.runner import shape

    first = shape("Custom check failed", "status='draft' should return only matching items; item evt_123 has "
                                         "{'status': 'active'}")
    second = shape("Custom check failed", "status='published' should return only matching items; item evt_9f has "
                                          "{'status': 'cancelled'}")
    assert first == second
    assert shape("Response violates schema", '"title" is a required property') != \
        shape("Response violates schema", "None is not of type 'string'")
    assert shape("x", "Expected at most 10 items (limit=10); got 12") == \
        shape("x", "Expected at most 5 items (limit=5); got 99")


def test_a_crashing_judge_of_deviations_is_a_harness_error_and_the_failure_stays_a_violation(monkeypatch):
    def classify(rule, failure, case, response, contract):
        raise ValueError("cannot judge")

    monkeypatch.setattr("contract_tests.deviations.classify", classify)
    wrap = lambda app: Broken(app, after=server_error_when("status", lambda v: True))  # noqa: E731
    with running("namak", settings=Settings(), wrap=wrap) as server:
        run = Run("namak", server.base_url, demo_credentials("namak"))
        result = execute(run, Options(max_examples=5, seed=1, phases=("fuzzing",), include=("listEvents",),
                                      checks=("not_a_server_error",)))
    assert [f.rule for f in result.failures] == ["not_a_server_error"] and not result.deviations
    [error] = result.errors
    assert error.operation == "GET /v1/events" and error.where == "deviations.classify(not_a_server_error)"
    assert "ValueError: cannot judge" in error.message and error.curl.startswith("curl")
    assert result.exit_code() == 1


def test_a_valid_request_taken_every_time_but_accepted_with_fresh_values_counts_as_tested():
    """A server that already holds every value Schemathesis sends to a unique field (each
    registration's email is taken by the time it arrives) refuses every generated valid request;
    the uniqueness re-try with fresh values is accepted. That acceptance is a valid request served:
    the operation is tested, and the run conforms (without it: exit 3, registerUser untested)."""
    FRESH = ("contract-", "ct.")  # the harness's own fresh values: the re-try's, a second account's
    def take_the_email(ex: Exchange, mock):
        body = ex.request_json()
        email = body.get("email") if isinstance(body, dict) else None
        if (ex.path.endswith("/user/register/") and isinstance(email, str) and not email.startswith(FRESH)
                and not mock.store.find("users", email=email)):
            mock.store.insert("users", {"username": f"taken{len(email)}",
                                        "email": email, "phone_number": "+100000000"})

    with running("eventify", settings=Settings(rate_limits={"limit": 10**9}),
                 wrap=lambda app: Broken(app, before=take_the_email)) as server:
        run = Run("eventify", server.base_url, demo_credentials("eventify"))
        result = execute(run, Options(max_examples=5, seed=3, phases=("examples", "coverage")))
    register = next(c for c in result.coverage.operations.values() if c.operation_id == "registerUser")
    assert register.positive and not any(200 <= s < 300 for s in register.positive_statuses), register
    assert register.tested, result.summary()
    assert result.ok, result.summary()
