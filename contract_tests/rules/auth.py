"""Credentials and access: a missing or wrong credential is refused in the API's error body, each
key type is held to its permissions (`x-access`), and a credential is good only for its own
identity (`x-body-auth`, `x-issues-credential`, records another account created)."""

from __future__ import annotations

import time

from apispec import ext
from apispec.model import Operation
from apispec.schema import properties

from ..context import Identity, Run
from .errors import error_body_errors, error_body_problems
from .helpers import (
    FILTER_PAGES,
    answer_json,
    attempt,
    fail,
    is_success,
    items_of,
    judged,
    operation_for,
    probe_curl,
    record_in,
    record_key,
    resend,
    rule,
    settle,
    shown,
    size_param,
    valid_success,
)


@rule
def missing_credential_rejected(ctx, response, case):
    """A request without credentials is refused in the API's own error body: 401 for a header
    credential; for credentials carried in the body, the status the API documents for them."""
    run, op = judged(case)
    if not op or not is_success(response) or not _needs_credentials(run, op):
        return True
    if not run.first_time("anonymous", op.operation_id):
        return True
    bare = resend(run, case, None)
    expected = {401} if op.spec.get("security") else {400, 401}
    if bare.status_code not in expected:
        fail(f"without credentials expected {' or '.join(map(str, sorted(expected)))}, got {shown(bare)}"
             + probe_curl(bare))
    errors = error_body_errors(run, op, bare)
    if errors:
        fail(f"{bare.status_code} without credentials is not in the API's error body: " + "; ".join(errors)
             + f". Body: {shown(bare)}" + probe_curl(bare))
    return None


def _needs_credentials(run: Run, op: Operation) -> bool:
    return bool(op.spec.get("security")) or bool(ext.credentials.body_auth(op))


@rule
def key_permissions_enforced(ctx, response, case):
    """Every key type is held to its permissions: a key type the operation does not admit gets 403."""
    run, op = judged(case)
    access = ext.access.of(op) if op else None
    if not access or not is_success(response):
        return True
    tried = False
    for role, identity in run.credentials.roles.items():
        if role in (access.get("key_types") or [role]) or role == "default":
            continue
        if not run.first_time("role", op.operation_id, role):
            continue
        tried = True
        answer = resend(run, case, identity)
        if answer.status_code != 403:
            fail(f"a {role} key should get 403 on {op.method} {op.path} (admits "
                 f"{', '.join(access['key_types'])}); got {shown(answer)}" + probe_curl(answer))
    return None if tried else True


def _revoking(op: Operation) -> bool:
    """An operation that may invalidate a credential: never probed with the run's own identity or
    a name it uses, so a probe cannot log the run out (a broken server may ignore the token)."""
    return bool(ext.credentials.revokes(op))


def _mangled(value: str) -> str:
    """A credential of the same shape that is not this one: each letter and digit moved one on."""
    def moved(ch: str) -> str:
        if ch.isdigit():
            return str((int(ch) + 1) % 10)
        if "a" <= ch.lower() <= "z":
            base = ord("a") if ch.islower() else ord("A")
            return chr(base + (ord(ch) - base + 1) % 26)
        return ch
    return "".join(moved(ch) for ch in value)


def _wrong_identity(run: Run) -> Identity | None:
    """The run's own identity with its secret changed: a header's credential after its scheme word
    (`Bearer x`, `Token x`, `session=x`), the body's token field (`x-body-auth`). None: nothing to change."""
    identity = run.credentials.default
    headers = {}
    for name, value in identity.headers.items():
        if name.lower() == "cookie":
            headers[name] = "; ".join(f"{k}={_mangled(v)}" for k, _, v in
                                      (part.strip().partition("=") for part in value.split(";")))
        else:
            scheme, _, secret = value.rpartition(" ")
            headers[name] = f"{scheme} {_mangled(secret)}".strip()
    body = dict(identity.body)
    token_field = (ext.credentials.body_auth(run.contract) or {}).get("token")
    if token_field in body:
        body[token_field] = _mangled(str(body[token_field]))
    if headers == identity.headers and body == identity.body:
        return None
    return Identity("wrong", headers, body)


def _refusal_statuses(op: Operation) -> set[int]:
    """What a refused credential gets: 401 for a header credential; for one carried in the body,
    the refusals (401, 403) the operation documents."""
    if op.spec.get("security"):
        return {401}
    return {s for s in (401, 403) if op.response(s) is not None} or {401}


def _judge_refusal(run: Run, op: Operation, answer, what: str) -> None:
    """Fail unless `answer` refuses the request as the spec says (status and error body)."""
    expected = _refusal_statuses(op)
    if answer.status_code not in expected:
        fail(f"{what}: expected {' or '.join(map(str, sorted(expected)))}, got "
             f"{answer.status_code}: {answer.text[:200].strip()}" + probe_curl(answer))
    problems = error_body_problems(run, op, answer)
    if problems:
        fail(f"{what}: {answer.status_code} is not in the API's error body: " + "; ".join(problems[:3])
             + f". Body: {answer.text[:200]}" + probe_curl(answer))


