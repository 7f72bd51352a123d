"""Static checks of a spec: valid OpenAPI, resolvable refs, operation hygiene, examples
that match their own schemas.

Each finding is a plain string; an empty list means the spec passes. Used by
`make lint`, `contract-test lint SLUG` and the spec tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml
from openapi_spec_validator import validate as validate_openapi

from .load import SLUGS, load_spec, operations
from .refs import all_refs, resolve
from .schema import schema_errors


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
