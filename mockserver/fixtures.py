"""Seed data, read and checked before a mock starts (and a `PUT /__admin/state`, checked the same way).

A fixtures file is YAML (JSON is YAML too):

    credentials:        optional: the demo credentials the table prints, each a mapping
      - {scheme: bearer, header: "Authorization: Bearer KEY"}
    collections:        required: each collection the API keeps, a list of records
      events:
        - {id: evt_1, title: ...}

Checked: the layout; every collection name is one the API keeps (the spec's `x-resource` names and
the ones its module in `mockserver/apis/` lists in its `API.collections`), so a misspelled one is an error,
not an ignored list; every record against its collection's schema (the spec's component schema,
or the module's own for what the spec does not describe, such as API keys), leaving out the
mock's private fields (`_password`, `_token`: a leading underscore); ids unique in a collection.
Any problem raises `FixtureError`, naming the file, collection, record and field.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import pathlib
import re

import jsonschema
import yaml

from apispec.load import FIXTURES_DIR
from apispec.model import contract
from apispec.refs import deref
from apispec.schema import object_parts, to_json_schema

from .validation import FORMAT_CHECKER

LAYOUT_KEYS = ("credentials", "collections")
MAX_PROBLEMS = 20


class FixtureError(ValueError):
    """Fixtures (or a state) that the mock cannot start from: every problem, one a line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        super().__init__("\n".join(shown) + (f"\n... and {more} more" if more else ""))


def read(slug: str, path: str | pathlib.Path | None = None) -> dict:
    """The fixtures of `slug` (its own file, or `path`), checked."""
    path = pathlib.Path(path) if path else FIXTURES_DIR / f"{slug}.yaml"
    data = parse(path)
    check(slug, data, str(path))
    return data


