"""Leaves no junk behind: every resource a run created is deleted at its end, through the spec's
own delete operation for that resource (`x-resource: {name, action: delete}`), as the identity that
created it.

What was created is seen on the wire: every 2xx answer to a create operation (`x-resource` action
`create`) that the run's requests get, whoever sent them (Schemathesis, through the run's
credential; our rules, through `run.http`), is registered with its id; a 2xx delete of it during
the run takes it off again. A rule that creates something another way calls `register`.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import re
import threading
from urllib.parse import urlsplit

import requests

from apispec.model import Operation

from .context import Identity, Run
from .pacing import RateLimitSpent


@dataclasses.dataclass
class Created:
    resource: str               # x-resource name (events, users, ...)
    id: str
    identity: Identity | None   # who created it (None: no identity of the run)
    operation: str = ""         # the create operation


@dataclasses.dataclass
class _Ledger:
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    created: dict = dataclasses.field(default_factory=dict)   # (resource, id) -> Created, in creation order
    gone: set = dataclasses.field(default_factory=set)        # deleted during the run
    removed: int = 0
    already_gone: int = 0
    failed: collections.Counter = dataclasses.field(default_factory=collections.Counter)  # why -> count
    cleaned: bool = False
    during: int = 0         # deleted by the run's own requests, before its end
    handled: set = dataclasses.field(default_factory=set)     # taken care of at an end already
    kept: bool = False


def ledger(run: Run) -> _Ledger:
    state = run.__dict__.get("_ledger")
    if state is None:
        state = run.__dict__.setdefault("_ledger", _Ledger())
    return state


def register(run: Run, resource: str, resource_id, identity: Identity | None = None, operation: str = "") -> None:
    """Remember a resource the run created, to delete it at the end (as `identity`)."""
    if resource_id is None or resource_id == "":
        return
    state = ledger(run)
    with state.lock:
        state.created.setdefault((resource, str(resource_id)), Created(resource, str(resource_id), identity, operation))


def observe(run: Run, request, response, identity: Identity | None = None) -> None:
    """Look at one answered request: a 2xx create registers what it made, a 2xx delete takes it off."""
    if not 200 <= response.status_code < 300:
        return
    path = urlsplit(request.url).path
    op = run.contract.operation_at(request.method or "GET", path)
    resource = op.resource if op is not None else None
    if not resource or resource.get("action") not in ("create", "delete"):
        return
    if resource["action"] == "delete":
        found = _path_id(op, path)
        if found is not None:
            state = ledger(run)
            with state.lock:
                state.gone.add((resource["name"], found))
        return
    if "json" not in (response.headers.get("Content-Type") or ""):
        return
    try:
        body = json.loads(response.content)
    except (TypeError, ValueError):
        return
    register(run, resource["name"], created_id(body), identity or identity_of(run, request), op.operation_id)


def created_id(body):
    """The id of what a create answered: `id` at the top, or in its `data` envelope."""
    if isinstance(body, dict):
        if isinstance(body.get("id"), (str, int)):
            return body["id"]
        data = body.get("data")
        if isinstance(data, dict) and isinstance(data.get("id"), (str, int)):
            return data["id"]
    return None


def identity_of(run: Run, request) -> Identity | None:
    """The run's identity whose credential a request carries."""
    candidates = [run.credentials.default, *run.credentials.roles.values()]
    body = None
    for identity in candidates:
        if identity.headers and all(request.headers.get(k) == v for k, v in identity.headers.items()
                                    if k.lower() != "cookie") and any(k.lower() != "cookie" for k in identity.headers):
            return identity
        if identity.body:
            if body is None:
                try:
                    body = json.loads(request.body or b"null")
                except (TypeError, ValueError):
                    body = {}
            if isinstance(body, dict) and all(body.get(k) == v for k, v in identity.body.items()):
                return identity
    return None


def _path_id(op: Operation, path: str) -> str | None:
    names = re.findall(r"\{([^}]+)\}", op.path)
    if len(names) != 1:
        return None
    pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(op.path)) + "$"
    match = re.match(pattern, path)
    return match.group(1) if match else None


def deleters(run: Run, resource: str) -> list[Operation]:
    ops = [op for op in run.contract.operations.values()
           if op.resource == {"name": resource, "action": "delete"} and len(re.findall(r"\{[^}]+\}", op.path)) == 1]
    return sorted(ops, key=lambda op: (op.path.count("admin"), op.path))


def clean(run: Run) -> None:
    """Delete every resource the run created and did not delete itself, newest first (a ticket
    before its event), each through its spec's delete operation as the identity that created it
    (then as the run's other identities, if that one may not)."""
    state = ledger(run)
    with state.lock:
        # a run may be executed more than once (the pytest entry point: once per operation): each
        # end deletes what is new since the last
        fresh = [(key, c) for key, c in state.created.items() if key not in state.handled]
        state.handled.update(key for key, _ in fresh)
        state.during += sum(1 for key, _ in fresh if key in state.gone)
        left = [c for key, c in fresh if key not in state.gone]
        state.cleaned = True
    for created in reversed(left):
        ops = deleters(run, created.resource)
        if not ops:
            state.failed[f"{created.resource}: the spec has no delete operation for it"] += 1
            continue
        who = []
        for identity in (created.identity or run.credentials.default, run.credentials.default,
                         *run.credentials.roles.values()):
            if not any(identity is w for w in who):
                who.append(identity)
        answer = _delete(run, ops, created.id, who)
        if isinstance(answer, RateLimitSpent):
            state.failed[f"{created.resource}: the rate limit is spent"] += 1
        elif isinstance(answer, Exception):
            state.failed[f"{created.resource}: {type(answer).__name__}"] += 1
        elif 200 <= answer.status_code < 300:
            state.removed += 1
        elif answer.status_code in (404, 410):
            state.already_gone += 1
        else:
            state.failed[f"{created.resource}: {ops[0].method} {ops[0].path} answered {answer.status_code}"] += 1


def _delete(run: Run, ops: list[Operation], resource_id: str, who: list[Identity]):
    """The first answer that is not a refusal of the identity (401/403), trying each delete
    operation as each identity in turn; or the exception that stopped it."""
    answer = None
    for op in ops:
        name = re.findall(r"\{([^}]+)\}", op.path)[0]
        path = op.path.replace("{" + name + "}", resource_id)
        for identity in who:
            try:
                answer = run.request(op.method, path, identity)
            except (requests.RequestException, RateLimitSpent) as exc:
                return exc
            if answer.status_code not in (401, 403):
                return answer
    return answer


def keep(run: Run) -> None:
    """The run keeps what it created (`--no-cleanup`): the summary says so."""
    ledger(run).kept = True


def note(run: Run) -> str | None:
    """The summary's line: how many resources were created, removed, and not removed (and why)."""
    state = ledger(run)
    with state.lock:
        total = len(state.created)
        by_kind = collections.Counter(c.resource for c in state.created.values())
        during = state.during if state.cleaned else sum(1 for key in state.created if key in state.gone)
    if not total:
        return "cleanup: the run created no resources" if state.cleaned else None
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(by_kind.items()))
    text = f"cleanup: {total} resources created ({kinds})"
    if state.kept:
        return text + f"; {during} deleted by the run itself, the rest kept (--no-cleanup)"
    if not state.cleaned:
        return text
    text += f"; {during} deleted by the run's own requests, {state.removed} deleted at its end"
    if state.already_gone:
        text += f", {state.already_gone} already gone"
    if state.failed:
        text += f"; {sum(state.failed.values())} could not be: " + "; ".join(
            f"{why} ({n})" for why, n in sorted(state.failed.items()))
    return text
