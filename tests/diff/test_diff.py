"""specdiff (`specdiff`, `contract-test diff`, `python -m specdiff`): every rule on a spec pair (found,
classed, located), exit codes, the five real specs against themselves, shared components, and the
three output formats."""

from __future__ import annotations

import ast
import copy
import io
import json
import os
import pathlib
import subprocess
import sys
import tomllib

import pytest
import yaml

from apispec.load import SLUGS, spec_path
from contract_tests.cli import main as contract_test
from specdiff.cli import main
from specdiff.rules import RULES
from specdiff.walk import compare

ROOT = pathlib.Path(__file__).resolve().parents[2]

# --- spec pairs --------------------------------------------------------------------------------

THINGS, THING = "/api/things", "/api/things/{id}"
POST, GET = f"POST {THINGS}", f"GET {THING}"
BODY, OK = f"{POST} request body", f"{GET} 200 response"
ID_PARAM = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
SCHEMES = {"bearer": {"type": "http", "scheme": "bearer"},
           "apiKey": {"type": "apiKey", "in": "header", "name": "X-Key"}}


def document(paths: dict, schemas: dict | None = None, **top) -> dict:
    doc = {"openapi": "3.0.3", "info": {"title": "Things", "version": "1"}, "paths": paths,
           "components": {"schemas": schemas or {}, "securitySchemes": copy.deepcopy(SCHEMES)}}
    doc.update(top)
    return doc


def json_content(schema) -> dict:
    return {"application/json": {"schema": schema}}


def api(thing: dict | None = None, *, post: dict | None = None, get: dict | None = None, **top) -> dict:
    """POST /api/things (body: Thing, 201) and GET /api/things/{id} (200: Thing); `post` and `get`
    replace parts of those operations."""
    create = {"operationId": "createThing", "responses": {"201": {"description": "Created"}},
              "requestBody": {"required": True, "content": json_content({"$ref": "#/components/schemas/Thing"})}}
    read = {"operationId": "getThing", "parameters": [ID_PARAM],
            "responses": {"200": {"description": "The thing",
                                  "content": json_content({"$ref": "#/components/schemas/Thing"})},
                          "404": {"description": "No such thing"}}}
    create = {k: v for k, v in {**create, **(post or {})}.items() if v is not None}
    read = {k: v for k, v in {**read, **(get or {})}.items() if v is not None}
    schemas = {"Thing": thing if thing is not None else obj({"name": {"type": "string"}})}
    return document({THINGS: {"post": create}, THING: {"get": read}}, schemas, **top)


def obj(properties: dict, required=()) -> dict:
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def field(old: dict, new: dict) -> tuple[dict, dict]:
    """Thing's `name` field changed from `old` to `new` (in both the request and the response)."""
    return api(obj({"name": old})), api(obj({"name": new}))


def req(old: dict, new: dict) -> tuple[dict, dict]:
    """A change seen only in the request body: a Thing used only by POST."""
    return (api(get={"responses": {"204": {"description": "ok"}}}, thing=obj({"name": old})),
            api(get={"responses": {"204": {"description": "ok"}}}, thing=obj({"name": new})))


def res(old: dict, new: dict) -> tuple[dict, dict]:
    """A change seen only in the response: a Thing used only by GET."""
    return (api(post={"requestBody": None}, thing=obj({"name": old})),
            api(post={"requestBody": None}, thing=obj({"name": new})))


def get_op(**parts) -> dict:
    op = {"operationId": "getThing", "parameters": [ID_PARAM], "responses": {"200": {"description": "ok"}}}
    op.update(parts)
    return op


def only_get(**parts) -> dict:
    return document({THING: {"get": get_op(**parts)}})


def query(name="q", **extra) -> dict:
    return {"name": name, "in": "query", "schema": {"type": "string"}, **extra}


def post_only(**parts) -> dict:
    op = {"operationId": "createThing", "responses": {"201": {"description": "ok"}}}
    op.update(parts)
    return document({THINGS: {"post": op}})


def body(required=True, media=("application/json",)) -> dict:
    return {"required": required, "content": {m: {"schema": {"type": "object"}} for m in media}}


def responding(statuses: dict) -> dict:
    return only_get(responses=statuses)


def status(description="ok", **parts) -> dict:
    return {"description": description, **parts}


STR, NUM, ARRAY = {"type": "string"}, {"type": "number"}, {"type": "array", "items": {"type": "string"}}


# --- one case per rule (kind, old, new, location, breaking) ------------------------------------

