"""The run's identity: checked before the run, applied to every request by one provider, and kept
alive through it.

- `verify(run)`: every identity of the run (the default, and each role) is tried once on an
  authenticated operation a valid credential must answer with 2xx; the first one refused is
  named, with what came back. The runner stops there; `contract-test` exits 2.
- `RunCredentials`, a Schemathesis auth provider (`@schemathesis.auth`), puts the run's
  credentials on every case generated for one of our schemas (headers, cookies; the body fields
  go in through `apply_body`, from the `before_call` hook, so Schemathesis re-validates the edited
  body) and hands the transport a `CredentialAuth` (a `requests` auth). That one travels with the
  case and with every request Schemathesis derives from it while keeping its credentials (its
  control requests); its own auth probes and our `missing_credential_rejected` take credentials
  off on purpose, and so go without it.
- `CredentialAuth`, at send time: brings a credential the run has since renewed up to date,
  paces the request (pacing.py), and on the answer: waits out a 429 and sends again; after an
  operation that may revoke the credential (`x-revokes-credential`) answered 2xx, checks the
  credential and logs in again if it died; when a request with the current credential is answered
  401 where the spec documents 401, checks the credential the same way and, once renewed, sends
  the request again. A credential that died and cannot be renewed stops the run with a clear
  error (`IdentityLost`), never a run carried on untested.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import threading
from urllib.parse import urlsplit

import requests
import schemathesis
from schemathesis.auths import RequestsAuth

from apispec import ext
from apispec.model import Operation

from .context import Identity, Run, run_for
from .pacing import RateLimitSpent, credential_key, drain, pacer_for


class IdentityLost(KeyboardInterrupt):
    """The run's credential died and could not be renewed: the run stops (Schemathesis treats a
    KeyboardInterrupt from a request as a stop, as with its own `ServerWentAway`)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclasses.dataclass
class _Keeping:
    lock: threading.RLock = dataclasses.field(default_factory=threading.RLock)
    former: dict = dataclasses.field(default_factory=dict)        # (role, field) -> earlier values
    renewed: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (revoked | refused, operation)
    lost: str | None = None
    verified: dict = dataclasses.field(default_factory=dict)      # role -> problem (None: accepted)
    token_independent: set = dataclasses.field(default_factory=set)  # operations whose 401 is not the credential's
    auths: dict = dataclasses.field(default_factory=dict)


def keeping(run: Run) -> _Keeping:
    state = run.__dict__.get("_keeping")
    if state is None:
        state = run.__dict__.setdefault("_keeping", _Keeping())
    return state


# --- before the run ----------------------------------------------------------------------------

def identities(run: Run) -> list[Identity]:
    """The run's identities with a credential: the default first, then each role with another one."""
    found = [run.credentials.default]
    for identity in run.credentials.roles.values():
        if all((identity.headers, identity.body) != (i.headers, i.body) for i in found):
            found.append(identity)
    return [i for i in found if i.headers or i.body]


def check_operation(run: Run, identity: Identity) -> Operation | None:
    """An authenticated operation a valid credential of `identity` must answer with 2xx: for body
    credentials, the body-auth operation that takes nothing else (Eventify's status); for a header,
    a GET with no required parameter that every key type may call (or the role's own type)."""
    ops = list(run.contract.operations.values())
    if identity.body and ext.credentials.body_auth(run.contract):
        fields = set(identity.body)
        candidates = [op for op in ops if ext.credentials.body_auth(op) and not ext.credentials.revokes(op)
                      and set(op.body_schema().get("required") or []) <= fields]
        return min(candidates, key=lambda op: (len(op.body_schema().get("properties") or {}), bool(op.resource),
                                               op.path), default=None)
    if not identity.headers:
        return None

    def rank(op: Operation):
        access = ext.access.of(op) or {}
        types = access.get("key_types")
        admits = not types or identity.role in types or set(types) >= set(_key_types(run))
        return (not admits, bool(access.get("permission")), bool(op.resource), len(op.path), op.path)

    candidates = [op for op in ops if op.method == "GET" and op.spec.get("security")
                  and not any(p.get("required") for p in op.parameters)]
    best = min(candidates, key=rank, default=None)
    return best if best is not None and not rank(best)[0] else None


