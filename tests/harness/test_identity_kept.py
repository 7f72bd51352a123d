"""The run's identity is checked before the run and kept through it (issue 11, item 2): a dead
credential stops the run at once (exit 2, naming the identity and what came back); a credential
that dies mid-run, whoever's request killed it, is renewed by logging in again and the refused
request sent again, or, with no login to renew it, the run stops with a clear error: never a green
run of 401s."""

from __future__ import annotations

import copy
import pathlib
import time

import schemathesis
import yaml
from schemathesis.auths import AuthContext

from contract_tests.cli import main as contract_test
from contract_tests.context import Run, demo_credentials
from contract_tests.identity import CredentialAuth, RunCredentials
from contract_tests.runner import Options, execute
from mockserver.app import Settings
from mockserver.testing import running

from .broken import Broken, Exchange

UNLIMITED = Settings(rate_limits={"limit": 10**9})


def test_a_wrong_key_stops_the_run_before_it_starts(capsys):
    with running("ecoevents", settings=UNLIMITED) as server:
        started = time.monotonic()
        code = contract_test(["ecoevents", "--base-url", server.base_url, "-H", "Authorization: Bearer WRONG"])
        took = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 2
    assert 'the credential "Authorization: Bearer WRONG" was refused (401 ' in err
    assert "Invalid API key" in err and "on GET /api/events" in err and "check -H" in err
    assert took < 5


def test_a_wrong_role_key_names_the_role(capsys):
    with running("amarevents", settings=UNLIMITED) as server:
        code = contract_test(["amarevents", "--base-url", server.base_url, "--role", "user=Authorization: Bearer nope"])
    err = capsys.readouterr().err
    assert code == 2
    assert "the user role's credential \"Authorization: Bearer nope\" was refused (401" in err
    assert "--role user=" in err


def test_a_wrong_body_token_stops_the_run(capsys):
    with running("eventify", settings=UNLIMITED) as server:
        code = contract_test(["eventify", "--base-url", server.base_url, "--body-credential", "token=nope"])
    err = capsys.readouterr().err
    assert code == 2
    assert 'the body credential "token=nope; username=john_doe" was refused (401' in err
    assert "POST /api/user/status/" in err and "--body-credential" in err


class TokenKiller:
    """A server whose demo credential dies every `every`-th request that carries it (a session
    expiring, an admin revoking it), whichever request that is: one Schemathesis sends on its own
    (a control request), one of our rules', or an ordinary case. Counts the requests that still
    carry a credential it has killed and are refused for it (401): requests that tested nothing."""

    def __init__(self, every: int, carries, kill):
        self.every, self.carries, self.kill = every, carries, kill
        self.seen = self.killed = self.untested = 0
        self.dead: set = set()

    def before(self, ex: Exchange, mock):
        credential = self.carries(ex)
        if credential is None:
            return
        if credential in self.dead:
            return
        self.seen += 1
        if self.seen % self.every == 0:
            self.kill(mock, credential)
            self.dead.add(credential)
            self.killed += 1

    def after(self, ex: Exchange, mock):
        if ex.status == 401 and self.carries(ex) in self.dead:
            self.untested += 1

    def wrap(self, app):
        return Broken(app, before=self.before, after=self.after)


def _eventify_token(ex: Exchange):
    body = ex.request_json()
    token = body.get("token") if isinstance(body, dict) else None
    return token if isinstance(token, str) and token else None


def _log_out_john(mock, token):
    user = mock.store.find("users", _token=token)
    if user is not None:
        mock.store.update("users", user["id"], {"_token": None})


def test_a_credential_killed_mid_run_is_renewed_and_the_run_carries_on():
    killer = TokenKiller(40, _eventify_token, _log_out_john)
    with running("eventify", settings=UNLIMITED, wrap=killer.wrap) as server:
        run = Run("eventify", server.base_url, demo_credentials("eventify"))
        result = execute(run, Options(max_examples=5, seed=3, phases=("examples", "coverage", "fuzzing")))
    assert killer.killed >= 3, killer.__dict__
    assert result.ok, result.summary()
    assert "was renewed by logging in again" in result.summary()
    assert "after a request with it was answered 401" in result.summary()
    # each death costs the request that found it, the check of the credential and at most one probe
    # of our rules already on its way (their own requests are renewed after, not re-sent), not the rest
    assert killer.untested <= 3 * killer.killed, (killer.__dict__, result.summary())


def _ecoevents_key(ex: Exchange):
    value = ex.headers.get("authorization", "")
    return value.removeprefix("Bearer ") if value.startswith("Bearer ") else None


def test_a_credential_killed_mid_run_without_a_login_stops_the_run(capsys):
    killer = TokenKiller(25, _ecoevents_key, lambda mock, key: mock.store.delete("api_keys", key))
    with running("ecoevents", settings=UNLIMITED, wrap=killer.wrap) as server:
        code = contract_test(["ecoevents", "--base-url", server.base_url, "--max-examples", "10", "--seed", "3",
                              "--phases", "examples,coverage,fuzzing", "--quiet"])
    out = capsys.readouterr().out
    assert killer.killed == 1
    assert code == 2, out
    assert 'NO VERDICT: the run\'s credential "Authorization: Bearer YOUR_API_KEY" stopped working mid-run' in out
    assert "the run has no login to get a new one; the run stopped" in out
    assert "verdict: conforms" not in out
    assert killer.untested <= 3, killer.__dict__


def test_the_provider_applies_only_to_our_schemas(tmp_path):
    """Schemathesis's auth provider is global: a schema of someone else's (no `info.x-slug`) gets
    nothing from it, one of ours gets its run's credential, carried by the transport as well."""
    spec = yaml.safe_load((pathlib.Path(__file__).resolve().parents[2] / "specs/namak.yaml").read_text())
    ours = schemathesis.openapi.from_dict(copy.deepcopy(spec))
    del spec["info"]["x-slug"]
    theirs = schemathesis.openapi.from_dict(spec)
    provider = RunCredentials()

    def case_of(schema):
        operation = next(r.ok() for r in schema.get_all_operations() if r.ok().path == "/v1/events/{id}")
        return operation, operation.Case(path_parameters={"id": "evt_123"})

    operation, case = case_of(theirs)
    assert provider.get(case, AuthContext(operation=operation, app=None)) is None
    operation, case = case_of(ours)
    data = provider.get(case, AuthContext(operation=operation, app=None))
    assert isinstance(data, CredentialAuth) and data.identity.headers == {"Authorization": "Bearer YOUR_API_KEY"}
    provider.set(case, data, AuthContext(operation=operation, app=None))
    assert case.headers["Authorization"] == "Bearer YOUR_API_KEY"
    assert case.as_transport_kwargs(base_url="http://127.0.0.1:1")["auth"] is data
