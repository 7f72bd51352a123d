"""`Prefer: code=NNN` forces an operation's documented answer for that status, after
authentication, rate limiting and validation, without touching the store.

Every documented status of every operation of every API is forced over HTTP against a mock
with response validation on, so each forced answer must conform to its spec (a 500 otherwise)."""

from __future__ import annotations

import json

import httpx
import pytest

from contract_tests.spec import contract
from mockserver.app import Settings
from mockserver.testing import running

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
        if isinstance(example, dict) and op.ext("body-auth"):
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
    op = next(op for op in contract(slug).operations.values() if op.method.upper() == "GET" or op.ext("body-auth"))
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
              if op.spec.get("security", spec.raw.get("security")) or op.ext("body-auth"))
    method, path, headers, content = _request(slug, op)
    if op.ext("body-auth"):
        content = json.dumps({**json.loads(content), "token": "not-a-token"}).encode()
        headers = {**headers}
    else:
        headers = {k: v for k, v in headers.items() if k != "Authorization"}
    answer = httpx.request(method, server.root + path, content=content, timeout=10,
                           headers={**headers, "Prefer": "code=500"})
    assert answer.status_code == 401