def _key_types(run: Run) -> set:
    return set(ext.credentials.declared_key_types(run.contract))


def _describe(identity: Identity) -> str:
    parts = [f"{k}: {v}" for k, v in identity.headers.items()] + [f"{k}={v}" for k, v in identity.body.items()]
    text = f'"{"; ".join(parts)}"'
    if identity.role not in ("default", "anonymous"):
        return f"the {identity.role} role's credential {text}"
    return ("the body credential " if identity.body and not identity.headers else "the credential ") + text


def _hint(identity: Identity) -> str:
    if identity.role not in ("default", "anonymous"):
        return f'check --role {identity.role}="Header: value"'
    return "check --body-credential" if identity.body and not identity.headers else "check -H/--header"


def _try(run: Run, identity: Identity, op: Operation):
    body = dict(identity.body) if ext.credentials.body_auth(op) else None
    return run.request(op.method, op.path, identity, json=body if body is not None else None)


def verify(run: Run) -> str | None:
    """Each identity of the run, tried once: None when every one is accepted, else a message
    naming the first one refused and what came back. Asked again, it answers from memory."""
    state = keeping(run)
    for identity in identities(run):
        with state.lock:
            if identity.role not in state.verified:
                state.verified[identity.role] = _verify_one(run, identity)
            problem = state.verified[identity.role]
        if problem:
            return problem
    return None


def _verify_one(run: Run, identity: Identity) -> str | None:
    op = check_operation(run, identity)
    if op is None:
        return None
    try:
        answer = _try(run, identity, op)
    except RateLimitSpent as exc:
        return exc.message
    except requests.RequestException as exc:
        return f"{_describe(identity)} could not be checked on {op.method} {op.path}: {type(exc).__name__}"
    if answer.status_code in (401, 403):
        text = " ".join(answer.text.split())[:200]
        return (f"{_describe(identity)} was refused ({answer.status_code} {text}) on {op.method} {op.path}: "
                f"{_hint(identity)}")
    return None


# --- the provider ------------------------------------------------------------------------------

@schemathesis.auth(refresh_interval=None)
class RunCredentials:
    """Schemathesis's auth provider for our schemas (none for another's): the run's default
    identity, found through the case's own run."""

    def get(self, case, context):
        run = run_for(case)
        if run is None:
            return None
        op = run.contract.operations.get(case.operation.definition.raw.get("operationId"))
        return auth_for(run, identity_for(run, op))

    def set(self, case, data: CredentialAuth, context):
        data.apply(case)
        # the transport carries the same credential code to every request sent for this case
        RequestsAuth(data).set(case, data, context)


def configure(schema) -> None:
    """The run supplies the credentials: Schemathesis generates no values of its own for the
    security parameters (as for credentials given with -H), so its cases are spent on the API's
    own parameters; its auth checks still take the credential off, and put a wrong one in."""
    schema.config.generation.update(with_security_parameters=False)


def identity_for(run: Run, op: Operation | None) -> Identity:
    """The identity a request to `op` goes out as: the run's own, unless the operation's `x-access`
    admits only other key types and the run holds a role it admits (Amar's /users/me is for users
    and organizers, and the demo default is the admin key): then the first such role, so the
    operation is tested at all. A default given with -H (role "default") is always used as given."""
    default = run.credentials.default
    admits = ((ext.access.of(op) if op is not None else None) or {}).get("key_types") or ()
    if not admits or default.role in admits or default.role not in _key_types(run):
        return default
    return next((i for role, i in run.credentials.roles.items() if role in admits), default)


def auth_for(run: Run, identity: Identity) -> CredentialAuth:
    state = keeping(run)
    with state.lock:
        auth = state.auths.get(identity.role)
        if auth is None or auth.identity is not identity:
            auth = state.auths[identity.role] = CredentialAuth(run, identity)
        return auth


