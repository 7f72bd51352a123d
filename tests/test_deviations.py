"""classify, case by case: what rests only on what a document does not state is a deviation;
everything else is a violation. Hand-built cases and answers; the proof over HTTP is in
tests/harness/test_variants.py."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from schemathesis.core import NOT_SET

from apispec.ext import inferred
from apispec.lint import _inferred_marks
from apispec.model import contract
from apispec.schema import schema_errors
from contract_tests.deviations import classify
from contract_tests.rules.errors import shape_errors


def case(slug, op_id, *, query=None, path=None, body=NOT_SET, headers=None):
    op = contract(slug).operations[op_id]
    return SimpleNamespace(method=op.method.upper(), path=op.path, path_parameters=path or {}, query=query or {},
                           headers=headers or {}, cookies={}, body=body, meta=None,
                           operation=SimpleNamespace(definition=SimpleNamespace(raw={"operationId": op_id})))


def answer(status, body=None, headers=None):
    content = b"" if body is None else json.dumps(body).encode()
    return SimpleNamespace(status_code=status, headers=headers or {}, content=content,
                           json=lambda: json.loads(content))


def judge(rule, slug, the_case, the_answer):
    return classify(rule, None, the_case, the_answer, contract(slug))


ECO_EVENT = {"name": "Summit", "location": {"city": "Oslo"}, "startDate": "2026-06-15T09:00:00Z",
             "endDate": "2026-06-17T18:00:00Z", "capacity": 500, "category": "conference"}
ECO_400 = {"error": {"code": "INVALID_REQUEST", "message": "endDate must not be before startDate"}}


# --- negative_data_rejection: a schema-violating request accepted --------------------------------

@pytest.mark.parametrize("slug, op_id, kwargs, deviation", [
    # bounds the document states but does not say are refused
    ("ecoevents", "listEvents", {"query": {"limit": 101}}, True),
    ("ecoevents", "listEvents", {"query": {"limit": "101"}}, True),     # as the coverage phase sends it
    ("namak", "listEvents", {"query": {"limit": 0}}, True),             # an inferred minimum
    ("ecoevents", "createEvent", {"body": {**ECO_EVENT, "capacity": 0}}, True),
    ("ecoevents", "createEvent", {"body": {**ECO_EVENT, "startDate": "soon"}}, True),   # format
    ("namak", "createEvent", {"body": {"title": "", "date": "2024-07-15T09:00:00Z", "location": {}}}, True),
    # a required body the document does not require
    ("ecoevents", "updateEvent", {"path": {"id": "evt_1a2b3c4d5e6f"}}, True),
    ("namak", "updateEvent", {"path": {"id": "evt_123"}}, True),
    # what the document does state
    ("ecoevents", "listEvents", {"query": {"limit": "many"}}, False),   # limit is an integer
    ("ecoevents", "listEvents", {"query": {"status": "open"}}, False),  # the documented statuses
    ("ecoevents", "createEvent", {"body": {**ECO_EVENT, "capacity": "500"}}, False),
    ("ecoevents", "createEvent", {"body": {k: v for k, v in ECO_EVENT.items() if k != "name"}}, False),
    ("namak", "createEvent", {"body": {"date": "2024-07-15T09:00:00Z", "location": {}}}, False),
    ("namak", "createEvent", {"body": NOT_SET}, False),
    # a bound whose breach the document does say is refused (its x-messages)
    ("eventify", "getEventsByMonthYear", {"body": {"token": "t", "username": "u", "month": "Smarch", "year": 2025}},
     False),
    # a bound breached beside a documented rule: still a violation
    ("ecoevents", "createEvent", {"body": {**ECO_EVENT, "capacity": 0, "name": 5}}, False),
])
def test_accepting_a_schema_violating_request(slug, op_id, kwargs, deviation):
    why = judge("negative_data_rejection", slug, case(slug, op_id, **kwargs), answer(200, {}))
    assert (why is not None) == deviation, why


# --- positive_data_acceptance: a valid request refused ---------------------------------------------

def test_a_business_rule_in_the_apis_error_body_naming_a_field_is_a_deviation():
    why = judge("positive_data_acceptance", "ecoevents", case("ecoevents", "createEvent", body=ECO_EVENT),
                answer(400, ECO_400))
    assert "endDate" in why
    big = {**ECO_EVENT, "capacity": 2**53 + 1}
    refused = {"error": {"code": "INVALID_REQUEST", "message": "capacity is too large", "details": {"max": 2**53}}}
    assert "capacity" in judge("positive_data_acceptance", "ecoevents", case("ecoevents", "createEvent", body=big),
                               answer(400, refused))


@pytest.mark.parametrize("status, body", [
    (400, {"message": "endDate must not be before startDate"}),             # not the API's error body
    (400, {"error": {"code": "INVALID_REQUEST", "message": "Invalid request"}}),  # names no field
    (400, {"error": {"code": "INVALID_REQUEST", "message": "category"}}),    # a field the request lacks
    (500, {"error": {"code": "INTERNAL_ERROR", "message": "endDate broke us"}}),
    (403, {"error": {"code": "FORBIDDEN", "message": "endDate"}}),
])
def test_other_refusals_of_a_valid_request_are_violations(status, body):
    sent = {k: v for k, v in ECO_EVENT.items() if k != "category"}
    assert judge("positive_data_acceptance", "ecoevents", case("ecoevents", "createEvent", body=sent),
                 answer(status, body)) is None


def test_a_refusal_naming_only_a_unique_or_credential_field_is_a_violation():
    body = {"email": "a@example.com", "phone_number": "123", "password": "secret123"}
    refused = answer(400, {"status": "error", "errors": {"email": ["Enter a valid email."]}})
    assert judge("positive_data_acceptance", "eventify", case("eventify", "registerUser", body=body), refused) is None


# --- statuses and answers ----------------------------------------------------------------------------

def test_a_success_status_the_document_does_not_state():
    assert judge("status_code_conformance", "ecoevents", case("ecoevents", "createEvent", body=ECO_EVENT),
                 answer(200, {})) is not None                     # EcoEvents never says 201
    assert judge("status_code_conformance", "namak", case("namak", "createEvent", body={}),
                 answer(200, {})) is None                         # Namak's table says 201 Created
    assert judge("status_code_conformance", "ecoevents", case("ecoevents", "getEvent", path={"id": "x"}),
                 answer(204)) is None                             # a read's 200 is documented


def test_an_answer_judged_by_the_spec_where_the_document_is_silent():
    get = case("namak", "getEvent", path={"id": "evt_123"})
    assert judge("response_schema_conformance", "namak", get, answer(400, {"message": "bad"})) is not None
    event = {"id": "evt_123", "date": "2024-07-15T09:00:00Z", "location": {}, "attendees": 1, "capacity": None,
             "status": "active"}
    assert judge("response_schema_conformance", "namak", get, answer(200, event)) is None   # title missing
    assert judge("response_schema_conformance", "namak", get,
                 answer(200, {**event, "title": "T", "capacity": "200"})) is None           # [nullable] only


def test_headers_whose_names_are_inferred():
    listing = case("namak", "listEvents")
    assert judge("response_headers_conformance", "namak", listing, answer(200, {})) is not None


def test_a_capped_page_size_that_the_page_reports():
    listing = case("ecoevents", "listEvents", query={"limit": "101"})
    page = {"events": [], "pagination": {"page": 1, "limit": 100, "total": 0, "totalPages": 0,
                                         "hasNext": False, "hasPrev": False}}
    assert judge("page_metadata_consistent", "ecoevents", listing, answer(200, page)) is not None
    page["pagination"]["limit"] = 20
    assert judge("page_metadata_consistent", "ecoevents", listing, answer(200, page)) is None
    within = case("ecoevents", "listEvents", query={"limit": "100"})
    assert judge("page_metadata_consistent", "ecoevents", within, answer(200, page)) is None


def test_a_failure_without_an_answer_is_not_excused():
    assert judge("negative_data_rejection", "ecoevents", case("ecoevents", "updateEvent", path={"id": "x"}),
                 None) is None


def test_rules_about_the_document_itself_are_never_deviations():
    assert judge("filters_honoured", "ecoevents", case("ecoevents", "listEvents"), answer(200, {})) is None
    assert judge("use_after_free", "namak", case("namak", "deleteEvent", path={"id": "evt_123"}),
                 answer(200, {})) is None


# --- what the specs admit outright ------------------------------------------------------------------

def test_the_specs_admit_the_silent_documents_alternatives():
    namak, eco = contract("namak"), contract("ecoevents")
    delete = namak.operations["deleteEvent"]
    assert delete.success_status() == 204                          # the mock's answer
    assert inferred.is_alternative(delete.response(200))          # the other one the document allows
    assert schema_errors(namak.raw, delete.response_schema(200), {"id": "evt_123", "title": "T"}) == []
    for spec, op_id, event in ((namak, "getEvent", {"id": "evt_1", "title": "T", "date": "2024-07-15T09:00:00Z",
                                                      "location": {}, "attendees": 0, "capacity": None,
                                                      "status": "draft"}),
                               (eco, "getEvent", {**ECO_EVENT, "id": "evt_1a2b3c4d5e6f", "status": "draft",
                                                  "createdAt": "2026-03-05T10:30:00Z",
                                                  "updatedAt": "2026-03-05T10:30:00Z"})):
        schema = spec.operations[op_id].response_schema()
        assert schema_errors(spec.raw, schema, {**event, "description": None}) == []
        assert schema_errors(spec.raw, schema, {**event, "description": 5}) != []


def test_an_error_body_may_carry_more_than_its_template():
    template = contract("ecoevents").error_template(400)
    assert shape_errors(template, {**ECO_400, "details": ["x"]}) == []
    assert shape_errors(template, {"error": {**ECO_400["error"], "details": {"field": "endDate"}}}) == []
    assert shape_errors(template, {"details": "x"}) != []           # what it names must be there


def test_an_inferred_mark_is_true_or_keywords_of_its_schema():
    assert _inferred_marks({"type": "integer", "minimum": 1, "x-inferred": ["minimum"]}) == []
    assert _inferred_marks({"type": "integer", "x-inferred": True}) == []
    assert _inferred_marks({"type": "integer", "x-inferred": ["maximum"]}) != []
    assert _inferred_marks({"type": "integer", "x-inferred": "yes"}) != []