def parse(path: pathlib.Path):
    """The YAML in `path`, or a FixtureError saying where and what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FixtureError([f"{path}: no such file"]) from None
    except IsADirectoryError:
        raise FixtureError([f"{path}: is a directory, not a file"]) from None
    except UnicodeDecodeError as exc:
        raise FixtureError([f"{path}: not UTF-8 text (byte {exc.start})"]) from None
    except OSError as exc:
        raise FixtureError([f"{path}: {exc.strerror or exc}"]) from None
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if getattr(exc, "context", None):
            what += f" ({exc.context})"
        raise FixtureError([f"{where}: not valid YAML: {what}"]) from None


def check(slug: str, data, source: str, *, layout_keys=LAYOUT_KEYS) -> None:
    """Raise FixtureError listing every problem of `data` as the fixtures of `slug`."""
    problems = list(_problems(slug, data, source, layout_keys))
    if problems:
        raise FixtureError(problems)


def _problems(slug: str, data, source: str, layout_keys):
    if not isinstance(data, dict):
        yield (f"{source}: expected a mapping with `collections:` (each collection a list of records), "
               f"found {_kind(data)}")
        return
    for key in data:
        if key not in layout_keys:
            yield f"{source}: unknown top-level key {key!r} (expected {', '.join(layout_keys)})"
    if "credentials" in data and "credentials" in layout_keys:
        credentials = data["credentials"]
        if not isinstance(credentials, list) or not all(isinstance(c, dict) for c in credentials):
            yield f"{source}: credentials: expected a list of mappings, found {_kind(credentials)}"
    if "collections" not in data:
        yield f"{source}: no `collections:` (each collection the API keeps, a list of records)"
        return
    collections = data["collections"]
    if not isinstance(collections, dict):
        yield f"{source}: collections: expected a mapping of collection name to records, found {_kind(collections)}"
        return
    known = kept_collections(slug)
    for name, records in collections.items():
        where = f"{source}: collection {name!r}"
        if name not in known:
            close = _closest(str(name), known)
            hint = f" (did you mean {close!r}?)" if close else ""
            yield f"{where}: {slug} keeps no such collection{hint}; it keeps {', '.join(sorted(known))}"
            continue
        if records is None:
            continue
        if not isinstance(records, list):
            yield f"{where}: expected a list of records, found {_kind(records)}"
            continue
        validator = _validator(slug, name)
        seen_ids = set()
        for index, record in enumerate(records):
            label = f"{where}, record {index + 1}"
            if not isinstance(record, dict):
                yield f"{label}: expected a mapping of fields, found {_kind(record)}"
                continue
            if "id" in record:
                label += f" (id {record['id']!r})"
                try:
                    if record["id"] in seen_ids:
                        yield f"{label}: field 'id': another record of {name!r} has this id"
                    seen_ids.add(record["id"])
                except TypeError:
                    yield f"{label}: field 'id': expected a string or a number, found {_kind(record['id'])}"
            for key in record:
                if not isinstance(key, str):
                    yield f"{label}: field {key!r}: a field name is text, found {_kind(key)}"
            public = {k: v for k, v in record.items() if isinstance(k, str) and not k.startswith("_")}
            for error in sorted(validator.iter_errors(public), key=lambda e: list(map(str, e.absolute_path))):
                yield f"{label}: {_say(error)}"


@dataclasses.dataclass(frozen=True)
class Record:
    """How an API module declares a collection it keeps (its `API.collections`): the schema of a stored
    record, a component of the spec by name or a JSON Schema of its own, with `also` components whose
    fields the record carries for other answers, `derived` fields the mock computes when it answers
    (not stored: not required), `omit` fields of the schema that are never stored, and `extra` fields
    the schema lacks. A stored record holds no field outside these (a misspelt or broken key is an error).
    """

    schema: str | dict
    also: tuple[str, ...] = ()
    derived: tuple[str, ...] = ()
    omit: tuple[str, ...] = ()
    extra: dict | None = None


def kept_collections(slug: str) -> dict[str, dict]:
    """Each collection the API keeps -> its record schema (JSON Schema)."""
    return _schemas(slug)


@functools.cache
def _schemas(slug: str) -> dict[str, dict]:
    spec = contract(slug)
    from . import apis  # the API modules import this one (Record)

    declared = apis.load(slug).collections
    names = {op.resource["name"] for op in spec.operations.values() if op.resource} | set(declared)
    missing = sorted(names - set(declared))
    if missing:
        raise LookupError(f"mockserver/apis/{slug}.py: API.collections does not declare {', '.join(missing)}")
    return {name: _record_schema(spec.raw, declared[name]) for name in names}


def _record_schema(raw: dict, record: Record) -> dict:
    def component(schema):
        schema = deref(raw, raw["components"]["schemas"][schema]) if isinstance(schema, str) else schema
        return to_json_schema(schema)

    fields = object_parts  # properties and required fields, through allOf
    props, required = fields(component(record.schema))
    for other in record.also:
        more, _ = fields(component(other))
        props = {**more, **props}
    props.update(record.extra or {})
    for name in record.omit:
        props.pop(name, None)
    dropped = set(record.omit) | set(record.derived)
    return {"type": "object", "properties": props, "required": [f for f in dict.fromkeys(required) if f not in dropped],
            "additionalProperties": False}


@functools.cache
def _validator(slug: str, name: str):
    return jsonschema.Draft4Validator(_schemas(slug)[name], format_checker=FORMAT_CHECKER)


def _say(error: jsonschema.ValidationError) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        named = re.match(r"^'(.+)' is a required property$", error.message)
        field = ".".join([*path, named.group(1)]) if named else ".".join(path)
        return f"field {field!r}: required, missing"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        field = ".".join([*path, *extra[:1]])
        return f"field {field!r}: not a field of this record (its schema allows no others)"
    field = ".".join(path) or "(the record)"
    message = error.message
    if error.validator == "type" and type(error.instance).__name__ in ("date", "datetime"):
        message += " (YAML reads an unquoted date as a date: quote it)"
    return f"field {field!r}: {message}"


def _kind(value) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: f"the text {value!r}"[:60]}.get(type(value), type(value).__name__)


def _closest(name: str, known) -> str | None:
    found = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return found[0] if found else None