def apply_body(case) -> None:
    """Body-borne credentials (Eventify's token + username) into a JSON body that needs them
    (called from `before_call`, so Schemathesis re-validates the edited case)."""
    run = run_for(case)
    if run is None:
        return
    op = run.contract.operations.get(case.operation.definition.raw.get("operationId"))
    identity = run.credentials.default
    if op is None or not ext.credentials.body_auth(op) or not isinstance(case.body, dict) or not identity.body:
        return
    case.body.update(identity.body)


def _operation(run: Run, request) -> Operation | None:
    return run.contract.operation_at(request.method or "GET", urlsplit(request.url).path)


def _json(body):
    if not body:
        return None
    try:
        return json.loads(body)
    except (TypeError, ValueError):
        return None


class CredentialAuth(requests.auth.AuthBase):
    """One identity of one run, as the transport applies it."""

    def __init__(self, run: Run, identity: Identity):
        self.run = run
        self.identity = identity

    # what a case carries
    def apply(self, case) -> None:
        for name, value in self.identity.headers.items():
            if name.lower() == "cookie":
                for part in value.split(";"):
                    if "=" in part:
                        key, _, val = part.strip().partition("=")
                        case.cookies[key] = val
            else:
                case.headers[name] = value

    # what goes out
    def __call__(self, request):
        state = keeping(self.run)
        if state.lost:
            raise IdentityLost(state.lost)
        self._refresh(request)
        pacer_for(self.run).before(credential_key(self.run, request))
        request.register_hook("response", self._answered)
        return request

    def _refresh(self, request) -> bool:
        """A credential the run has since renewed is sent as it is now (a request prepared, or
        derived by Schemathesis, before the renewal). True when the request carried an old one."""
        state = keeping(self.run)
        changed = False
        for name, value in self.identity.headers.items():
            sent = request.headers.get(name)
            if sent is not None and sent != value and sent in state.former.get((self.identity.role, name), ()):
                request.headers[name] = value
                changed = True
        body = _json(request.body) if self.identity.body else None
        if isinstance(body, dict):
            for name, value in self.identity.body.items():
                sent = body.get(name)
                if isinstance(sent, str) and sent != value and sent in state.former.get((self.identity.role, name), ()):
                    body[name] = value
                    changed = True
            if changed:
                request.body = json.dumps(body).encode()
                request.headers["Content-Length"] = str(len(request.body))
        return changed

    def carries_current(self, request) -> bool:
        """Whether the request was sent with this identity's credential as it is now."""
        if self.identity.body:
            body = _json(request.body)
            return isinstance(body, dict) and all(body.get(k) == v for k, v in self.identity.body.items())
        headers = {k: v for k, v in self.identity.headers.items() if k.lower() != "cookie"}
        return bool(headers) and all(request.headers.get(k) == v for k, v in headers.items())

    # what comes back
    def _answered(self, response, **kwargs):
        from .cleanup import observe

        pacer = pacer_for(self.run)
        connection = response.connection

        def again(prepared):
            return lambda: connection.send(prepared, **kwargs)

        response = pacer.send(credential_key(self.run, response.request), again(response.request), first=response)
        op = _operation(self.run, response.request)
        if response.status_code == 401:
            retry = response.request.copy()
            if self._refresh(retry):  # renewed (by another worker) while this one was on its way
                drain(response)
                response = pacer.send(credential_key(self.run, retry), again(retry))
        if op is not None and self.carries_current(response.request):
            if 200 <= response.status_code < 300 and revokes(ext.credentials.revokes(op), self.identity):
                self._keep(op, "revoked")
            elif (response.status_code == 401 and op.response(401) is not None and _needs_credentials(op)
                  and self._keep(op, "refused")):
                retry = response.request.copy()
                self._refresh(retry)
                drain(response)
                response = pacer.send(credential_key(self.run, retry), again(retry))
        observe(self.run, response.request, response, self.identity)
        return response

    def _keep(self, op: Operation, why: str) -> bool:
        """Check the credential after `op` may have revoked it (`why`: "revoked") or was answered
        401 (`why`: "refused"); renew it if it died. True when it was renewed (the request is worth
        sending again); False when it is alive. Raises IdentityLost when it died and cannot be
        renewed."""
        state = keeping(self.run)
        with state.lock:
            if state.lost:
                raise IdentityLost(state.lost)
            if why == "refused" and op.operation_id in state.token_independent:
                return False
            check = check_operation(self.run, self.identity)
            if check is None:
                return False
            answer = _try(self.run, self.identity, check)
            if answer.status_code not in (401, 403):
                if why == "refused":
                    # the credential is fine: the 401 is the server's own answer there
                    state.token_independent.add(op.operation_id)
                return False
            if self._log_in_again():
                state.renewed.append((why, f"{op.method} {op.path}"))
                return True
            after = (f"after {op.method} {op.path}, which may revoke it" if why == "revoked"
                     else f"(a request to {op.method} {op.path} was answered 401)")
            state.lost = (f"{_describe_current(self.identity)} stopped working mid-run {after}: "
                          f"{check.method} {check.path} answered {answer.status_code} "
                          f"{' '.join(answer.text.split())[:150]}, and the run has no login to get a new one; "
                          f"the run stopped")
            raise IdentityLost(state.lost)

    def _log_in_again(self) -> bool:
        """A new credential from the spec's login operation (`x-issues-credential`), with the
        identity's login details; only for the same account (the answer names it)."""
        login = next((o for o in self.run.contract.operations.values() if ext.credentials.issues(o)), None)
        if login is None or not self.identity.login:
            return False
        answer = self.run.request(login.method, login.path, json=dict(self.identity.login))
        body = _json(answer.content) if 200 <= answer.status_code < 300 else None
        fields = ext.credentials.issues(login) or {}
        if not isinstance(body, dict) or not all(source in body for source in fields.values()):
            return False
        new = {key: body[source] for key, source in fields.items()}
        if any(key in self.identity.body and key != "token" and new[key] != self.identity.body[key] for key in new):
            return False  # the login details are another account's: never switch identities mid-run
        state = keeping(self.run)
        for key, value in self.identity.body.items():
            state.former.setdefault((self.identity.role, key), set()).add(value)
        self.identity.body.update(new)
        return True