def case(kind: str, pair: tuple[dict, dict], location: str, breaking: bool, also: int = 0):
    """`also`: how many other changes the pair is expected to make besides this one."""
    return pytest.param(kind, *pair, location, breaking, also, id=kind)


def _bound_cases():
    """Every bound keyword, both directions, tightened and loosened."""
    samples = {  # keyword: (schema it lives on, value in OLD, tighter, looser)
        "maximum": (NUM, 10, 5, 20), "minimum": (NUM, 5, 10, 1),
        "maxLength": (STR, 10, 5, 20), "minLength": (STR, 5, 10, 1),
        "maxItems": (ARRAY, 10, 5, 20), "minItems": (ARRAY, 5, 10, 1),
        "maxProperties": ({"type": "object"}, 10, 5, 20), "minProperties": ({"type": "object"}, 5, 10, 1),
    }
    for keyword, (base, old, tighter, looser) in samples.items():
        for direction, pair, where in (("request", req, BODY), ("response", res, OK)):
            for change, value, breaking in (("tightened", tighter, direction == "request"),
                                            ("loosened", looser, direction == "response")):
                yield case(f"{direction}-{keyword}-{change}",
                           pair({**base, keyword: old}, {**base, keyword: value}), f"{where}: name", breaking)


def _keyword_cases():
    for keyword, value, other in (("pattern", "^[a-z]+$", "^[a-z0-9]+$"), ("format", "email", "uri")):
        for direction, pair, where, breaking in (
                ("request", req, BODY, {"added": True, "changed": True, "removed": False}),
                ("response", res, OK, {"added": False, "changed": True, "removed": True})):
            yield case(f"{direction}-{keyword}-added", pair(STR, {**STR, keyword: value}), f"{where}: name",
                       breaking["added"])
            yield case(f"{direction}-{keyword}-changed", pair({**STR, keyword: value}, {**STR, keyword: other}),
                       f"{where}: name", breaking["changed"])
            yield case(f"{direction}-{keyword}-removed", pair({**STR, keyword: value}, STR), f"{where}: name",
                       breaking["removed"])


def _security_pair(old, new, old_schemes=None, new_schemes=None):
    a, b = only_get(), only_get()
    if old is not None:
        a["paths"][THING]["get"]["security"] = old
    if new is not None:
        b["paths"][THING]["get"]["security"] = new
    if old_schemes:
        a["components"]["securitySchemes"] = old_schemes
    if new_schemes:
        b["components"]["securitySchemes"] = new_schemes
    return a, b


def _two_ops(old_methods: dict, new_methods: dict):
    return document(old_methods), document(new_methods)


OTHER = "/api/other"
TWO_METHODS = {THING: {"get": get_op(), "delete": get_op(operationId="deleteThing")}}
ONE_METHOD = {THING: {"get": get_op()}}
WITH_OTHER = {THING: {"get": get_op()}, OTHER: {"get": get_op(operationId="other", parameters=[])}}
ALT_A = {"A": obj({"a": STR}), "B": obj({"b": STR})}


def _variant_pair(old_refs, new_refs, direction):
    def thing(refs):
        return {"oneOf": [{"$ref": f"#/components/schemas/{r}"} for r in refs]}
    pair = req if direction == "request" else res
    a, b = pair(thing(old_refs), thing(new_refs))
    a["components"]["schemas"].update(copy.deepcopy(ALT_A))
    b["components"]["schemas"].update(copy.deepcopy(ALT_A))
    return a, b


