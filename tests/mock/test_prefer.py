"""`Prefer` (Prism's vocabulary). `code=NNN` forces an operation's documented answer for that status, after
authentication, rate limiting and validation, without touching the store.

Every documented status of every operation of every API is forced over HTTP against a mock
with response validation on, so each forced answer must conform to its spec (a 500 otherwise)."""

from __future__ import annotations

import json

import httpx
import jsonschema
import pytest

from apispec import ext
from apispec.model import contract
from apispec.schema import to_json_schema
from mockserver.app import Settings
from mockserver.testing import running
from mockserver.validation import FORMAT_CHECKER

# the demo credentials with the widest access, and the id each API's {id} paths are filled with
SETUP = {
    "namak": ({"Authorization": "Bearer YOUR_API_KEY"}, {}, "evt_123"),
    "ecoevents": ({"Authorization": "Bearer YOUR_API_KEY"}, {}, "evt_1a2b3c4d5e6f"),
    "amarevents": ({"Authorization": "Bearer ae_a_demo"}, {}, "10"),
    "tickets": ({"Authorization": "Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"}, {},
                "166a1ddb-492c-49a0-a84c-2465b9b43f01"),
    "eventify": ({}, {"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", "username": "john_doe"}, "1"),
}


def _value(param: dict) -> str:
    schema = param.get("schema", {})
    for candidate in (param.get("example"), schema.get("example"), (schema.get("enum") or [None])[0],
                      schema.get("default")):
        if candidate is not None:
            return str(candidate).lower() if isinstance(candidate, bool) else str(candidate)
    return {"integer": "1", "number": "1", "boolean": "true"}.get(schema.get("type"), "x")


def _request(slug: str, op) -> tuple[str, str, dict, bytes | None]:
    """A valid request for `op`: the documented body example, required parameters filled in."""
    headers, body_credentials, some_id = SETUP[slug]
    path = op.path
    query = {}
    for param in op.parameters:
        if param["in"] == "path":
            path = path.replace("{" + param["name"] + "}", some_id if param["name"].endswith("id") else _value(param))
        elif param["in"] == "query" and param.get("required"):
            query[param["name"]] = _value(param)
    content = None
    if op.spec.get("requestBody"):
        media = op.spec["requestBody"]["content"]["application/json"]
        example = media.get("example", next(iter(media.get("examples", {}).values()), {}).get("value"))
        if isinstance(example, dict) and ext.credentials.body_auth(op):
            example = {**example, **body_credentials}
        content = json.dumps(example).encode()
        headers = {**headers, "Content-Type": "application/json"}
    if query:
        path += "?" + str(httpx.QueryParams(query))
    return op.method.upper(), path, headers, content


def _keys(slug: str, headers: dict):
    if slug != "amarevents":
        return [headers]
    return [{**headers, "Authorization": f"Bearer ae_{kind}_demo"} for kind in "aou"]


def _forcible(slug: str):
    for op in contract(slug).operations.values():
        for status in op.spec["responses"]:
            if str(status).isdigit() and int(status) != op.success_status():
                yield op, int(status)


@pytest.fixture(scope="module", params=sorted(SETUP))
def served(request):
    with running(request.param, settings=Settings(validate_responses=True, rate_limits={"limit": 10**9})) as server:
        yield request.param, server


def _state(server) -> dict:
    state = httpx.get(server.root + "/__admin/state", timeout=10).json()
    for key in state.get("keys", []):
        key.pop("last_used_at", None)  # authenticating a request stamps its key
    return state


def test_every_documented_status_can_be_forced(served):
    slug, server = served
    before = _state(server)
    forced = 0
    with httpx.Client(base_url=server.root, timeout=10) as http:
        for op, status in _forcible(slug):
            method, path, headers, content = _request(slug, op)
            media = (op.response(status).get("content") or {}).get("application/json", {})
            examples = ([media["example"]] if "example" in media
                        else [e["value"] for e in (media.get("examples") or {}).values()])
            for key in _keys(slug, headers):  # Amar: the first demo key whose type and permissions admit it
                answer = http.request(method, path, headers={**key, "Prefer": f"code={status}"}, content=content)
                if answer.status_code == status and (not examples or answer.json() == examples[0]):
                    break
            assert answer.status_code == status, (op.operation_id, status, answer.text[:300])
            if examples:
                assert answer.json() == examples[0]  # the documented answer, as documented
            elif status >= 400:
                assert f"Prefer: code={status}" in answer.text
            forced += 1
    assert forced > 10
    assert _state(server) == before  # forcing an answer changes nothing


