"""Our rules judge valid requests only, say when they do not apply, accept per operation what the
spec documents for a valid request, and excuse a uniqueness refusal only when it is real."""

from __future__ import annotations

import functools
import json
import pathlib
import subprocess
import sys

import httpx
import jsonschema
import pytest
import schemathesis

from apispec.model import contract
from apispec.schema import to_json_schema
from contract_tests.context import Run, bind, demo_credentials
from contract_tests.hooks import accepted_statuses
from contract_tests.rules import CUSTOM_CHECKS
from contract_tests.rules.errors import error_body_errors, error_body_matches_api
from contract_tests.rules.filtering import filters_honoured, sorted_as_requested
from contract_tests.rules.helpers import invalid_inputs, shown
from contract_tests.rules.paging import page_metadata_consistent, page_within_limit
from contract_tests.runner import Options, build_schema, execute
from contract_tests.uniqueness import fresh_value
from mockserver.app import Settings
from mockserver.testing import running

from .broken import BREAKAGES, LENIENT, Broken

ROOT = pathlib.Path(__file__).resolve().parents[2]
ST = pathlib.Path(sys.executable).parent / "st"


def _breakage(name):
    return next(b for b in BREAKAGES if b.name == name)


def _run(breakage, **options):
    with running(breakage.slug, settings=Settings(), wrap=breakage.wrap) as server:
        run = Run(breakage.slug, server.base_url, demo_credentials(breakage.slug))
        return execute(run, Options(max_examples=15, seed=7, phases=breakage.phases, include=breakage.include,
                                    **options))


# --- which cases are valid -------------------------------------------------------------------

@functools.cache
def _operation(slug, operation_id):
    schema = schemathesis.openapi.from_path(str(ROOT / f"specs/{slug}.yaml"))
    return next(r.ok() for r in schema.get_all_operations() if r.ok().definition.raw.get("operationId") == operation_id)


def _case(slug, operation_id, **parts):
    return _operation(slug, operation_id).Case(**parts)


@pytest.mark.parametrize(("slug", "operation_id", "parts", "valid"), [
    ("ecoevents", "listEvents", {"query": {"limit": 5, "sortBy": "name"}}, True),
    ("ecoevents", "listEvents", {"query": {"limit": "5"}}, True),                    # text on the wire
    ("ecoevents", "listEvents", {"query": {"limit": 5, "x-schemathesis-unknown-property": "42"}}, True),
    ("ecoevents", "listEvents", {"query": {"limit": 0}}, False),                     # minimum: 1
    ("ecoevents", "listEvents", {"query": {"sortBy": ["name", "capacity"]}}, False),
    ("eventify", "listEventsByPincode", {"body": {"token": "t", "username": "u", "pincode": "560001"}}, True),
    ("eventify", "listEventsByPincode", {"body": {"token": "t", "username": "u", "pincode": False}}, False),
    ("eventify", "listEventsByPincode", {}, False),                                  # required body
    ("amarevents", "getEvent", {"path_parameters": {"id": "x"}}, False),
])
def test_a_case_is_valid_only_against_all_of_its_operations_schemas(slug, operation_id, parts, valid):
    run = Run(slug, "http://127.0.0.1:9", demo_credentials(slug))
    problems = invalid_inputs(run, run.contract.operations[operation_id], _case(slug, operation_id, **parts))
    assert (problems == []) is valid, problems


@pytest.mark.parametrize("lenient", LENIENT, ids=[entry[0] for entry in LENIENT])
def test_a_lenient_server_is_not_failed_by_our_rules(lenient):
    """Only valid requests are judged by what the answer holds: a server that refuses an empty
    string in its own body, or ignores a value it cannot use, breaks none of our rules, and no
    rule errs on what it was sent (`sortBy` as a list ended a run in "unhashable type: 'list'")."""
    name, slug, make, include, phases = lenient
    defect = make()
    with running(slug, settings=Settings(), wrap=lambda app: Broken(app, defect.before, defect.after)) as server:
        result = execute(Run(slug, server.base_url, demo_credentials(slug)),
                         Options(max_examples=15, seed=7, phases=phases, include=include))
    assert defect.times > 0, "the server's leniency was never exercised"
    assert result.cases > 20
    assert not result.errors, result.errors
    ours = {rule: n for rule, n in result.by_rule().items() if rule in CUSTOM_CHECKS}
    assert not ours, result.summary() + "\n" + "\n".join(f.describe() for f in result.failures)


# --- not applicable is not passed --------------------------------------------------------------