CASES = [
    # operations and paths
    case("path-removed", _two_ops(WITH_OTHER, ONE_METHOD), f"GET {OTHER}", True),
    case("operation-removed", _two_ops(TWO_METHODS, ONE_METHOD), f"DELETE {THING}", True),
    case("path-added", _two_ops(ONE_METHOD, WITH_OTHER), f"GET {OTHER}", False),
    case("operation-added", _two_ops(ONE_METHOD, TWO_METHODS), f"DELETE {THING}", False),
    case("operation-id-changed", (only_get(), only_get(operationId="fetchThing")), GET, False),
    case("path-parameter-renamed",
         (only_get(),
          document({"/api/things/{thingId}": {"get": get_op(parameters=[{**ID_PARAM, "name": "thingId"}])}})),
         "/api/things/{thingId}", False),
    # security
    case("security-added", _security_pair(None, [{"bearer": []}]), f"{GET} security", True),
    case("security-changed", _security_pair([{"bearer": []}], [{"apiKey": []}]), f"{GET} security", True),
    case("security-scheme-changed",
         _security_pair([{"apiKey": []}], [{"apiKey": []}], None,
                        {**SCHEMES, "apiKey": {**SCHEMES["apiKey"], "name": "X-Api-Key"}}), f"{GET} security", True),
    case("security-alternative-added", _security_pair([{"bearer": []}], [{"bearer": []}, {"apiKey": []}]),
         f"{GET} security", False),
    case("security-removed", _security_pair([{"bearer": []}], []), f"{GET} security", False),
    # parameters
    case("parameter-removed", (only_get(parameters=[ID_PARAM, query()]), only_get()), f"{GET} query parameter q", True),
    case("parameter-added-required", (only_get(), only_get(parameters=[ID_PARAM, query(required=True)])),
         f"{GET} query parameter q", True),
    case("parameter-added-optional", (only_get(), only_get(parameters=[ID_PARAM, query()])),
         f"{GET} query parameter q", False),
    case("parameter-made-required",
         (only_get(parameters=[ID_PARAM, query()]), only_get(parameters=[ID_PARAM, query(required=True)])),
         f"{GET} query parameter q", True),
    case("parameter-made-optional",
         (only_get(parameters=[ID_PARAM, query(required=True)]), only_get(parameters=[ID_PARAM, query()])),
         f"{GET} query parameter q", False),
    case("parameter-style-changed",
         (only_get(parameters=[ID_PARAM, query(explode=True)]), only_get(parameters=[ID_PARAM, query(explode=False)])),
         f"{GET} query parameter q", True),
    # request bodies and media types
    case("request-body-added-required", (post_only(), post_only(requestBody=body(True))), f"POST {THINGS} request body",
         True),
    case("request-body-added-optional", (post_only(), post_only(requestBody=body(False))),
         f"POST {THINGS} request body", False),
    case("request-body-removed", (post_only(requestBody=body()), post_only()), f"POST {THINGS} request body", True),
    case("request-body-made-required", (post_only(requestBody=body(False)), post_only(requestBody=body(True))),
         f"POST {THINGS} request body", True),
    case("request-body-made-optional", (post_only(requestBody=body(True)), post_only(requestBody=body(False))),
         f"POST {THINGS} request body", False),
    case("request-media-type-removed",
         (post_only(requestBody=body(media=("application/json", "multipart/form-data"))),
          post_only(requestBody=body())),
         f"POST {THINGS} request body (multipart/form-data)", True),
    case("request-media-type-added",
         (post_only(requestBody=body()), post_only(requestBody=body(media=("application/json", "text/csv")))),
         f"POST {THINGS} request body (text/csv)", False),
    # statuses, response media types and headers
    case("success-status-removed", (responding({"200": status(), "204": status()}), responding({"200": status()})),
         f"{GET} responses", True),
    case("success-status-changed", (responding({"200": status()}), responding({"202": status()})),
         f"{GET} responses", True),
    case("success-status-added", (responding({"200": status()}), responding({"200": status(), "202": status()})),
         f"{GET} responses", True),
    case("error-status-added", (responding({"200": status()}), responding({"200": status(), "404": status()})),
         f"{GET} responses", False),
    case("error-status-removed", (responding({"200": status(), "404": status()}), responding({"200": status()})),
         f"{GET} responses", False),
    case("response-media-type-removed",
         (responding({"200": status(content={"application/json": {}, "text/csv": {}})}),
          responding({"200": status(content={"application/json": {}})})), f"{GET} 200 response (text/csv)", True),
    case("response-media-type-added",
         (responding({"200": status(content={"application/json": {}})}),
          responding({"200": status(content={"application/json": {}, "application/xml": {}})})),
         f"{GET} 200 response (application/xml)", False),
    case("response-header-removed",
         (responding({"200": status(headers={"X-Rate-Limit": {"schema": {"type": "integer"}}})}),
          responding({"200": status()})), f"{GET} 200 response header x-rate-limit", True),
    case("response-header-added",
         (responding({"200": status()}),
          responding({"200": status(headers={"ETag": {"schema": STR}})})), f"{GET} 200 response header etag", False),
    # properties
    case("request-property-removed", (api(obj({"name": STR, "note": STR})), api()),
         f"{BODY}: note", True, also=1),
    case("request-property-added-required", (api(), api(obj({"name": STR, "note": STR}, ["note"]))),
         f"{BODY}: note", True, also=1),
    case("request-property-added-optional", (api(), api(obj({"name": STR, "note": STR}))), f"{BODY}: note", False,
         also=1),
    case("request-property-made-required", (api(), api(obj({"name": STR}, ["name"]))), f"{BODY}: name", True,
         also=1),
    case("request-property-made-optional", (api(obj({"name": STR}, ["name"])), api()), f"{BODY}: name", False,
         also=1),
    case("response-property-removed", (api(obj({"name": STR, "note": STR})), api()), f"{OK}: note", True, also=1),
    case("response-property-added", (api(), api(obj({"name": STR, "note": STR}))), f"{OK}: note", False, also=1),
    case("response-property-made-optional", (api(obj({"name": STR}, ["name"])), api()), f"{OK}: name", True,
         also=1),
    case("response-property-made-required", (api(), api(obj({"name": STR}, ["name"]))), f"{OK}: name", False,
         also=1),
    # anyOf / oneOf branches
    case("request-variant-removed", _variant_pair(["A", "B"], ["A"], "request"), f"{BODY}: name<B>", True),
    case("request-variant-added", _variant_pair(["A"], ["A", "B"], "request"), f"{BODY}: name<B>", False),
    case("response-variant-added", _variant_pair(["A"], ["A", "B"], "response"), f"{OK}: name<B>", True),
    case("response-variant-removed", _variant_pair(["A", "B"], ["A"], "response"), f"{OK}: name<B>", False),
    # types
    case("request-type-changed", req(STR, {"type": "integer"}), f"{BODY}: name", True),
    case("request-type-narrowed", req(NUM, {"type": "integer"}), f"{BODY}: name", True),
    case("request-type-widened", req({"type": "integer"}, NUM), f"{BODY}: name", False),
    case("response-type-changed", res(STR, {"type": "boolean"}), f"{OK}: name", True),
    case("response-type-widened", res({"type": "integer"}, NUM), f"{OK}: name", True),
    case("response-type-narrowed", res(NUM, {"type": "integer"}), f"{OK}: name", False),
    # nullability
    case("request-made-not-nullable", req({**STR, "nullable": True}, STR), f"{BODY}: name", True),
    case("request-made-nullable", req(STR, {**STR, "nullable": True}), f"{BODY}: name", False),
    case("response-made-nullable", res(STR, {**STR, "nullable": True}), f"{OK}: name", True),
    case("response-made-not-nullable", res({**STR, "nullable": True}, STR), f"{OK}: name", False),
    # enums
    case("request-enum-narrowed", req({**STR, "enum": ["a", "b"]}, {**STR, "enum": ["a"]}), f"{BODY}: name", True),
    case("request-enum-widened", req({**STR, "enum": ["a"]}, {**STR, "enum": ["a", "b"]}), f"{BODY}: name", False),
    case("response-enum-widened", res({**STR, "enum": ["a"]}, {**STR, "enum": ["a", "b"]}), f"{OK}: name", True),
    case("response-enum-narrowed", res({**STR, "enum": ["a", "b"]}, {**STR, "enum": ["a"]}), f"{OK}: name", False),
    # bounds, pattern, format
    *_bound_cases(),
    *_keyword_cases(),
    # other keywords
    case("request-additional-properties-restricted",
         req({"type": "object"}, {"type": "object", "additionalProperties": False}), f"{BODY}: name", True),
    case("request-additional-properties-allowed",
         req({"type": "object", "additionalProperties": False}, {"type": "object"}), f"{BODY}: name", False),
    case("response-additional-properties-allowed",
         res({"type": "object", "additionalProperties": False}, {"type": "object"}), f"{OK}: name", False),
    case("response-additional-properties-restricted",
         res({"type": "object"}, {"type": "object", "additionalProperties": False}), f"{OK}: name", False),
    case("request-default-changed", req({**STR, "default": "a"}, {**STR, "default": "b"}), f"{BODY}: name", True),
    case("response-default-changed", res({**STR, "default": "a"}, {**STR, "default": "b"}), f"{OK}: name", False),
    # text
    case("text-changed", (only_get(summary="Get a thing"), only_get(summary="Fetch a thing")), GET, False),
    case("example-changed", res({**STR, "example": "a"}, {**STR, "example": "b"}), f"{OK}: name", False),
    case("deprecation-changed", (only_get(), only_get(deprecated=True)), GET, False),
]