def test_the_success_status_runs_the_operation(served):
    slug, server = served
    op = next(op for op in contract(slug).operations.values() if op.method.upper() == "GET"
              or ext.credentials.body_auth(op))
    method, path, headers, content = _request(slug, op)
    plain = httpx.request(method, server.root + path, headers=headers, content=content, timeout=10)
    preferred = httpx.request(method, server.root + path, content=content, timeout=10,
                              headers={**headers, "Prefer": f"code={op.success_status()}"})
    assert (preferred.status_code, preferred.json()) == (plain.status_code, plain.json())


def test_an_undocumented_status_is_the_apis_400_naming_the_documented_ones(served):
    slug, server = served
    op = next(iter(contract(slug).operations.values()))
    method, path, headers, content = _request(slug, op)
    answer = httpx.request(method, server.root + path, content=content, timeout=10,
                           headers={**headers, "Prefer": "code=418"})
    assert answer.status_code == 400
    assert "418" in answer.text and str(op.success_status()) in answer.text


def test_credentials_are_checked_before_an_answer_is_forced(served):
    slug, server = served
    spec = contract(slug)
    op = next(op for op in spec.operations.values()
              if op.spec.get("security", spec.raw.get("security")) or ext.credentials.body_auth(op))
    method, path, headers, content = _request(slug, op)
    if ext.credentials.body_auth(op):
        content = json.dumps({**json.loads(content), "token": "not-a-token"}).encode()
        headers = {**headers}
    else:
        headers = {k: v for k, v in headers.items() if k != "Authorization"}
    answer = httpx.request(method, server.root + path, content=content, timeout=10,
                           headers={**headers, "Prefer": "code=500"})
    assert answer.status_code == 401


# ---- example=, dynamic=, seed= and malformed preferences ------------------------------------------

def _documented(slug: str):
    """(operation, status, its JSON response schema or None) for every documented status."""
    for op in contract(slug).operations.values():
        for status, response in op.spec["responses"].items():
            if str(status).isdigit():
                media = (response.get("content") or {}).get("application/json") or {}
                yield op, int(status), media.get("schema")


def _answer(http, slug, op, prefer: str, status: int | None = None):
    """The answer for `op` with `prefer`, from the first demo key that reaches the handler (Amar: its
    key types and permissions) or answers `status`."""
    method, path, headers, content = _request(slug, op)
    for key in _keys(slug, headers):
        answer = http.request(method, path, headers={**key, "Prefer": prefer}, content=content)
        if answer.status_code == status or answer.status_code not in (401, 403) or "Prefer" in answer.text:
            break
    return answer


def test_dynamic_answers_conform_and_the_same_seed_gives_the_same_body(served):
    """Every documented status with a JSON schema, generated: response validation is on in the mock (a
    body or header that breaks the spec would be a 500), and the schema is checked here again."""
    slug, server = served
    before = _state(server)
    generated = differing = 0
    with httpx.Client(base_url=server.root, timeout=10) as http:
        for op, status, schema in _documented(slug):
            if op.method.upper() == "DELETE" and status == op.success_status():
                continue
            first = _answer(http, slug, op, f"code={status}, dynamic=true, seed=7", status)
            if first.status_code in (401, 403) and status not in (401, 403):
                continue  # no demo key may call it (Amar's session-only operations)
            assert first.status_code == status, (op.operation_id, status, first.text[:300])
            if schema is None or status == 204:
                continue
            validator = jsonschema.Draft4Validator(to_json_schema(schema), format_checker=FORMAT_CHECKER)
            assert not list(validator.iter_errors(first.json())), (op.operation_id, status, first.text[:300])
            again = _answer(http, slug, op, f"code={status}; dynamic=true; seed=7", status)
            assert again.json() == first.json(), (op.operation_id, status)
            other = _answer(http, slug, op, f"code={status}, dynamic=true, seed=8", status)
            differing += other.json() != first.json()
            generated += 1
    assert generated > 5 and differing > generated // 2
    assert _state(server) == before  # a generated answer changes nothing


