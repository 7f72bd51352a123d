"""The five specs: valid, complete against their documents, and usable by Schemathesis."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from apispec.lint import lint
from apispec.load import SLUGS, SPEC_DIR, load_spec, operations
from apispec.refs import resolve

SOURCES = SPEC_DIR / "sources"


@pytest.mark.parametrize("slug", SLUGS)
def test_spec_lints_clean(slug):
    """OpenAPI-valid, every $ref resolves, operationIds, 2xx + error responses, examples match."""
    assert lint(slug) == []


@pytest.mark.parametrize("slug", SLUGS)
def test_every_operation_uses_the_apis_own_error_body(slug):
    spec = load_spec(slug)
    error_schemas = {
        ref for ref in re.findall(r"#/components/schemas/\w+", str(spec["components"].get("responses")))
    }
    assert error_schemas, "the API's error body is not a shared component"
    for method, path, op in operations(spec):
        for status, response in op["responses"].items():
            if str(status)[0] in "45":
                response = resolve(spec, response)
                body = str(response.get("content", {}))
                assert "#/components/schemas/" in body, f"{method} {path} {status}: no shared error schema"


@pytest.mark.parametrize("slug", SLUGS)
def test_schemathesis_generates_a_valid_case_for_every_operation(slug):
    schema = schemathesis.openapi.from_path(str(SPEC_DIR / f"{slug}.yaml"))
    empty = []
    for result in schema.get_all_operations():
        operation = result.ok()
        cases = []

        @given(operation.as_strategy())
        @settings(max_examples=2, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def generate(case):
            cases.append(case)  # noqa: B023 (runs before the loop moves on)

        generate()
        if not cases:
            empty.append(f"{operation.method.upper()} {operation.path}")
    assert not empty, f"no valid case could be generated for {empty}"


# --- every operation the document names is in its spec -------------------------------------------

def _namak(text):
    # "GET\n\n/events\n\n<summary>"
    return [(m, "/v1" + p) for m, p in re.findall(r"^(GET|POST|PUT|DELETE)\n\n(/\S+)$", text, re.M)]


def _amarevents(text):
    found = []
    for method, path in re.findall(r"^(GET|POST|PUT|DELETE) (/[\w/{}\-]+)", text, re.M):
        found.append((method, path if path.startswith("/api/") else "/api" + path))
    return found


def _tickets(text):
    found = re.findall(r"`(GET|POST|PUT|DELETE) https://[^/]+(/api/[^`]*)`", text)
    return [(m, re.sub(r"<UUID>$", "{id}/", p)) for m, p in found]


def _ecoevents(text):
    found = re.findall(r"^(GET|POST|PUT|DELETE) (/api/\S+)$", text, re.M)
    return [(m, p.replace(":id", "{id}")) for m, p in found]


def _eventify(text):
    found = re.findall(r"\*\*Endpoint:\*\* `(GET|POST|PUT|DELETE) /?([^`]+)`", text)
    return [(m, "/api/" + p.lstrip("/")) for m, p in found]


DOCUMENTS = {
    # slug: (source files, how operations are written in it, how many it names)
    "namak": (["namak.txt"], _namak, 7),
    "amarevents": (["amarevents.txt"], _amarevents, 50),
    "tickets": (["tickets.md", *(f"tickets-includes/_{n}.md" for n in
                ("events", "products", "product_groups", "product_availabilities", "payment_methods"))],
                _tickets, 10),
    "ecoevents": (["ecoevents.txt"], _ecoevents, 5),
    "eventify": (["eventify.md"], _eventify, 11),
}


def _shape(path):
    return re.sub(r"\{[^}]*\}", "{}", path)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_documented_operation_is_in_the_spec(slug):
    files, parse, count = DOCUMENTS[slug]
    named = set()
    for name in files:
        named.update(parse((SOURCES / name).read_text(encoding="utf-8")))
    assert len(named) == count, f"the document names {len(named)} operations, expected {count}: {sorted(named)}"
    in_spec = {(method, _shape(path)) for method, path, _ in operations(load_spec(slug))}
    missing = sorted((m, p) for m, p in named if (m, _shape(p)) not in in_spec)
    assert not missing, f"operations the document names but the spec lacks: {missing}"
