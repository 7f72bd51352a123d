"""`$ref`s: following one, replacing all, listing them (local refs only: the specs are one file each)."""

from __future__ import annotations

from collections.abc import Iterator


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


