"""The store's state as a document: downloaded (`GET /__admin/state`), loaded (`PUT /__admin/state`),
and kept in a file across restarts (`mockserver serve SLUG --state FILE`: loaded at start if the file
exists, written at shutdown).

The document is what `GET /__admin/state` answers: each collection's records, private fields
(`_password`, `_token`) included, `{"events": [...], ...}`; the fixtures' layout
(`{"collections": {...}}`) is accepted too. A state is checked as fixtures are (fixtures.py): a
collection the API does not keep, or a record that breaks its schema, is refused with every problem
named, and nothing changes.
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile

from .fixtures import FixtureError, check, kept_collections, parse


def document(store) -> dict[str, list[dict]]:
    """The store's collections, as JSON values."""
    return json.loads(json.dumps(store.snapshot(), default=str))


def collections_of(slug: str, data):
    """The collections a state document holds (its own layout or the fixtures')."""
    if (isinstance(data, dict) and isinstance(data.get("collections"), dict)
            and "collections" not in kept_collections(slug)):
        extra = sorted(set(data) - {"collections", "credentials"})
        if not extra:
            return data["collections"]
    return data


def checked(slug: str, data, source: str) -> dict[str, list[dict]]:
    """The collections of a state document, or FixtureError naming every problem."""
    collections = collections_of(slug, data)
    if not isinstance(collections, dict):
        raise FixtureError([f"{source}: expected a mapping of collection name to records (as GET /__admin/state "
                            f"answers), found {type(collections).__name__ if collections is not None else 'nothing'}"])
    check(slug, {"collections": collections}, source, layout_keys=("collections",))
    return collections


def load(mock, data, source: str) -> None:
    """Replace the store's state by `data`, checked first: a FixtureError changes nothing."""
    mock.store.load(checked(mock.contract.slug, data, source))


def read_file(slug: str, path: str | pathlib.Path) -> dict[str, list[dict]] | None:
    """The state kept in `path`, checked; None when there is no such file yet."""
    path = pathlib.Path(path)
    if not path.exists():
        return None
    return checked(slug, parse(path), str(path))


def write_file(path: str | pathlib.Path, state: dict) -> None:
    """Write the state to `path` whole or not at all (a new file renamed over the old)."""
    path = pathlib.Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(state, out, indent=1, ensure_ascii=False)
            out.write("\n")
        os.replace(temporary, path)
    except BaseException:
        pathlib.Path(temporary).unlink(missing_ok=True)
        raise