@rule
def wrong_credential_rejected(ctx, response, case):
    """A wrong credential is refused in the API's own error body: 401 for a header credential;
    for a token carried in the body (`x-body-auth`), the refusal the operation documents."""
    run, op = operation_for(case)
    if not valid_success(case, response, op) or not _needs_credentials(run, op) or _revoking(op):
        return True
    wrong = _wrong_identity(run)
    if wrong is None or not run.first_time("wrong-credential", op.operation_id):
        return True
    answer = resend(run, case, wrong)
    if answer.status_code == 429:
        return True
    sent = {**wrong.headers, **wrong.body}
    _judge_refusal(run, op, answer, f"with a wrong credential ({', '.join(f'{k}: {v}' for k, v in sent.items())})")
    return None


# --- credential_bound_to_identity -------------------------------------------------------------


def _fresh_like(value, field_schema: dict, tag: str):
    """A value of the same shape as `value` that no record holds yet."""
    if field_schema.get("format") == "email":
        return f"contract-{tag}@example.com"
    if isinstance(value, str) and any(ch.isdigit() for ch in value):
        digits = iter(str(int(tag, 16))[::-1])  # the last digits change: "+1234567890" -> "+1234512345"
        return "".join(next(digits, "7") if ch.isdigit() else ch for ch in value[::-1])[::-1]
    if isinstance(value, str):
        return f"{value}-{tag}" if value else f"contract-{tag}"
    return value


def _example_body(op: Operation) -> dict:
    media = (op.spec.get("requestBody") or {}).get("content", {}).get("application/json", {})
    example = media.get("example", op.body_schema().get("example"))
    return dict(example) if isinstance(example, dict) else {}


def _from_link(expression, sent: dict, answered):
    """A link's `$request.body#/x` or `$response.body#/x` (one level) against one exchange."""
    if not isinstance(expression, str) or not expression.startswith("$"):
        return expression
    source, _, pointer = expression.partition("#/")
    record = sent if source == "$request.body" else answered if source == "$response.body" else None
    return record.get(pointer) if isinstance(record, dict) else None


def _second_account(run: Run) -> Identity | None:
    """A second account of the run's own (body credentials): registered through the operation that
    links to the spec's login (`x-issues-credential`) with fresh values for its `x-unique` and email
    fields, then logged in. Once per run; None when the server would not give one."""
    if not run.first_time("second-account"):
        return run.__dict__.get("_second_account")
    run.__dict__["_second_account"] = None
    ops = list(run.contract.operations.values())
    login = next((o for o in ops if ext.credentials.issues(o)), None)
    if login is None:
        return None
    for register in ops:
        link = next((link for response in (register.spec.get("responses") or {}).values()
                     for link in ((response or {}).get("links") or {}).values()
                     if link.get("operationId") == login.operation_id), None)
        if link is None or register is login:
            continue
        tag = format(time.time_ns(), "x")[-12:]  # fresh each run
        schema = register.body_schema()
        body = _example_body(register)
        for name, prop in properties(schema).items():
            if name in body and (ext.unique.is_unique(prop) or prop.get("format") == "email"):
                body[name] = _fresh_like(body[name], prop, tag)
            elif name not in body and name in (schema.get("required") or []):
                body[name] = _fresh_like("", prop, tag)
        created = run.request(register.method, register.path, None, json=body)
        if not is_success(created):
            return None
        login_body = {k: _from_link(v, body, answer_json(created)) for k, v in (link.get("requestBody") or {}).items()}
        answer = run.request(login.method, login.path, None, json=login_body)
        issued = answer_json(answer)
        if answer.status_code != 200 or not isinstance(issued, dict):
            return None
        fields = ext.credentials.issues(login)
        if not all(issued.get(source) for source in fields.values()):
            return None
        run.__dict__["_second_account"] = Identity("second", {}, {k: issued[s] for k, s in fields.items()})
        return run.__dict__["_second_account"]
    return None


def _bound_in_body(run: Run, op: Operation, case) -> bool:
    """Eventify: the run's token with the second account's name, and the second token with the
    run's name, are each refused. False when there is no second account to try."""
    second = _second_account(run)
    own = run.credentials.default.body
    fields = ext.credentials.body_auth(run.contract) or {}
    token, name = fields.get("token"), fields.get("username")
    if second is None or not own.get(token) or not own.get(name):
        return False
    swaps = [({token: own[token], name: second.body[name]},
              f"the run's token with the second account's {name} {second.body[name]!r}"),
             ({token: second.body[token], name: own[name]},
              f"the second account's {token} {second.body[token]!r} with the run's {name} {own[name]!r}")]
    for body, what in swaps:
        answer = resend(run, case, Identity("swapped", {}, body))
        if answer.status_code == 429:
            return False
        _judge_refusal(run, op, answer, what)
    return True


