"""Resources read back (`x-resource`): what was created or updated is what a read then shows."""

from __future__ import annotations

from apispec import ext
from apispec.model import Operation
from apispec.schema import properties

from ..context import Run
from ..identity import identity_for
from .helpers import (
    attempt,
    fail,
    is_success,
    judged,
    operation_for,
    record_in,
    rule,
    settle,
    shown,
    valid_success,
)


@rule
def created_reads_back(ctx, response, case):
    """A created resource reads back as it was sent."""
    run, op = judged(case)
    if not op or not op.resource or op.resource.get("action") != "create" or not is_success(response):
        return True
    if not isinstance(case.body, dict):
        return True
    reader = next((o for o in run.contract.operations.values()
                   if o.resource == {"name": op.resource["name"], "action": "read"} and o.method == "GET"), None)
    created = record_in(op, response)
    if reader is None or not isinstance(created, dict) or "id" not in created:
        return True
    path_params = [p["name"] for p in reader.parameters if p.get("in") == "path"]
    if len(path_params) != 1:
        return True
    path = reader.path.replace("{" + path_params[0] + "}", str(created["id"]))
    # the creator may not read it (Amar: a user is read back by admins only): a role the reader
    # admits may, and if none can, nothing can be judged
    read = _read_as_admitted(run, reader, path, writer=op)
    if read is None:
        return True
    if read.status_code != 200:
        fail(f"GET {path} after create answered {shown(read)}; expected 200")
    record = record_in(reader, read)
    body = {k: v for k, v in case.body.items() if k not in run.credentials.default.body}
    differences = _differences(op.body_schema(), body, record)
    if differences:
        fail("created resource does not read back as sent: " + "; ".join(differences[:5]))
    return None


def _differences(schema: dict, sent, read, path: str = "") -> list[str]:
    """Where `read` does not hold what was `sent`: fields the schema declares must come back
    equal; objects may come back with more (ids, counts), lists with the same length."""
    if isinstance(sent, dict) and isinstance(read, dict):
        props = properties(schema)
        out = []
        for key, value in sent.items():
            if key in props and key in read:
                out += _differences(props[key], value, read[key], f"{path}{key}.")
        return out
    if isinstance(sent, list) and isinstance(read, list) and (schema or {}).get("items"):
        if len(sent) != len(read):
            return [f"{path.rstrip('.')}: sent {len(sent)} items, read {len(read)}"]
        return [d for i, (a, b) in enumerate(zip(sent, read, strict=True))
                for d in _differences(schema["items"], a, b, f"{path}{i}.")]
    if sent != read:
        return [f"{path.rstrip('.')}: sent {sent!r}, read {read!r}"]
    return []


def _reader(run: Run, op: Operation) -> Operation | None:
    """The operation that reads the resource `op` acts on: the collection's `x-resource` read, else
    a GET on the same path."""
    name = (op.resource or {}).get("name")
    ops = list(run.contract.operations.values())
    return (next((o for o in ops if name and o.resource == {"name": name, "action": "read"} and o.method == "GET"),
                 None)
            or next((o for o in ops if o.path == op.path and o.method == "GET"), None))


def _read_path(reader: Operation, op: Operation, case) -> str | None:
    """The reader's path for the resource the case named: the same path parameters, or its one
    parameter given the case's one path value."""
    values = dict(case.path_parameters or {})
    names = [p["name"] for p in reader.parameters if p.get("in") == "path"]
    if not names and reader.path == op.path:
        return reader.path
    if names and all(n in values for n in names):
        path = reader.path
        for n in names:
            path = path.replace("{" + n + "}", str(values[n]))
        return path
    if len(names) == 1 and len(values) == 1:
        return reader.path.replace("{" + names[0] + "}", str(next(iter(values.values()))))
    return None


def _read_as_admitted(run: Run, reader: Operation, path: str, writer: Operation | None = None):
    """GET `path` as the identity the write went out as (`identity_for` the writing operation: Amar's
    /users/me is a user's own record); on 403, as a role the reader admits (None: no one may)."""
    read = run.request("GET", path, identity_for(run, writer) if writer is not None else run.credentials.default)
    if read.status_code == 403 and ext.access.of(reader):
        admitted = [i for role, i in run.credentials.roles.items()
                    if role in ext.access.of(reader).get("key_types", [])]
        read = next((r for r in (run.request("GET", path, i) for i in admitted) if r.status_code != 403), None)
    return read


@rule
def updated_reads_back(ctx, response, case):
    """After a successful update, a read shows the new values. A field the update's own answer
    already showed unchanged is the server's documented choice (Amar ignores an organizer's `plan`),
    not a lost change."""
    run, op = operation_for(case)
    is_update = (op is not None and ((op.resource or {}).get("action") == "update"
                                     or op.method in ("PUT", "PATCH")))
    if not is_update or not valid_success(case, response, op) or not isinstance(case.body, dict):
        return True
    reader = _reader(run, op)
    path = _read_path(reader, op, case) if reader is not None else None
    body = {k: v for k, v in case.body.items() if k not in run.credentials.default.body}
    if path is None or not body or not attempt(run, "update-read", op.operation_id):
        return True
    read = _read_as_admitted(run, reader, path, writer=op)
    if read is None or read.status_code == 429:
        return True
    if read.status_code != 200:
        fail(f"GET {path} after update answered {read.status_code}, expected 200: {read.text[:200]}")
    schema = op.body_schema()
    answered = record_in(op, response)
    if isinstance(answered, dict):
        # what the update itself said it stored: fields it answered differently are not judged here
        body = {k: v for k, v in body.items() if not _differences(schema, {k: v}, answered)}
    if not body:
        return True  # the update itself changed nothing it was sent: another case may judge it
    settle(run, "update-read", op.operation_id)
    differences = _differences(schema, body, record_in(reader, read))
    if differences:
        fail(f"updated resource does not read back as the update answered (GET {path}): "
             + "; ".join(differences[:5]))
    return None
