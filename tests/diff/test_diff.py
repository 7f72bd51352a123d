"""specdiff (`specdiff`, `contract-test diff`, `python -m specdiff`): the walk (shared components,
refs, renamed path parameters, recursion), exit codes, the five real specs against themselves,
inputs (files, standard input, URLs, git revisions, `$ref`s across files) and the package's bounds.
The rules one by one: test_rules.py; the output formats and gates: test_output.py."""

from __future__ import annotations

import ast
import copy
import io
import os
import pathlib
import subprocess
import sys
import tomllib

import pytest
import yaml
from diffpairs import ALT_A, BODY, GET, OK, STR, _security_pair, api, obj, only_get, res

from apispec.load import SLUGS, spec_path
from contract_tests.cli import main as contract_test
from specdiff.cli import main
from specdiff.walk import compare

ROOT = pathlib.Path(__file__).resolve().parents[2]


# --- the walk: refs, shared components, paths, recursion ---------------------------------------

SHARED = """
openapi: 3.0.3
info: {title: Events, version: '1'}
paths:
  /api/events:
    get:
      operationId: listEvents
      responses:
        '200':
          description: Events
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Event'}}
    post:
      operationId: createEvent
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Event'}
      responses:
        '201': {$ref: '#/components/responses/OneEvent'}
  /api/events/{%s}:
    parameters:
    - {name: %s, in: path, required: true, schema: {type: string}}
    get:
      operationId: getEvent
      responses:
        '200': {$ref: '#/components/responses/OneEvent'}
components:
  responses:
    OneEvent:
      description: One event
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Event'}
  schemas:
    Event:
      type: object
      required: [name]
      properties:
        name: {type: string, maxLength: %d}
        %s: {type: string}
"""


def shared(param="id", max_length=100, title="title") -> dict:
    return yaml.safe_load(SHARED % (param, param, max_length, title))


def test_a_change_in_a_shared_component_is_reported_at_each_operation_using_it():
    changes = compare(shared(), shared(max_length=50, title="headline"))
    seen = {(c.id, c.location, c.level) for c in changes}
    assert seen == {
        ("request-property-max-length-decreased", "POST /api/events request body: name", "ERR"),
        ("response-property-max-length-decreased", "GET /api/events 200 response: [].name", "INFO"),
        ("response-property-max-length-decreased", "POST /api/events 201 response: name", "INFO"),
        ("response-property-max-length-decreased", "GET /api/events/{id} 200 response: name", "INFO"),
        # a rename is a removal plus an addition
        ("request-property-removed", "POST /api/events request body: title", "WARN"),
        ("new-optional-request-property", "POST /api/events request body: headline", "INFO"),
        ("response-optional-property-removed", "GET /api/events 200 response: [].title", "WARN"),
        ("response-optional-property-added", "GET /api/events 200 response: [].headline", "INFO"),
        ("response-optional-property-removed", "POST /api/events 201 response: title", "WARN"),
        ("response-optional-property-added", "POST /api/events 201 response: headline", "INFO"),
        ("response-optional-property-removed", "GET /api/events/{id} 200 response: title", "WARN"),
        ("response-optional-property-added", "GET /api/events/{id} 200 response: headline", "INFO"),
    }
    order = ["ERR", "WARN", "INFO"]
    assert [c.level for c in changes] == sorted((c.level for c in changes), key=order.index)  # ERR first


def test_paths_match_whatever_their_parameters_are_called():
    changes = compare(shared(param="id"), shared(param="eventId", max_length=50))
    assert ("path-parameter-renamed", "/api/events/{eventId}") in {(c.id, c.location) for c in changes}
    assert ("response-property-max-length-decreased", "GET /api/events/{eventId} 200 response: name") in {
        (c.id, c.location) for c in changes}
    assert not any(c.id.endswith(("removed", "added")) for c in changes)


def test_a_nullable_ref_written_either_way_is_the_same_schema():
    old = res({"allOf": [{"$ref": "#/components/schemas/Org"}], "nullable": True}, STR)[0]
    new = copy.deepcopy(old)
    new["components"]["schemas"]["Thing"]["properties"]["name"] = {
        "anyOf": [{"$ref": "#/components/schemas/Org"}, {"type": "object", "nullable": True, "enum": [None]}]}
    for doc in (old, new):
        doc["components"]["schemas"]["Org"] = obj({"id": STR})
    assert compare(old, new) == []