EXTRA_CASES = [
    # exclusiveMaximum/Minimum (OpenAPI 3.0 flags) make the same bound stricter or looser
    case("request-maximum-tightened", req({**NUM, "maximum": 10}, {**NUM, "maximum": 10, "exclusiveMaximum": True}),
         f"{BODY}: name", True),
    case("request-minimum-loosened", req({**NUM, "minimum": 0, "exclusiveMinimum": True}, {**NUM, "minimum": 0}),
         f"{BODY}: name", False),
    case("response-maximum-loosened", res({**NUM, "maximum": 10, "exclusiveMaximum": True}, {**NUM, "maximum": 10}),
         f"{OK}: name", True),
    # a limit where there was none, and none where there was one
    case("request-maxLength-tightened", req(STR, {**STR, "maxLength": 5}), f"{BODY}: name", True),
    case("request-minimum-loosened", req({**NUM, "minimum": 0}, NUM), f"{BODY}: name", False),
    # an enum where there was none restricts the input
    case("request-enum-narrowed", req(STR, {**STR, "enum": ["a"]}), f"{BODY}: name", True),
    # parameters are input: their schemas follow the request rules
    case("request-maxLength-tightened",
         (only_get(parameters=[ID_PARAM, query(schema={**STR, "maxLength": 10})]),
          only_get(parameters=[ID_PARAM, query(schema={**STR, "maxLength": 3})])), f"{GET} query parameter q", True),
    # nested: items and properties of items
    case("response-property-removed",
         res({"type": "array", "items": obj({"id": STR, "tag": STR})}, {"type": "array", "items": obj({"id": STR})}),
         f"{OK}: name[].tag", True),
    # in both directions at once: a retyped field breaks the request and the response
    case("request-type-changed", field(STR, {"type": "integer"}), f"{BODY}: name", True, also=1),
    case("response-type-changed", field(STR, {"type": "integer"}), f"{OK}: name", True, also=1),
]