def _describe_current(identity: Identity) -> str:
    return _describe(identity).replace("the credential", "the run's credential", 1)


def _needs_credentials(op: Operation) -> bool:
    return bool(op.spec.get("security")) or bool(ext.credentials.body_auth(op))


def revokes(rule, identity: Identity) -> bool:
    """Whether an operation's `x-revokes-credential` reaches `identity`: `true` always,
    `{in: cookie}` only a credential sent in a cookie (Amar's logout ends the session it is sent)."""
    if isinstance(rule, dict):
        return rule.get("in") == "cookie" and any(name.lower() == "cookie" for name in identity.headers)
    return bool(rule)


# --- after the run -----------------------------------------------------------------------------

def lost(run: Run) -> str | None:
    """Why the run stopped for its credential (dead, or its rate limit spent), if it did."""
    return keeping(run).lost or pacer_for(run).spent


def notes(run: Run) -> list[str]:
    """What the summary says about the run's identity, its pacing and its cleanup."""
    from .cleanup import note as cleanup_note

    out = []
    renewed = keeping(run).renewed
    if renewed:
        revoked = collections.Counter(op for why, op in renewed if why == "revoked")
        refused = collections.Counter(op for why, op in renewed if why == "refused")
        parts = [f"{n} after {op} (it may revoke it)" for op, n in sorted(revoked.items())]
        if refused:
            parts.append(f"{sum(refused.values())} after a request with it was answered 401 (on "
                         f"{len(refused)} operations; each such request was sent again with the new one)")
        out.append(f"identity: the run's credential died {len(renewed)} time(s) and was renewed by logging in "
                   f"again: {', '.join(parts)}")
    for note in (pacer_for(run).note(), cleanup_note(run)):
        if note:
            out.append(note)
    return out
