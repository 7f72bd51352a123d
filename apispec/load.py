"""Where the specs and fixtures are, and reading a spec: the one loader every package uses."""

from __future__ import annotations

import importlib.resources
import pathlib
from collections.abc import Iterator

import yaml


def _data_dir(name: str) -> pathlib.Path:
    """specs/ or fixtures/: shipped inside this package once installed (`apispec/specs`, mapped from
    the top of the repository by pyproject.toml), else at the top of the source checkout this
    package sits in (a checkout, an editable install)."""
    shipped = importlib.resources.files(__package__) / name
    if shipped.is_dir():
        return pathlib.Path(str(shipped))
    return pathlib.Path(__file__).resolve().parent.parent / name


SPEC_DIR = _data_dir("specs")
FIXTURES_DIR = _data_dir("fixtures")
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