OWNER_TRIES = 20  # created records tried per operation: one the other keys may see (the document's own
                 # example ticket is the demo user's) tells nothing, and the examples come first


def _admits(op: Operation, role: str) -> bool:
    access = ext.access.of(op)
    return access is None or role in (access.get("key_types") or [role])


def _listed_for(run: Run, lister: Operation, identity: Identity) -> set | None:
    items: list = []
    paging = ext.paging.of(lister) or {}
    size_name, size = size_param(lister)
    for page in range(1, FILTER_PAGES + 1):
        query = {paging["page"]: page, size_name: size} if size_name and paging.get("page") and size else None
        answer = run.request("GET", lister.path, identity, params=query)
        got = items_of(lister, answer_json(answer)) if answer.status_code == 200 else None
        if got is None:
            return None
        items += got
        if query is None or len(got) < size:
            break
    return {record_key(item) for item in items}


def _bound_by_owner(run: Run, op: Operation, case, response) -> bool:
    """A record the run's identity just created, which another account's key does not list as
    its own, is not that key's to read or change: its read and update answer 403 or 404.
    Roles that may update the collection manage others' records by design and are left alone,
    except on credentials (a collection whose update may revoke one): those are always their
    owner's. False when nothing was judged."""
    created = record_in(op, response)
    name = (op.resource or {}).get("name")
    if not isinstance(created, dict) or created.get("id") is None or not op.spec.get("security"):
        return False
    ops = [o for o in run.contract.operations.values() if (o.resource or {}).get("name") == name]
    reader = next((o for o in ops if o.resource["action"] == "read" and o.method == "GET"), None)
    updater = next((o for o in ops if o.resource["action"] == "update"), None)
    listers = sorted((o for o in ops if o.resource["action"] == "list" and o.method == "GET" and "{" not in o.path),
                     key=lambda o: -len((ext.access.of(o) or {}).get("key_types") or ["*"] * 9))
    own = run.credentials.default
    judged = False
    for role, identity in run.credentials.roles.items():
        if (identity.headers, identity.body) == (own.headers, own.body):
            continue
        if updater is not None and _admits(updater, role) and not _revoking(updater):
            continue  # it manages the collection's records, others' included
        probes = []
        if reader is not None and reader.spec.get("security") and _admits(reader, role):
            probes.append((reader, None))  # a public read (Amar's events) is anyone's to make
        if updater is not None and _admits(updater, role):
            same = next(({k: created[k]} for k in properties(updater.body_schema()) if created.get(k) is not None),
                        None)
            if same is not None:
                probes.append((updater, same))  # a change that changes nothing, should it get through
        lister = next((o for o in listers if _admits(o, role)), None)
        for target, body in probes:
            param = next(p["name"] for p in target.parameters if p.get("in") == "path")
            path = target.path.replace("{" + param + "}", str(created["id"]))
            answer = run.request(target.method, path, identity, json=body)
            if answer.status_code in (403, 404):
                judged = True
                problems = error_body_problems(run, target, answer)
                if problems:
                    fail(f"{target.method} {path} as the {role} key: {answer.status_code} is not in the API's "
                         "error body: " + "; ".join(problems[:3]) + probe_curl(answer))
            elif is_success(answer):
                # reached: a violation unless the record is this key's own (or one it may see)
                listed = _listed_for(run, lister, identity) if lister else None
                if listed is None or record_key(created) in listed:
                    break
                fail(f"the {role} key reached {name} {created['id']}, created by another account and not "
                     f"in its own list ({lister.method} {lister.path}): {target.method} {path} answered "
                     f"{answer.status_code}, expected 403 or 404: {answer.text[:200]}" + probe_curl(answer))
    return judged


@rule
def credential_bound_to_identity(ctx, response, case):
    """A credential is good only for its own identity. Body credentials (`x-body-auth`): a second
    account the run registers and logs in; the run's token with its username, and its token with
    the run's username, are refused. Header credentials with several roles: a record the run
    creates is not another account's to read or change."""
    run, op = operation_for(case)
    if not valid_success(case, response, op) or _revoking(op):
        return True
    if ext.credentials.body_auth(op) and ext.credentials.body_auth(run.contract):
        if not run.first_time("bound", op.operation_id):
            return True
        return None if _bound_in_body(run, op, case) else True
    if (op.resource or {}).get("action") == "create" and len(run.credentials.roles) > 1:
        if not attempt(run, "bound", op.operation_id, limit=OWNER_TRIES):
            return True
        try:
            judged = _bound_by_owner(run, op, case, response)
        except AssertionError:
            settle(run, "bound", op.operation_id)  # one failure per operation is enough
            raise
        if not judged:
            return True
        settle(run, "bound", op.operation_id)
        return None
    return True
