"""What the spec states beyond its source document (specs/README.md): `x-inferred` (true, or the
list of keywords of the schema holding it that are inferred) and `x-alternative` (a response the
document admits that the mock does not give)."""

from __future__ import annotations

from . import value


def mark(node):
    """The node's `x-inferred`: True, a list of keywords, or None."""
    return value(node, "inferred") if isinstance(node, dict) or hasattr(node, "spec") else None


def is_alternative(response) -> bool:
    return bool(value(response, "alternative")) if isinstance(response, dict) else False


def covers(node, keyword: str | None = None) -> bool:
    """Whether `node` is inferred as a whole (`x-inferred: true`), or, given `keyword`, whether
    that keyword of it is (`x-inferred: [minimum, ...]`)."""
    if not isinstance(node, dict):
        return False
    found = mark(node)
    return found is True or (keyword is not None and isinstance(found, list) and keyword in found)
