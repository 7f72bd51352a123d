"""Reading an input: an OpenAPI 3 document from a file or standard input, or SpecError."""

from __future__ import annotations

import pathlib
import sys

import yaml

from apispec.refs import all_refs, resolve


class SpecError(Exception):
    """An input that cannot be compared: the message is the one line the user sees."""


def load(path: str) -> dict:
    """An OpenAPI 3 document from a YAML or JSON file (`-`: standard input), or SpecError."""
    try:
        text = sys.stdin.read() if path == "-" else pathlib.Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SpecError(f"cannot read {path}: not UTF-8 text") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{path}: not valid YAML{where}: {problem}") from None
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise SpecError(f"{path}: not an OpenAPI 3 document (no 'openapi: 3.x' at the top)")
    if not isinstance(document.get("paths"), dict):
        raise SpecError(f"{path}: not an OpenAPI 3 document (no 'paths' mapping)")
    for ref in sorted(set(all_refs(document))):
        try:
            resolve(document, {"$ref": ref})
        except LookupError as exc:
            raise SpecError(f"{path}: {exc}") from None
    return document