def _bound(slug, operation_id):
    """An operation of a schema bound to a run of its own (no server: the rules get answers given)."""
    schema = schemathesis.openapi.from_path(str(ROOT / f"specs/{slug}.yaml"))
    bind(schema, Run(slug, "http://127.0.0.1:9", demo_credentials(slug)))
    return next(r.ok() for r in schema.get_all_operations() if r.ok().definition.raw.get("operationId") == operation_id)


class _Answer:
    def __init__(self, status, body=None, text=None, content_type="application/json"):
        self.status_code, self._body = status, body
        self.text = text if text is not None else ("" if body is None else json.dumps(body))
        self.headers = {"content-type": [content_type]}

    def json(self):
        if self._body is None:
            raise ValueError("not JSON")
        return self._body


def test_rules_return_true_when_they_do_not_apply_and_none_when_they_pass():
    operation = _bound("ecoevents", "listEvents")
    page = {"events": [{"id": "evt_1", "name": "A"}, {"id": "evt_2", "name": "B"}],
            "pagination": {"page": 1, "limit": 5, "total": 2, "totalPages": 1}}
    valid = operation.Case(query={"limit": 5, "sortBy": "name", "order": "asc"})
    invalid = operation.Case(query={"limit": 0, "sortBy": ["name", "capacity"]})
    for rule in (page_within_limit, page_metadata_consistent, sorted_as_requested):
        assert rule(None, _Answer(200, page), valid) is None, rule.__name__
        assert rule(None, _Answer(200, page), invalid) is True, rule.__name__
        assert rule(None, _Answer(400, {"error": {"code": "INVALID_REQUEST", "message": "x"}}), valid) is True
    assert filters_honoured(None, _Answer(200, page), valid) is True       # no filter was asked for
    assert error_body_matches_api(None, _Answer(200, page), valid) is True


# --- error bodies -------------------------------------------------------------------------------

@pytest.mark.parametrize(("answer", "passes"), [
    (_Answer(401, {"status": "invalid_token"}), True),                                  # the template
    (_Answer(401, {"status": "error", "message": "token does not match user"}), True),  # the other body
    (_Answer(401, {"detail": "bad token"}), False),
    (_Answer(401, {"status": "error"}), False),
])
def test_error_body_may_be_any_body_the_spec_gives_for_its_status(answer, passes):
    """Eventify documents two 401 bodies (`anyOf`): either passes, anything else fails (it used
    to be skipped)."""
    run = Run("eventify", "http://127.0.0.1:9", demo_credentials("eventify"))
    errors = error_body_errors(run, run.contract.operations["getUserStatus"], answer)
    assert (errors == []) is passes, errors


def test_a_body_that_is_not_json_is_shown_as_text():
    run = Run("namak", "http://127.0.0.1:9", demo_credentials("namak"))
    answer = _Answer(502, text="<html>Bad Gateway</html>", content_type="text/html")
    errors = error_body_errors(run, run.contract.operations["getEvent"], answer)
    assert errors == ["body is not JSON (text/html)"]
    assert shown(answer) == "502 <html>Bad Gateway</html>"
    assert shown(_Answer(500, text="")) == "500 (empty body)"


def test_a_server_error_is_reported_with_its_status_and_body():
    result = _run(_breakage("crashes on an empty body"))
    crashes = [f for f in result.failures if f.rule == "not_a_server_error"]
    assert crashes, result.summary()
    assert all("500" in f.message and "'NoneType' object has no attribute" in f.message for f in crashes)


# --- statuses a valid request may get, per operation ------------------------------------------

def test_accepted_statuses_are_what_each_operation_documents():
    eventify, amar, tickets = contract("eventify"), contract("amarevents"), contract("tickets")
    assert accepted_statuses(eventify.operations["registerUser"]) == ["2xx", "5xx"]
    assert accepted_statuses(eventify.operations["getEventDetails"]) == ["2xx", "401", "404", "5xx"]
    assert accepted_statuses(eventify.operations["loginUser"]) == ["2xx", "401", "5xx"]  # a wrong password
    # a 401 is the run's key refused: no evidence, and no verdict on the server
    assert set(accepted_statuses(amar.operations["createTicket"])) == {"2xx", "401", "403", "404", "409", "429", "5xx"}
    assert "400" not in {s for op in tickets.operations.values() for s in accepted_statuses(op)}


def test_both_entry_points_configure_the_same_statuses():
    """A schema loaded as `st run` loads it, and one built by `contract-test`, carry the same
    per-operation `positive_data_acceptance` statuses in Schemathesis's own configuration."""
    loaded = schemathesis.openapi.from_path(str(ROOT / "specs/amarevents.yaml"))
    built = build_schema(Run("amarevents", "http://127.0.0.1:9", demo_credentials("amarevents")), Options())
    ops = {r.ok().definition.raw["operationId"]: r.ok() for r in built.get_all_operations() if r.ok()}
    assert len(ops) > 30
    for op_id, operation in ops.items():
        expected = accepted_statuses(contract("amarevents").operations[op_id])
        for schema in (loaded, built):
            assert schema.config.checks_config_for(operation=operation).positive_data_acceptance.expected_statuses \
                == expected, op_id


