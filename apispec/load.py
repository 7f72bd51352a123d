"""Where the specs and fixtures are, and reading a spec: the one loader every package uses."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import yaml

SPEC_DIR = pathlib.Path(__file__).resolve().parent.parent / "specs"
FIXTURES_DIR = pathlib.Path(__file__).resolve().parent.parent / "fixtures"
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


def operations(spec: dict) -> Iterator[tuple[str, str, dict]]:
    """(METHOD, path, operation) for every operation in the spec."""
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]



