"""Every rule of specdiff's table on a spec pair: the change is found under the rule's id (oasdiff's,
where oasdiff has the rule), at its level, at the right place; no other ERR or WARN change comes
with it unless the case names it."""

from __future__ import annotations

import copy
import datetime

import pytest
from diffpairs import (
    ALT_A,
    ARRAY,
    BODY,
    GET,
    ID_PARAM,
    NUM,
    OBJ,
    OK,
    STR,
    THING,
    THINGS,
    _security_pair,
    _two_ops,
    api,
    at,
    body,
    document,
    get_op,
    obj,
    only_get,
    post_only,
    query,
    res,
    responding,
    status,
    with_path_parameters,
)

from specdiff.checks import BOUNDS, Policy
from specdiff.rules import BY_ID, CONTEXTS, RULES
from specdiff.walk import compare

FUTURE, PAST = "2999-12-31", "2000-01-01"
SOON = (datetime.date.today() + datetime.timedelta(days=10)).isoformat()
STRICT = Policy(stable_days=180, beta_days=90)          # --deprecation-days-stable 180


def case(rule_id: str, pair, location: str, level: str, also=(), policy=None):
    """`also`: the ids of other ERR or WARN changes the pair is expected to make."""
    old, new = pair[:2]
    return pytest.param(rule_id, old, new, location, level, frozenset(also), policy, id=rule_id)


def schema_case(rule_id: str, old, new, level: str, context: str | None = None, also=()):
    """A change of a schema in the place the id's context names (or `context`)."""
    context = context or max((c for c in CONTEXTS if rule_id.startswith(c + "-")), key=len)
    a, b, location = at(context, old, new)
    return case(rule_id, (a, b), location, level, also)


# --- operations ---------------------------------------------------------------------------------

OTHER = "/api/other"
ONE_METHOD = {THING: {"get": get_op()}}


def with_other(**parts):
    return {THING: {"get": get_op()}, OTHER: {"get": get_op(operationId="other", parameters=[], **parts)}}


def two_methods(**parts):
    return {THING: {"get": get_op(), "delete": get_op(operationId="deleteThing", **parts)}}


def op_pair(old: dict, new: dict):
    return only_get(**old), only_get(**new)


def callbacks(*names):
    hook = {"{$request.body#/url}": {"post": {"responses": {"200": {"description": "ok"}}}}}
    return {"callbacks": {name: hook for name in names}} if names else {}