def test_a_schema_that_becomes_a_choice_is_compared_with_its_own_branch():
    old, new = res({"$ref": "#/components/schemas/A"},
                   {"oneOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}]})
    for doc in (old, new):
        doc["components"]["schemas"].update(copy.deepcopy(ALT_A))
    new["components"]["schemas"]["A"]["properties"]["a"] = {"type": "integer"}
    assert {(c.id, c.location) for c in compare(old, new)} == {
        ("response-property-one-of-added", f"{OK}: name<B>"), ("response-property-type-changed", f"{OK}: name<A>.a")}


def test_recursive_schemas_terminate_and_are_compared():
    children = {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}
    node = {"type": "object", "properties": {"label": STR, "children": children}}
    old, new = api(copy.deepcopy(node)), api(copy.deepcopy(node))
    assert compare(old, old) == []
    new["components"]["schemas"]["Thing"]["properties"]["label"] = {"type": "integer"}
    assert {c.location for c in compare(old, new)} == {f"{BODY}: label", f"{OK}: label"}


def test_read_only_fields_are_not_request_fields():
    old = api(obj({"name": STR}))
    new = api(obj({"name": STR, "id": {**STR, "readOnly": True}}, ["id"]))
    assert {(c.id, c.location) for c in compare(old, new)} == {("response-required-property-added", f"{OK}: id")}


def test_a_public_operation_made_optional_auth_is_not_breaking():
    old, new = _security_pair([], [{}, {"bearer": []}])
    assert [c.breaking for c in compare(old, new)] == []


def test_document_wide_security_applies_to_operations_without_their_own():
    old = only_get()
    new = only_get()
    new["security"] = [{"bearer": []}]
    assert [(c.id, c.location) for c in compare(old, new)] == [("security-added", f"{GET} security")]


# --- the command -------------------------------------------------------------------------------

def write(tmp_path, name: str, doc) -> str:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("slug", SLUGS)
def test_each_real_spec_against_itself_has_no_changes(slug, capsys):
    path = str(spec_path(slug))
    assert main([path, path]) == 0
    assert "no changes" in capsys.readouterr().out


def test_exit_0_when_only_compatible(tmp_path, capsys):
    old, new = write(tmp_path, "old.yaml", api()), write(tmp_path, "new.yaml", api(obj({"name": STR, "x": STR})))
    assert main([old, new]) == 0
    assert capsys.readouterr().out.startswith("no breaking changes (")     # INFO changes: only with --changelog
    assert main([old, new, "--changelog"]) == 0
    out = capsys.readouterr().out
    assert "INFO  GET /api/things/{id} 200 response: x  [response-optional-property-added] added" in out
    assert "verdict: compatible" in out


def test_exit_1_when_anything_breaks(tmp_path, capsys):
    old, new = write(tmp_path, "old.yaml", api(obj({"name": STR, "x": STR}))), write(tmp_path, "new.yaml", api())
    assert main([old, new]) == 1
    out = capsys.readouterr().out
    assert "WARN  GET /api/things/{id} 200 response: x  [response-optional-property-removed] removed" in out
    assert "verdict: BREAKS" in out


def test_the_contract_test_command_dispatches_diff(tmp_path, capsys):
    old = write(tmp_path, "old.yaml", api())
    assert contract_test(["diff", old, old]) == 0
    assert "no changes" in capsys.readouterr().out


def test_old_from_standard_input(tmp_path, monkeypatch, capsys):
    new = write(tmp_path, "new.yaml", api())
    monkeypatch.setattr("sys.stdin", io.StringIO(yaml.safe_dump(api(obj({"name": STR, "x": STR})))))
    assert main(["-", new]) == 1


@pytest.mark.parametrize("old, message", [
    (None, "cannot read"),                                                  # missing file
    ("paths: {a: [1, 2\n", "not valid YAML at line"),                       # bad YAML
    ("just: a mapping\n", "not an OpenAPI 3 document"),                     # not OpenAPI
    ("- a list\n", "not an OpenAPI 3 document"),
    ("swagger: '2.0'\npaths: {}\n", "not an OpenAPI 3 document"),
    ("openapi: 3.0.3\ninfo: {title: t, version: '1'}\n", "no 'paths' mapping"),
    ("openapi: 3.0.3\npaths:\n  /a:\n    get:\n      responses:\n        '200': {$ref: '#/nowhere'}\n",
     "unresolved $ref #/nowhere"),
])
def test_exit_2_on_unreadable_input_with_one_line(tmp_path, capsys, old, message):
    good = write(tmp_path, "good.yaml", api())
    bad = str(tmp_path / "missing.yaml") if old is None else write(tmp_path, "bad.yaml", old)
    for argv in ([bad, good], [good, bad]):
        for command, prog in ((main, "specdiff"), (lambda a: contract_test(["diff", *a]), "contract-test diff")):
            assert command(argv) == 2
            captured = capsys.readouterr()
            assert captured.out == ""
            assert captured.err.startswith(f"{prog}: ") and message in captured.err
            assert captured.err.count("\n") == 1


@pytest.mark.parametrize("argv", [[], ["one.yaml"], ["a.yaml", "b.yaml", "--format", "pdf"],
                                  ["a.yaml", "b.yaml", "--fail-on", "NEVER"]])
def test_exit_2_on_bad_usage(argv, capsys):
    assert main(argv) == 2


def test_python_dash_m_specdiff_is_the_command(tmp_path):
    old, new = write(tmp_path, "old.yaml", api(obj({"name": STR, "x": STR}))), write(tmp_path, "new.yaml", api())
    done = subprocess.run([sys.executable, "-m", "specdiff", old, new], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "[response-optional-property-removed]" in done.stdout


def test_the_specdiff_script_runs_the_same_main():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["specdiff"] == f"{main.__module__}:{main.__name__}"


# --- the package -------------------------------------------------------------------------------

def test_specdiff_imports_only_the_kernel_of_the_project():
    """specdiff reads specs through apispec and nothing else of the project: no mock, no harness."""
    for module in sorted((ROOT / "specdiff").glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0}
        outside = {name for name in imported if name.split(".")[0] in {"mockserver", "contract_tests"}}
        assert not outside, f"{module.name} imports {sorted(outside)}"
