"""Schemas: OpenAPI 3.0 schema to JSON Schema, validating an instance, and reading an object schema."""

from __future__ import annotations

import jsonschema

from .refs import deref


def to_json_schema(schema):
    """OpenAPI 3.0 schema -> JSON Schema (draft 4 style): `nullable` becomes a null type."""
    if isinstance(schema, list):
        return [to_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key.startswith("x-") or key in ("example", "examples", "discriminator", "xml",
                                            "externalDocs", "readOnly", "writeOnly", "deprecated"):
            continue
        if key == "properties":
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif isinstance(value, (dict, list)):
            out[key] = to_json_schema(value)
        else:
            out[key] = value
    if schema.get("nullable"):
        out.pop("nullable", None)
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if any(k in out for k in ("allOf", "oneOf", "anyOf", "$ref")):
            out = {"anyOf": [out, {"type": "null"}]}
    else:
        out.pop("nullable", None)
    return out


FORMAT_CHECKER = jsonschema.Draft4Validator.FORMAT_CHECKER


def schema_errors(spec: dict, schema: dict, instance) -> list[str]:
    validator = jsonschema.Draft4Validator(to_json_schema(deref(spec, schema)),
                                           format_checker=FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in validator.iter_errors(instance)]




def object_parts(schema: dict) -> tuple[dict, list]:
    """(properties, required) of an object schema, with its `allOf` parts merged in."""
    schema = schema or {}
    props, required = dict(schema.get("properties") or {}), list(schema.get("required") or [])
    for part in schema.get("allOf") or []:
        more_props, more_required = object_parts(part)
        props.update(more_props)
        required += more_required
    return props, required


def properties(schema: dict) -> dict:
    """An object schema's properties, those of its `allOf` parts included."""
    return object_parts(schema)[0]


def is_envelope(schema: dict) -> bool:
    """Whether an object schema wraps its record in `data` (Amar's `{success, data}`): it has a
    `data` property and no `id` of its own."""
    props = properties(schema)
    return "data" in props and "id" not in props


def record_schema(schema: dict) -> dict:
    """The schema of the record an answer carries: the `data` of an envelope, else the schema."""
    return properties(schema)["data"] if is_envelope(schema) else (schema or {})