def test_dynamic_alone_generates_the_success_answer_without_running_the_operation(served):
    slug, server = served
    op = next(op for op in contract(slug).operations.values()
              if (op.resource or {}).get("action") == "create" or op.method.upper() == "POST")
    before = _state(server)
    with httpx.Client(base_url=server.root, timeout=10) as http:
        answer = _answer(http, slug, op, "dynamic=true, seed=1")
    assert answer.status_code == op.success_status(), answer.text[:300]
    assert _state(server) == before


def test_a_named_example_is_answered_as_documented():
    """Eventify documents named examples (`examples:` maps) on its 400 and 401 answers."""
    with running("eventify", settings=Settings(validate_responses=True)) as server, \
            httpx.Client(base_url=server.root, timeout=10) as http:
        named = 0
        for op, status, _schema in _documented("eventify"):
            media = (op.response(status).get("content") or {}).get("application/json") or {}
            for name, example in (media.get("examples") or {}).items():
                answer = _answer(http, "eventify", op, f"code={status}, example={name}", status)
                assert (answer.status_code, answer.json()) == (status, example["value"]), (op.operation_id, name)
                named += 1
        assert named >= 6
        month = contract("eventify").operations["getEventsByMonthYear"]
        unknown = _answer(http, "eventify", month, "code=400, example=nope")
    assert unknown.status_code == 400
    assert unknown.json()["status"] == "error"  # Eventify's own error body
    assert "example=nope" in unknown.text and "invalidMonth" in unknown.text and "missingMonthYear" in unknown.text


def test_an_unknown_example_is_the_apis_400_naming_the_examples(served):
    slug, server = served
    op = next(op for op in contract(slug).operations.values() if op.method.upper() == "GET"
              or ext.credentials.body_auth(op))
    with httpx.Client(base_url=server.root, timeout=10) as http:
        answer = _answer(http, slug, op, "example=nope")
    assert answer.status_code == 400
    assert "example=nope" in answer.text and "named examples: none" in answer.text


@pytest.mark.parametrize("prefer, named", [
    ("code=abc", "code=abc is not an HTTP status"),
    ("cod=500", "unknown preference 'cod=500'"),
    ("code=500, code=404", "code= given twice"),
    ("dynamic=yes", "dynamic=yes: true or false"),
    ("seed=3", "seed= goes with dynamic=true"),
    ("delay=60001", "delay=60001: milliseconds"),
    ("fault=EXPLODE", "fault=EXPLODE is not one of"),
    ("example=", "example= needs a value"),
])
def test_a_malformed_prefer_is_the_apis_400_naming_the_accepted_forms(served, prefer, named):
    slug, server = served
    op = next(op for op in contract(slug).operations.values() if op.method.upper() == "GET"
              or ext.credentials.body_auth(op))
    with httpx.Client(base_url=server.root, timeout=10) as http:
        plain = _answer(http, slug, op, "return=minimal")  # RFC 7240's own preferences are ignored
        answer = _answer(http, slug, op, prefer)
        refused = _answer(http, slug, op, "code=418")  # the API's 400, as the mock renders it
    assert plain.status_code == op.success_status()
    assert answer.status_code == 400, answer.text
    assert named in answer.text and "Accepted: code=NNN" in answer.text and "dynamic=true|false" in answer.text
    assert _shape(answer.json()) == _shape(refused.json())  # the API's own error body


def _shape(body):
    """A body's keys and value types (a DRF body keys by the field at fault: its name is left out)."""
    if isinstance(body, dict):
        return sorted((key if key not in ("Prefer", "non_field_errors") else "{field}", _shape(value))
                      for key, value in body.items())
    if isinstance(body, list):
        return [_shape(v) for v in body[:1]]
    return type(body).__name__
