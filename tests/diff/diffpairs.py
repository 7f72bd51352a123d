"""Spec pairs for the specdiff tests: a small API (POST /api/things, GET /api/things/{id}) and ways
to change one part of it; `at(context, old, new)` puts two schemas in one place a schema can stand
(rules.CONTEXTS) and says where the change is reported."""

from __future__ import annotations

import copy

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




OBJ = {"type": "object"}


def at(context: str, old, new) -> tuple[dict, dict, str]:
    """`old` and `new` (schemas) in the place `context` names, and the location a change of them is
    reported at."""
    if context == "request-body":
        return (post_only(requestBody={"content": json_content(old)}),
                post_only(requestBody={"content": json_content(new)}), f"POST {THINGS} request body")
    if context == "request-property":
        return (*req(old, new), f"{BODY}: name")
    if context == "request-parameter":
        return (only_get(parameters=[ID_PARAM, query(schema=old)]),
                only_get(parameters=[ID_PARAM, query(schema=new)]), f"{GET} query parameter q")
    if context == "request-parameter-property":
        return (only_get(parameters=[ID_PARAM, query(schema=obj({"name": old}), style="deepObject")]),
                only_get(parameters=[ID_PARAM, query(schema=obj({"name": new}), style="deepObject")]),
                f"{GET} query parameter q: name")
    if context == "request-header-property":
        def header(schema):
            return {"name": "X-Filter", "in": "header", "schema": obj({"name": schema})}
        return (only_get(parameters=[ID_PARAM, header(old)]), only_get(parameters=[ID_PARAM, header(new)]),
                f"{GET} header parameter X-Filter: name")
    if context == "response-body":
        return (responding({"200": status(content=json_content(old))}),
                responding({"200": status(content=json_content(new))}), f"{GET} 200 response")
    if context == "response-property":
        return (*res(old, new), f"{OK}: name")
    if context == "response-header":
        return (responding({"200": status(headers={"X-Count": {"schema": old}})}),
                responding({"200": status(headers={"X-Count": {"schema": new}})}), f"{GET} 200 response header x-count")
    raise ValueError(context)


def with_path_parameters(params: list) -> dict:
    doc = only_get()
    doc["paths"][THING]["parameters"] = params
    return doc


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


ALT_A = {"A": obj({"a": STR}), "B": obj({"b": STR})}