OPERATIONS = [
    case("api-path-removed-without-deprecation", _two_ops(with_other(), ONE_METHOD), f"GET {OTHER}", "ERR"),
    case("api-path-removed-before-sunset", _two_ops(with_other(deprecated=True, **{"x-sunset": FUTURE}), ONE_METHOD),
         f"GET {OTHER}", "ERR"),
    case("api-path-removed-with-deprecation", _two_ops(with_other(deprecated=True, **{"x-sunset": PAST}), ONE_METHOD),
         f"GET {OTHER}", "INFO"),
    case("api-path-sunset-parse", _two_ops(with_other(deprecated=True, **{"x-sunset": "next spring"}), ONE_METHOD),
         f"GET {OTHER}", "ERR"),
    case("api-removed-without-deprecation", _two_ops(two_methods(), ONE_METHOD), f"DELETE {THING}", "ERR"),
    case("api-removed-before-sunset", _two_ops(two_methods(deprecated=True, **{"x-sunset": FUTURE}), ONE_METHOD),
         f"DELETE {THING}", "ERR"),
    case("api-removed-with-deprecation", _two_ops(two_methods(deprecated=True), ONE_METHOD), f"DELETE {THING}",
         "INFO"),
    case("endpoint-added", _two_ops(ONE_METHOD, two_methods()), f"DELETE {THING}", "INFO"),
    case("api-operation-id-removed", op_pair({}, {"operationId": "fetchThing"}), GET, "INFO"),
    case("api-operation-id-added", op_pair({"operationId": None}, {}), GET, "INFO"),
    case("api-tag-added", op_pair({}, {"tags": ["things"]}), GET, "INFO"),
    case("api-tag-removed", op_pair({"tags": ["things"]}, {}), GET, "INFO"),
    case("path-parameter-renamed",
         (only_get(),
          document({"/api/things/{thingId}": {"get": get_op(parameters=[{**ID_PARAM, "name": "thingId"}])}})),
         "/api/things/{thingId}", "INFO"),
    case("endpoint-deprecated", op_pair({}, {"deprecated": True}), GET, "INFO"),
    case("endpoint-deprecated-with-sunset", op_pair({}, {"deprecated": True, "x-sunset": FUTURE}), GET, "INFO"),
    case("endpoint-reactivated", op_pair({"deprecated": True}, {}), GET, "INFO"),
    case("api-deprecated-sunset-parse", op_pair({}, {"deprecated": True, "x-sunset": "31/12/2999"}), GET, "ERR"),
    case("api-deprecated-sunset-missing", op_pair({}, {"deprecated": True}), GET, "ERR", policy=STRICT),
    case("api-sunset-date-too-small", op_pair({}, {"deprecated": True, "x-sunset": SOON}), GET, "ERR",
         policy=STRICT),
    case("sunset-deleted", op_pair({"deprecated": True, "x-sunset": FUTURE}, {"deprecated": True}), GET, "ERR"),
    case("api-sunset-date-changed-too-small",
         op_pair({"deprecated": True, "x-sunset": FUTURE}, {"deprecated": True, "x-sunset": PAST}), GET, "ERR"),
    case("api-stability-decreased", op_pair({"x-stability-level": "stable"}, {"x-stability-level": "beta"}), GET,
         "ERR"),
    case("api-stability-increased", op_pair({"x-stability-level": "beta"}, {"x-stability-level": "stable"}), GET,
         "INFO"),
    case("api-invalid-stability-level", op_pair({}, {"x-stability-level": "gold"}), GET, "ERR"),
    case("callback-removed", op_pair(callbacks("onDone", "onFail"), callbacks("onDone")), f"{GET} callbacks", "ERR"),
    case("callback-added", op_pair({}, callbacks("onDone")), f"{GET} callbacks", "INFO"),
    # security
    case("security-added", _security_pair(None, [{"bearer": []}]), f"{GET} security", "ERR"),
    case("security-changed", _security_pair([{"bearer": []}], [{"apiKey": []}]), f"{GET} security", "ERR"),
    case("security-scheme-changed",
         _security_pair([{"apiKey": []}], [{"apiKey": []}], None,
                        {"bearer": {"type": "http", "scheme": "bearer"},
                         "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}), f"{GET} security", "ERR"),
    case("api-security-added", _security_pair([{"bearer": []}], [{"bearer": []}, {"apiKey": []}]), f"{GET} security",
         "INFO"),
    case("api-security-removed", _security_pair([{"bearer": []}], []), f"{GET} security", "INFO"),
    # the specs' x- extensions
    case("x-access-narrowed", op_pair({"x-access": {"key_types": ["user", "admin"], "session": True}},
                                      {"x-access": {"key_types": ["admin"], "session": True}}), GET, "ERR"),
    case("x-access-widened", op_pair({"x-access": {"key_types": ["admin"], "permission": "things:read"}},
                                     {"x-access": {"key_types": ["admin", "user"]}}), GET, "INFO"),
    case("x-rate-limit-tightened",
         (only_get(**{}) | {"x-rate-limit": {"window_seconds": 60, "limit": 100}},
          only_get() | {"x-rate-limit": {"window_seconds": 60, "limit": 50}}), "(document)", "ERR"),
    case("x-rate-limit-loosened",
         (only_get() | {"x-rate-limit": {"window_seconds": 60, "limits_by_key_type": {"user": 10}}},
          only_get() | {"x-rate-limit": {"window_seconds": 60, "limits_by_key_type": {"user": 20}}}),
         "(document)", "INFO"),
    case("x-error-body-field-removed",
         (only_get() | {"x-error-body": {"default": {"error": {"code": "{code}", "message": "{message}"}}}},
          only_get() | {"x-error-body": {"default": {"error": {"code": "{code}"}}}}), "(document)", "ERR"),
    case("x-error-body-field-added",
         (only_get() | {"x-error-body": {"default": {"error": {"code": "{code}"}}}},
          only_get() | {"x-error-body": {"default": {"error": {"code": "{code}", "message": "{message}"}}}}),
         "(document)", "INFO"),
    case("x-operation-error-body-field-removed",
         op_pair({"x-error-body": {"404": {"detail": "{message}", "status": 404}}},
                 {"x-error-body": {"404": {"detail": "{message}"}}}), GET, "ERR"),
]

# --- parameters ---------------------------------------------------------------------------------

Q = f"{GET} query parameter q"


def params(*extra):
    return only_get(parameters=[ID_PARAM, *extra])


PARAMETERS = [
    case("request-parameter-removed", (params(query()), params()), Q, "WARN"),
    case("request-parameter-removed-before-sunset", (params(query(deprecated=True, **{"x-sunset": FUTURE})), params()),
         Q, "ERR"),
    case("request-parameter-removed-with-deprecation", (params(query(deprecated=True)), params()), Q, "INFO"),
    case("request-parameter-sunset-parse", (params(query(deprecated=True, **{"x-sunset": "later"})), params()), Q,
         "ERR"),
    case("new-request-path-parameter",
         (params(), params({"name": "v", "in": "path", "required": True, "schema": STR})),
         f"{GET} path parameter v", "ERR"),
    case("new-required-request-parameter", (params(), params(query(required=True))), Q, "ERR"),
    case("new-optional-request-parameter", (params(), params(query())), Q, "INFO"),
    case("new-required-request-default-parameter-to-existing-path",
         (only_get(), with_path_parameters([query(required=True)])), Q, "ERR"),
    case("new-optional-request-default-parameter-to-existing-path", (only_get(), with_path_parameters([query()])), Q,
         "INFO"),
    case("request-parameter-became-required", (params(query()), params(query(required=True))), Q, "ERR"),
    case("request-parameter-became-optional", (params(query(required=True)), params(query())), Q, "INFO"),
    case("request-parameter-style-changed", (params(query(explode=True)), params(query(explode=False))), Q, "ERR"),
    case("request-parameter-deprecated", (params(query()), params(query(deprecated=True))), Q, "INFO"),
    case("request-parameter-deprecated-with-sunset",
         (params(query()), params(query(deprecated=True, **{"x-sunset": FUTURE}))), Q, "INFO"),
    case("request-parameter-reactivated", (params(query(deprecated=True)), params(query())), Q, "INFO"),
    case("request-parameter-deprecated-sunset-missing", (params(query()), params(query(deprecated=True))), Q, "ERR",
         policy=STRICT),
    case("request-parameter-deprecated-sunset-parse",
         (params(query()), params(query(deprecated=True, **{"x-sunset": "someday"}))), Q, "ERR"),
    case("request-parameter-sunset-date-too-small",
         (params(query()), params(query(deprecated=True, **{"x-sunset": SOON}))), Q, "ERR", policy=STRICT),
    case("request-parameter-sunset-deleted",
         (params(query(deprecated=True, **{"x-sunset": FUTURE})), params(query(deprecated=True))), Q, "ERR"),
    case("request-parameter-sunset-date-changed-too-small",
         (params(query(deprecated=True, **{"x-sunset": FUTURE})), params(query(deprecated=True, **{"x-sunset": PAST}))),
         Q, "ERR"),
]

# --- request bodies, responses, media types, headers ----------------------------------------------

RB = f"POST {THINGS} request body"


def media(*types, schema=True):
    return {"required": True, "content": {t: ({"schema": OBJ} if schema else {}) for t in types}}


def content(*types, schema=True):
    return {t: ({"schema": OBJ} if schema else {}) for t in types}


def header_pair(old: dict | None, new: dict | None):
    def doc(header):
        return responding({"200": status(headers={"X-Rate": header} if header else {})})
    return doc(old), doc(new)


HEADER = f"{GET} 200 response header x-rate"

BODIES = [
    case("request-body-added-required", (post_only(), post_only(requestBody=body(True))), RB, "ERR"),
    case("request-body-added-optional", (post_only(), post_only(requestBody=body(False))), RB, "INFO"),
    case("request-body-removed", (post_only(requestBody=body()), post_only()), RB, "ERR"),
    case("request-body-became-required", (post_only(requestBody=body(False)), post_only(requestBody=body(True))), RB,
         "ERR"),
    case("request-body-became-optional", (post_only(requestBody=body(True)), post_only(requestBody=body(False))), RB,
         "INFO"),
    case("request-body-media-type-removed",
         (post_only(requestBody=media("application/json", "multipart/form-data")),
          post_only(requestBody=media("application/json"))), f"{RB} (multipart/form-data)", "ERR"),
    case("request-body-media-type-added",
         (post_only(requestBody=media("application/json")),
          post_only(requestBody=media("application/json", "text/csv"))),
         f"{RB} (text/csv)", "INFO"),
    case("request-body-media-type-schema-added",
         (post_only(requestBody=media("application/json", schema=False)),
          post_only(requestBody=media("application/json"))),
         RB, "ERR"),
    case("request-body-media-type-schema-removed",
         (post_only(requestBody=media("application/json")),
          post_only(requestBody=media("application/json", schema=False))),
         RB, "INFO"),
    case("request-body-media-type-name-generalized",
         (post_only(requestBody=media("text/csv")), post_only(requestBody=media("text/*"))), f"{RB} (text/*)", "INFO"),
    case("request-body-media-type-name-specialized",
         (post_only(requestBody=media("text/*")), post_only(requestBody=media("text/csv"))), f"{RB} (text/csv)", "ERR"),
    case("response-success-status-removed",
         (responding({"200": status(), "204": status()}), responding({"200": status()})), f"{GET} 204 response", "ERR"),
    case("response-success-status-added",
         (responding({"200": status()}), responding({"200": status(), "202": status()})), f"{GET} 202 response",
         "INFO"),
    case("response-non-success-status-added",
         (responding({"200": status()}), responding({"200": status(), "404": status()})), f"{GET} 404 response",
         "INFO"),
    case("response-non-success-status-removed",
         (responding({"200": status(), "404": status()}), responding({"200": status()})), f"{GET} 404 response",
         "INFO"),
    case("response-media-type-removed",
         (responding({"200": status(content=content("application/json", "text/csv"))}),
          responding({"200": status(content=content("application/json"))})), f"{GET} 200 response (text/csv)", "ERR"),
    case("response-media-type-added",
         (responding({"200": status(content=content("application/json"))}),
          responding({"200": status(content=content("application/json", "application/xml"))})),
         f"{GET} 200 response (application/xml)", "INFO"),
    case("response-body-media-type-schema-removed",
         (responding({"200": status(content=content("application/json"))}),
          responding({"200": status(content=content("application/json", schema=False))})), OK, "WARN"),
    case("response-body-media-type-schema-added",
         (responding({"200": status(content=content("application/json", schema=False))}),
          responding({"200": status(content=content("application/json"))})), OK, "INFO"),
    case("response-media-type-name-generalized",
         (responding({"200": status(content=content("text/csv"))}),
          responding({"200": status(content=content("*/*"))})),
         f"{GET} 200 response (*/*)", "ERR"),
    case("response-media-type-name-specialized",
         (responding({"200": status(content=content("text/*"))}),
          responding({"200": status(content=content("text/csv"))})), f"{GET} 200 response (text/csv)", "INFO"),
    case("required-response-header-removed", header_pair({"required": True, "schema": STR}, None), HEADER, "ERR"),
    case("optional-response-header-removed", header_pair({"schema": STR}, None), HEADER, "WARN"),
    case("response-header-added", header_pair(None, {"schema": STR}), HEADER, "INFO"),
    case("response-header-became-optional", header_pair({"required": True, "schema": STR}, {"schema": STR}), HEADER,
         "ERR"),
    case("response-header-became-required", header_pair({"schema": STR}, {"required": True, "schema": STR}), HEADER,
         "INFO"),
]

# --- properties ---------------------------------------------------------------------------------

RO, WO = {**STR, "readOnly": True}, {**STR, "writeOnly": True}
WITH_DEFAULT = {**STR, "default": "x"}


def prop_pair(old_props: dict, new_props: dict, old_required=(), new_required=(), pair=api):
    return pair(obj(old_props, old_required)), pair(obj(new_props, new_required))


def req_only(thing):
    return api(get={"responses": {"204": {"description": "ok"}}}, thing=thing)


def res_only(thing):
    return api(post={"requestBody": None}, thing=thing)


def header_param(schema):
    return params({"name": "X-Filter", "in": "header", "schema": schema})


XF = f"{GET} header parameter X-Filter"

PROPERTIES = [
    case("request-property-removed", prop_pair({"name": STR, "note": STR}, {"name": STR}), f"{BODY}: note", "WARN",
         also={"response-optional-property-removed"}),
    case("new-required-request-property", prop_pair({"name": STR}, {"name": STR, "note": STR}, (), ["note"]),
         f"{BODY}: note", "ERR"),
    case("new-required-request-property-with-default",
         prop_pair({"name": STR}, {"name": STR, "note": WITH_DEFAULT}, (), ["note"]), f"{BODY}: note", "ERR"),
    case("new-optional-request-property", prop_pair({"name": STR}, {"name": STR, "note": STR}), f"{BODY}: note",
         "INFO"),
    case("request-property-became-required", prop_pair({"name": STR}, {"name": STR}, (), ["name"]), f"{BODY}: name",
         "ERR"),
    case("request-property-became-required-with-default",
         prop_pair({"name": WITH_DEFAULT}, {"name": WITH_DEFAULT}, (), ["name"]), f"{BODY}: name", "ERR"),
    case("request-property-became-optional", prop_pair({"name": STR}, {"name": STR}, ["name"]), f"{BODY}: name",
         "INFO", also={"response-property-became-optional"}),
    case("request-required-property-became-read-only",
         prop_pair({"name": STR}, {"name": RO}, ["name"], ["name"], req_only), f"{BODY}: name", "INFO"),
    case("request-optional-property-became-read-only", prop_pair({"name": STR}, {"name": RO}, pair=req_only),
         f"{BODY}: name", "INFO"),
    case("request-required-property-became-not-read-only",
         prop_pair({"name": RO}, {"name": STR}, ["name"], ["name"], req_only), f"{BODY}: name", "INFO"),
    case("request-optional-property-became-not-read-only", prop_pair({"name": RO}, {"name": STR}, pair=req_only),
         f"{BODY}: name", "INFO"),
    case("new-required-request-header-property",
         (header_param(obj({"a": STR})), header_param(obj({"a": STR, "b": STR}, ["b"]))), f"{XF}: b", "ERR"),
    case("request-header-property-became-required",
         (header_param(obj({"a": STR})), header_param(obj({"a": STR}, ["a"]))), f"{XF}: a", "ERR"),
    case("response-required-property-removed",
         prop_pair({"name": STR, "id": STR}, {"name": STR}, ["id"], (), res_only), f"{OK}: id", "ERR"),
    case("response-optional-property-removed", prop_pair({"name": STR, "id": STR}, {"name": STR}, pair=res_only),
         f"{OK}: id", "WARN"),
    case("response-required-property-added",
         prop_pair({"name": STR}, {"name": STR, "id": STR}, (), ["id"], res_only), f"{OK}: id", "INFO"),
    case("response-optional-property-added", prop_pair({"name": STR}, {"name": STR, "id": STR}, pair=res_only),
         f"{OK}: id", "INFO"),
    case("response-property-became-optional", prop_pair({"name": STR}, {"name": STR}, ["name"], (), res_only),
         f"{OK}: name", "ERR"),
    case("response-property-became-required", prop_pair({"name": STR}, {"name": STR}, (), ["name"], res_only),
         f"{OK}: name", "INFO"),
    case("response-required-property-became-write-only",
         prop_pair({"name": STR}, {"name": WO}, ["name"], ["name"], res_only), f"{OK}: name", "INFO"),
    case("response-optional-property-became-write-only", prop_pair({"name": STR}, {"name": WO}, pair=res_only),
         f"{OK}: name", "INFO"),
    case("response-required-property-became-not-write-only",
         prop_pair({"name": WO}, {"name": STR}, ["name"], ["name"], res_only), f"{OK}: name", "WARN"),
    case("response-optional-property-became-not-write-only", prop_pair({"name": WO}, {"name": STR}, pair=res_only),
         f"{OK}: name", "INFO"),
]

# a property's own deprecation, sunset and stability, in requests and responses
LIFECYCLE = {  # change: (old keywords, new keywords, level, policy)
    "deprecated": ({}, {"deprecated": True}, "INFO", None),
    "deprecated-with-sunset": ({}, {"deprecated": True, "x-sunset": FUTURE}, "INFO", None),
    "reactivated": ({"deprecated": True}, {}, "INFO", None),
    "deprecated-sunset-missing": ({}, {"deprecated": True}, "ERR", STRICT),
    "deprecated-sunset-invalid": ({}, {"deprecated": True, "x-sunset": "soonish"}, "ERR", None),
    "sunset-date-too-small": ({}, {"deprecated": True, "x-sunset": SOON}, "ERR", STRICT),
    "stability-decreased": ({"x-stability-level": "stable"}, {"x-stability-level": "alpha"}, "ERR", None),
    "stability-increased": ({"x-stability-level": "alpha"}, {"x-stability-level": "stable"}, "INFO", None),
}
PROPERTY_LIFECYCLE = [
    case(f"{direction}-property-{change}", at(f"{direction}-property", {**STR, **old}, {**STR, **new})[:2],
         at(f"{direction}-property", STR, STR)[2], level, policy=policy)
    for direction in ("request", "response") for change, (old, new, level, policy) in LIFECYCLE.items()
]

# --- anyOf / oneOf / allOf ------------------------------------------------------------------------


def branches(keyword: str, names) -> dict:
    return {keyword: [{"$ref": f"#/components/schemas/{n}"} for n in names]}


def with_alternatives(pair):
    a, b, location = pair
    for doc in (a, b):
        doc["components"]["schemas"].update({**copy.deepcopy(ALT_A), "C": obj({"c": STR})})
    return a, b, location


def variant_cases():
    levels = {("request", "removed"): "ERR", ("request", "added"): "INFO",
              ("response", "added"): "ERR", ("response", "removed"): "INFO"}
    for ctx in ("request-body", "request-property", "response-body", "response-property"):
        for keyword, word in (("anyOf", "any-of"), ("oneOf", "one-of")):
            for which in ("added", "removed"):
                old, new = (["A", "B"], ["A", "B", "C"]) if which == "added" else (["A", "B", "C"], ["A", "B"])
                a, b, location = with_alternatives(at(ctx, branches(keyword, old), branches(keyword, new)))
                where = f"{location}: <C>" if ctx.endswith("body") else f"{location}<C>"
                yield case(f"{ctx}-{word}-{which}", (a, b), where, levels[(ctx.split("-")[0], which)])


def all_of_cases():
    levels = {("request", "added"): "ERR", ("request", "removed"): "WARN"}
    for ctx in ("request-body", "request-property", "response-body", "response-property"):
        for which in ("added", "removed"):
            old, new = (["A", "B"], ["A", "B", "C"]) if which == "added" else (["A", "B", "C"], ["A", "B"])
            a, b, location = at(ctx, branches("allOf", old), branches("allOf", new))
            for doc in (a, b):
                doc["components"]["schemas"].update({k: obj({k.lower(): STR}) for k in "ABC"})
            also = {"request-property-removed"} if (ctx.startswith("request"), which) == (True, "removed") else ()
            if ctx.startswith("response") and which == "removed":
                also = {"response-optional-property-removed"}
            yield case(f"{ctx}-all-of-{which}", (a, b), location, levels.get((ctx.split("-")[0], which), "INFO"), also)


def wrapped(ctx):
    a, b, location = with_alternatives(at(ctx, {"$ref": "#/components/schemas/A"}, branches("oneOf", ["A", "B"])))
    return case(f"{ctx}-wrapped-in-one-of", (a, b), location, "ERR",
                also={"response-body-one-of-added"} if ctx.startswith("response") else ())


COMPOSITION = [*variant_cases(), *all_of_cases(), wrapped("request-body"), wrapped("response-body")]

# --- schema keywords: type, nullable, enum, bounds, pattern, default, additionalProperties --------

INT, DATE = {"type": "integer"}, {"type": "string", "format": "date"}
NULLABLE = {**STR, "nullable": True}
AB, A = {**STR, "enum": ["a", "b"]}, {**STR, "enum": ["a"]}

KEYWORDS = [
    *(schema_case(f"{ctx}-type-changed", STR, INT, "ERR") for ctx in ("request-body", "request-property",
                                                                       "request-parameter")),
    schema_case("request-parameter-property-type-changed", STR, {"type": "boolean"}, "WARN"),
    schema_case("request-parameter-property-type-specialized", NUM, INT, "ERR"),
    *(schema_case(f"{ctx}-type-generalized", INT, NUM, "INFO")
      for ctx in ("request-body", "request-property", "request-parameter", "request-parameter-property")),
    *(schema_case(f"{ctx}-type-changed", STR, {"type": "boolean"}, "ERR")
      for ctx in ("response-body", "response-property", "response-header")),
    *(schema_case(f"{ctx}-type-generalized", DATE, STR, "ERR")
      for ctx in ("response-body", "response-property", "response-header")),
    *(schema_case(f"{ctx}-type-specialized", NUM, INT, "INFO")
      for ctx in ("response-body", "response-property", "response-header")),
    *(schema_case(f"{ctx}-became-not-nullable", NULLABLE, STR, "ERR")
      for ctx in ("request-body", "request-property", "request-parameter", "request-parameter-property")),
    *(schema_case(f"{ctx}-became-nullable", STR, NULLABLE, "INFO")
      for ctx in ("request-body", "request-property", "request-parameter", "request-parameter-property")),
    *(schema_case(f"{ctx}-became-nullable", STR, NULLABLE, "ERR")
      for ctx in ("response-body", "response-property", "response-header")),
    *(schema_case(f"{ctx}-became-not-nullable", NULLABLE, STR, "INFO")
      for ctx in ("response-body", "response-property", "response-header")),
    *(schema_case(f"{ctx}-became-enum", STR, A, "ERR")
      for ctx in ("request-body", "request-property", "request-parameter", "request-header-property")),
    *(schema_case(f"{ctx}-enum-value-removed", AB, A, "ERR")
      for ctx in ("request-body", "request-property", "request-parameter", "request-parameter-property")),
    *(schema_case(f"{ctx}-enum-value-added", A, AB, "INFO")
      for ctx in ("request-body", "request-property", "request-parameter", "request-parameter-property")),
    *(schema_case(f"{ctx}-x-extensible-enum-value-removed", {**STR, "x-extensible-enum": ["a", "b"]},
                  {**STR, "x-extensible-enum": ["a"]}, "ERR") for ctx in ("request-property", "request-parameter")),
    *(schema_case(f"{ctx}-enum-value-added", A, AB, "WARN") for ctx in ("response-body", "response-property")),
    schema_case("response-property-enum-value-removed", AB, A, "INFO"),
    schema_case("response-mediatype-enum-value-removed", AB, A, "INFO", context="response-body"),
    *(schema_case(f"{ctx}-pattern-{which}", old, new, level)
      for ctx in ("request-body", "request-property", "request-parameter", "response-body", "response-property")
      for which, old, new, level in (
          ("added", STR, {**STR, "pattern": "^a"}, "ERR" if ctx.startswith("request") else "INFO"),
          ("changed", {**STR, "pattern": "^a"}, {**STR, "pattern": "^b"},
           "WARN" if ctx.startswith("request") else "INFO"),
          ("removed", {**STR, "pattern": "^a"}, STR, "INFO"))),
    *(schema_case(f"{ctx}-default-value-{which}", old, new, "ERR" if ctx == "request-parameter" else "INFO")
      for ctx in ("request-body", "request-property", "request-parameter", "response-body", "response-property")
      for which, old, new in (("added", STR, {**STR, "default": "a"}), ("removed", {**STR, "default": "a"}, STR),
                              ("changed", {**STR, "default": "a"}, {**STR, "default": "b"}))),
    *(schema_case(f"{ctx}-additional-properties-{which}", old, new, level)
      for ctx, which, old, new, level in (
          ("request-body", "restricted", OBJ, {**OBJ, "additionalProperties": False}, "ERR"),
          ("request-property", "restricted", OBJ, {**OBJ, "additionalProperties": False}, "ERR"),
          ("request-body", "allowed", {**OBJ, "additionalProperties": False}, OBJ, "INFO"),
          ("request-property", "allowed", {**OBJ, "additionalProperties": False}, OBJ, "INFO"),
          ("response-body", "allowed", {**OBJ, "additionalProperties": False}, OBJ, "INFO"),
          ("response-property", "allowed", {**OBJ, "additionalProperties": False}, OBJ, "INFO"),
          ("response-body", "restricted", OBJ, {**OBJ, "additionalProperties": False}, "INFO"),
          ("response-property", "restricted", OBJ, {**OBJ, "additionalProperties": False}, "INFO"))),
]


def bound_cases():
    """Every bound keyword in every request and response place: tightened, loosened, set, unset."""
    samples = {  # keyword: (schema it lives on, a value, a stricter one, a looser one)
        "maximum": (NUM, 10, 5, 20), "minimum": (NUM, 5, 10, 1),
        "maxLength": (STR, 10, 5, 20), "minLength": (STR, 5, 10, 1),
        "maxItems": (ARRAY, 10, 5, 20), "minItems": (ARRAY, 5, 10, 1),
        "maxProperties": (OBJ, 10, 5, 20), "minProperties": (OBJ, 5, 10, 1),
    }
    for bound in BOUNDS:
        base, value, stricter, looser = samples[bound.keyword]
        tighter_word, looser_word = ("decreased", "increased") if bound.upper else ("increased", "decreased")
        pairs = {tighter_word: ({**base, bound.keyword: value}, {**base, bound.keyword: stricter}),
                 looser_word: ({**base, bound.keyword: value}, {**base, bound.keyword: looser})}
        if not bound.zero:
            pairs |= {"set": (base, {**base, bound.keyword: value}), "unset": ({**base, bound.keyword: value}, base)}
        for ctx in ("request-body", "request-property", "request-parameter", "response-body", "response-property"):
            request = ctx.startswith("request")
            for change, (old, new) in pairs.items():
                if request:
                    level = {tighter_word: "ERR", "set": "WARN"}.get(change, "INFO")
                else:
                    level = "ERR" if change in (looser_word, "unset") else "INFO"
                yield schema_case(f"{ctx}-{bound.name}-{change}", old, new, level)


EXCLUSIVE = [   # OpenAPI 3.0: exclusiveMaximum/Minimum are flags that make the same bound stricter or looser
    schema_case("request-property-max-decreased", {**NUM, "maximum": 10},
                {**NUM, "maximum": 10, "exclusiveMaximum": True}, "ERR"),
    schema_case("request-property-min-decreased", {**NUM, "minimum": 0, "exclusiveMinimum": True},
                {**NUM, "minimum": 0}, "INFO"),
    schema_case("response-property-max-increased", {**NUM, "maximum": 10, "exclusiveMaximum": True},
                {**NUM, "maximum": 10}, "ERR"),
    schema_case("request-body-min-length-increased", STR, {**STR, "minLength": 1}, "ERR"),   # unset minLength is 0
]

TEXT = [
    case("text-changed", (only_get(summary="Get a thing"), only_get(summary="Fetch a thing")), GET, "INFO"),
    case("example-changed", res({**STR, "example": "a"}, {**STR, "example": "b"}), f"{OK}: name", "INFO"),
]

CASES = [*OPERATIONS, *PARAMETERS, *BODIES, *PROPERTIES, *PROPERTY_LIFECYCLE, *COMPOSITION, *KEYWORDS,
         *bound_cases(), *TEXT]


@pytest.mark.parametrize("rule_id, old, new, location, level, also, policy", CASES + EXCLUSIVE)
def test_rule(rule_id, old, new, location, level, also, policy):
    changes = compare(old, new, policy)
    found = [c for c in changes if c.id == rule_id]
    assert [c.location for c in found] == [location], changes
    assert found[0].level == level
    assert found[0].text and found[0].reason and "\n" not in found[0].text + found[0].reason
    others = {c.id for c in changes if c.breaking and c is not found[0]}
    assert others == set(also), changes


def test_every_rule_has_a_case():
    tested = [p.values[0] for p in CASES]
    assert sorted(set(tested)) == sorted(tested), "a rule has two cases"
    assert set(tested) == set(BY_ID)


def test_the_table_levels_each_rule_as_its_case_does():
    for p in CASES:
        assert BY_ID[p.values[0]].level == p.values[4], p.values[0]


def test_no_rule_without_a_reason():
    assert all(rule.reason for rule in RULES)