@pytest.mark.parametrize("kind, old, new, location, breaking, also", CASES + EXTRA_CASES)
def test_rule(kind, old, new, location, breaking, also):
    changes = compare(old, new)
    found = [c for c in changes if c.kind == kind]
    assert [c.location for c in found] == [location], changes
    assert found[0].breaking is breaking
    assert found[0].reason and "\n" not in found[0].reason
    assert len(changes) == 1 + also, changes


def test_every_rule_has_a_case():
    tested = {p.values[0] for p in CASES}
    assert tested == {rule.kind for rule in RULES}


def test_the_table_classes_each_rule_as_its_case_does():
    by_kind = {rule.kind: rule for rule in RULES}
    for p in CASES:
        assert by_kind[p.values[0]].breaking is p.values[4], p.values[0]


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
    seen = {(c.kind, c.location, c.breaking) for c in changes}
    assert seen == {
        ("request-maxLength-tightened", "POST /api/events request body: name", True),
        ("response-maxLength-tightened", "GET /api/events 200 response: [].name", False),
        ("response-maxLength-tightened", "POST /api/events 201 response: name", False),
        ("response-maxLength-tightened", "GET /api/events/{id} 200 response: name", False),
        # a rename is a removal plus an addition
        ("request-property-removed", "POST /api/events request body: title", True),
        ("request-property-added-optional", "POST /api/events request body: headline", False),
        ("response-property-removed", "GET /api/events 200 response: [].title", True),
        ("response-property-added", "GET /api/events 200 response: [].headline", False),
        ("response-property-removed", "POST /api/events 201 response: title", True),
        ("response-property-added", "POST /api/events 201 response: headline", False),
        ("response-property-removed", "GET /api/events/{id} 200 response: title", True),
        ("response-property-added", "GET /api/events/{id} 200 response: headline", False),
    }
    assert [c.breaking for c in changes] == sorted((c.breaking for c in changes), reverse=True)  # breaking first


def test_paths_match_whatever_their_parameters_are_called():
    changes = compare(shared(param="id"), shared(param="eventId", max_length=50))
    assert ("path-parameter-renamed", "/api/events/{eventId}") in {(c.kind, c.location) for c in changes}
    assert ("response-maxLength-tightened", "GET /api/events/{eventId} 200 response: name") in {
        (c.kind, c.location) for c in changes}
    assert not any(c.kind.endswith(("removed", "added")) for c in changes)


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
    assert {(c.kind, c.location) for c in compare(old, new)} == {
        ("response-variant-added", f"{OK}: name<B>"), ("response-type-changed", f"{OK}: name<A>.a")}


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
    assert {(c.kind, c.location) for c in compare(old, new)} == {("response-property-added", f"{OK}: id")}