def test_an_undocumented_refusal_of_a_valid_request_is_caught_by_st_run_too():
    breakage = _breakage("refuses a valid request with an undocumented 409")
    with running(breakage.slug, settings=Settings(), wrap=breakage.wrap) as server:
        done = subprocess.run([str(ST), "run", f"specs/{breakage.slug}.yaml", "--url", server.root, "--seed", "3",
                               "-n", "5", "--phases", "examples,fuzzing", "--include-operation-id", "listEventTypes"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
    # Schemathesis's own default accepts a 409 for any operation: this one does not document it
    assert done.returncode == 1, done.stdout[-3000:]
    assert "ST202 Schema-valid request rejected" in done.stdout and "409" in done.stdout, done.stdout[-3000:]


# --- uniqueness -----------------------------------------------------------------------------------

def test_a_real_uniqueness_refusal_is_excused_once_a_fresh_retry_is_accepted():
    """The documented example registers user@example.com, which the fixtures already hold: the
    mock refuses it as taken, the re-try with fresh values is accepted, and the run conforms."""
    with running("eventify", settings=Settings()) as server:
        result = execute(Run("eventify", server.base_url, demo_credentials("eventify")),
                         Options(max_examples=5, seed=7, phases=("examples",), include=("registerUser",)))
        users = httpx.get(server.root + "/__admin/state", timeout=10).json()["users"]
    # no violation; the only 2xx was the re-try's (Schemathesis did not record it), so the
    # coverage guard rightly finds no evidence from this one-case run
    assert not result.failures and not result.errors, \
        result.summary() + "\n" + "\n".join(f.describe() for f in result.failures)
    emails = [u["email"] for u in (users.values() if isinstance(users, dict) else users)]
    assert any(e.startswith("ct.") and e.endswith("@example.com") for e in emails), emails


def test_a_uniqueness_refusal_that_is_not_real_is_named_once():
    result = _run(_breakage("refuses every valid email as taken"))
    caught = [f for f in result.failures if f.rule == "unique_rejection_is_real"]
    assert caught, result.summary()
    assert "refused again" in caught[0].message and "Email is already registered." in caught[0].message
    assert "positive_data_acceptance" not in result.by_rule(), result.summary()  # one bug, one report


def test_st_run_names_a_uniqueness_refusal_that_is_not_real():
    breakage = _breakage("refuses every valid email as taken")
    with running(breakage.slug, settings=Settings(), wrap=breakage.wrap) as server:
        done = subprocess.run([str(ST), "run", f"specs/{breakage.slug}.yaml", "--url", server.root, "--seed", "3",
                               "-n", "5", "--phases", "examples", "--include-operation-id", "registerUser"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "`unique_rejection_is_real`" in done.stdout and "refused again" in done.stdout, done.stdout[-3000:]
    assert "Schema-valid request rejected" not in done.stdout, done.stdout[-3000:]


@pytest.mark.parametrize("schema", [{"type": "string", "format": "email"}, {"type": "string", "minLength": 40},
                                    {"type": "string", "minLength": 3, "maxLength": 5}, {"type": "integer"}])
def test_fresh_values_are_valid_for_their_field_and_never_repeat(schema):
    first, second = fresh_value(schema), fresh_value(schema)
    assert first is not None and first != second
    checker = jsonschema.Draft4Validator.FORMAT_CHECKER
    jsonschema.Draft4Validator(to_json_schema(schema), format_checker=checker).validate(first)


def test_no_fresh_value_where_the_schema_admits_none_it_can_make():
    assert fresh_value({"type": "string", "enum": ["a", "b"]}) is None
    assert fresh_value({"type": "string", "pattern": "^[0-9]+$"}) is None


def test_filters_honoured_passes_only_what_it_judged():
    operation = _bound("ecoevents", "listEvents")
    case = operation.Case(query={"status": "published"})
    shown = {"events": [{"id": "evt_1", "status": "published"}], "pagination": {}}
    hidden = {"events": [{"id": "evt_1", "name": "no status shown"}], "pagination": {}}
    wrong = {"events": [{"id": "evt_1", "status": "draft"}], "pagination": {}}
    assert filters_honoured(None, _Answer(200, shown), case) is None
    assert filters_honoured(None, _Answer(200, hidden), case) is True
    with pytest.raises(AssertionError, match="status='published' should return only matching items"):
        filters_honoured(None, _Answer(200, wrong), case)
