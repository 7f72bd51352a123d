"""Static checks of a spec: valid OpenAPI, resolvable refs, operation hygiene, examples
that match their own schemas.

Each finding is a plain string; an empty list means the spec passes. Used by
`make lint`, `contract-test lint SLUG` and the spec tests.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import jsonschema
import yaml
from openapi_spec_validator import validate as validate_openapi

SPEC_DIR = pathlib.Path(__file__).resolve().parent.parent / "specs"
SLUGS = ("namak", "amarevents", "tickets", "ecoevents", "eventify")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def spec_path(slug_or_path: str) -> pathlib.Path:
    path = pathlib.Path(slug_or_path)
    if path.suffix in (".yaml", ".yml", ".json"):
        return path
    return SPEC_DIR / f"{slug_or_path}.yaml"


def load_spec(slug_or_path: str) -> dict:
    with open(spec_path(slug_or_path), encoding="utf-8") as fh:
        # libyaml's loader where PyYAML has it: the largest spec parses in a tenth of the time
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def resolve(spec: dict, node):
    """Follow `$ref`s (local ones only) until a non-ref node is reached."""
    seen = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if ref in seen or not ref.startswith("#/"):
            raise LookupError(f"cannot resolve {ref}")
        seen.add(ref)
        target = spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise LookupError(f"unresolved $ref {ref}")
            target = target[part]
        node = target
    return node


def deref(spec: dict, node):
    """A deep copy of `node` with every local `$ref` replaced by its target."""
    node = resolve(spec, node)
    if isinstance(node, dict):
        return {key: deref(spec, value) for key, value in node.items()}
    if isinstance(node, list):
        return [deref(spec, value) for value in node]
    return node


def operations(spec: dict) -> Iterator[tuple[str, str, dict]]:
    """(METHOD, path, operation) for every operation in the spec."""
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


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


def _media_examples(spec: dict, where: str, content: dict) -> Iterator[tuple[str, dict, object]]:
    for media_type, media in (content or {}).items():
        media = resolve(spec, media)
        schema = media.get("schema")
        if schema is None:
            continue
        if "example" in media:
            yield f"{where} {media_type} example", schema, media["example"]
        for name, example in (media.get("examples") or {}).items():
            example = resolve(spec, example)
            if "value" in example:
                yield f"{where} {media_type} examples/{name}", schema, example["value"]


def examples(spec: dict) -> Iterator[tuple[str, dict, object]]:
    """(where, schema, example) for every example attached to a media type or parameter."""
    for method, path, op in operations(spec):
        label = f"{method} {path}"
        for param in op.get("parameters", []):
            param = resolve(spec, param)
            if "example" in param and "schema" in param:
                yield f"{label} parameter {param['name']} example", param["schema"], param["example"]
        body = resolve(spec, op.get("requestBody") or {})
        yield from _media_examples(spec, f"{label} request", body.get("content"))
        for status, response in op.get("responses", {}).items():
            response = resolve(spec, response)
            yield from _media_examples(spec, f"{label} {status}", response.get("content"))
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        if "example" in schema:
            yield f"components/schemas/{name} example", schema, schema["example"]


def all_refs(node) -> Iterator[str]:
    """Every `$ref` string anywhere in `node`."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from all_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_refs(value)


def _inferred_marks(node, path: str = "#") -> list[str]:
    """`x-inferred` is `true`, or a list of keywords the schema holding it has (specs/README.md)."""
    problems = []
    if isinstance(node, dict):
        mark = node.get("x-inferred")
        if mark is not None and mark is not True:
            if not isinstance(mark, list) or not mark or any(k not in node for k in mark):
                problems.append(f"{path}: x-inferred must be true or a list of this schema's keywords, got {mark!r}")
        for key, value in node.items():
            problems += _inferred_marks(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            problems += _inferred_marks(value, f"{path}/{i}")
    return problems


def lint(slug_or_path: str) -> list[str]:
    """Every problem found in one spec, as one line each."""
    try:
        spec = load_spec(slug_or_path)
    except (OSError, yaml.YAMLError) as exc:
        return [f"cannot read spec: {exc}"]
    problems = []
    try:
        validate_openapi(spec)
    except Exception as exc:  # the validator raises several unrelated types
        problems.append(f"invalid OpenAPI: {str(exc).splitlines()[0][:300]}")
    if not str(spec.get("openapi", "")).startswith("3.0."):
        problems.append("openapi must be 3.0.x (Connexion 3.3 refuses 3.1)")
    for ref in sorted(set(all_refs(spec))):
        try:
            resolve(spec, {"$ref": ref})
        except LookupError as exc:
            problems.append(str(exc))
    if "x-error-body" not in spec:
        problems.append("no x-error-body: the API's error body is not declared")
    seen_ids: dict[str, str] = {}
    for method, path, op in operations(spec):
        label = f"{method} {path}"
        op_id = op.get("operationId")
        if not op_id:
            problems.append(f"{label}: no operationId")
        elif op_id in seen_ids:
            problems.append(f"{label}: operationId {op_id} also used by {seen_ids[op_id]}")
        else:
            seen_ids[op_id] = label
        statuses = set(map(str, op.get("responses", {})))
        if not any(s.startswith("2") for s in statuses):
            problems.append(f"{label}: no 2xx response")
        if not any(s.startswith(("4", "5")) for s in statuses):
            problems.append(f"{label}: no error responses")
    problems += _inferred_marks(spec)
    for where, schema, example in examples(spec):
        try:
            errors = schema_errors(spec, schema, example)
        except LookupError as exc:
            errors = [str(exc)]
        problems.extend(f"{where} does not match its schema: {e}" for e in errors[:3])
    return problems


def main(argv: list[str] | None = None) -> int:
    import sys

    targets = (argv if argv is not None else sys.argv[1:]) or list(SLUGS)
    failed = 0
    for target in targets:
        problems = lint(target)
        if problems:
            failed += 1
            print(f"{target}: {len(problems)} problem(s)")
            for problem in problems:
                print(f"  - {problem}")
        else:
            print(f"{target}: ok")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