def test_a_public_operation_made_optional_auth_is_not_breaking():
    old, new = _security_pair([], [{}, {"bearer": []}])
    assert [c.breaking for c in compare(old, new)] == []


def test_document_wide_security_applies_to_operations_without_their_own():
    old = only_get()
    new = only_get()
    new["security"] = [{"bearer": []}]
    assert [(c.kind, c.location) for c in compare(old, new)] == [("security-added", f"{GET} security")]


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
    out = capsys.readouterr().out
    assert "compatible  GET /api/things/{id} 200 response: x  [response-property-added]" in out
    assert "verdict: compatible" in out


def test_exit_1_when_anything_breaks(tmp_path, capsys):
    old, new = write(tmp_path, "old.yaml", api(obj({"name": STR, "x": STR}))), write(tmp_path, "new.yaml", api())
    assert main([old, new]) == 1
    out = capsys.readouterr().out
    assert "BREAKING    GET /api/things/{id} 200 response: x  [response-property-removed]" in out
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


@pytest.mark.parametrize("argv", [[], ["one.yaml"], ["a.yaml", "b.yaml", "--format", "html"]])
def test_exit_2_on_bad_usage(argv, capsys):
    assert main(argv) == 2


def test_python_dash_m_specdiff_is_the_command(tmp_path):
    old, new = write(tmp_path, "old.yaml", api(obj({"name": STR, "x": STR}))), write(tmp_path, "new.yaml", api())
    done = subprocess.run([sys.executable, "-m", "specdiff", old, new], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "[response-property-removed]" in done.stdout


def test_the_specdiff_script_runs_the_same_main():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["specdiff"] == f"{main.__module__}:{main.__name__}"


# --- formats -----------------------------------------------------------------------------------

def test_markdown_has_a_summary_line_and_a_table(tmp_path, capsys):
    old = write(tmp_path, "old.yaml", api(obj({"name": STR, "x": STR})))
    new = write(tmp_path, "new.yaml", api(obj({"name": {**STR, "pattern": "^a|b$"}})))
    assert main([old, new, "--format", "markdown"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"### API contract diff: `{new}`"
    assert lines[2] == ":x: **3 breaking change(s)** of 4: clients of the old version break."
    assert lines[4:6] == ["| | Location | Change | Reason |", "|---|---|---|---|"]
    rows = lines[6:]
    assert len(rows) == 4 and all(r.startswith("| ") and r.endswith(" |") for r in rows)
    assert rows[0].startswith("| :x: breaking | `POST /api/things request body: name` | `request-pattern-added` |")
    assert "'^a\\|b$'" in rows[0]                         # a | inside a cell is escaped
    assert rows[-1].startswith("| compatible | `GET /api/things/{id} 200 response: name` | `response-pattern-added`")


def test_markdown_without_breaking_changes_and_without_changes(tmp_path, capsys):
    old, new = write(tmp_path, "old.yaml", api()), write(tmp_path, "new.yaml", api(get={"summary": "x"}))
    assert main([old, new, "--format", "markdown"]) == 0
    assert ":white_check_mark: **No breaking changes**" in capsys.readouterr().out
    assert main([old, old, "--format", "markdown"]) == 0
    assert ":white_check_mark: **No changes** to the contract." in capsys.readouterr().out


def test_json_is_a_list_of_changes(tmp_path, capsys):
    old = write(tmp_path, "old.yaml", api(obj({"name": STR, "x": STR})))
    new = write(tmp_path, "new.yaml", api(obj({"name": STR, "y": STR})))
    assert main([old, new, "--format", "json"]) == 1
    changes = json.loads(capsys.readouterr().out)
    assert {tuple(sorted(c)) for c in changes} == {("breaking", "kind", "location", "reason")}
    assert {(c["kind"], c["location"], c["breaking"]) for c in changes} == {
        ("request-property-removed", f"{BODY}: x", True), ("response-property-removed", f"{OK}: x", True),
        ("request-property-added-optional", f"{BODY}: y", False), ("response-property-added", f"{OK}: y", False)}
    assert main([old, old, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


# --- the package -------------------------------------------------------------------------------

def test_specdiff_imports_only_the_kernel_of_the_project():
    """specdiff reads specs through apispec and nothing else of the project: no mock, no harness."""
    for module in sorted((ROOT / "specdiff").glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0}
        outside = {name for name in imported if name.split(".")[0] in {"mockserver", "contract_tests"}}
        assert not outside, f"{module.name} imports {sorted(outside)}"
