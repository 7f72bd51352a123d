"""The rules that probe with other credentials (issue 11 item 4) keep the run's own identity: they
never send a logout, the second account they need is a fresh one each run, and the run's own
token still works after them."""

from __future__ import annotations

import httpx

from contract_tests.context import Run, bind, demo_credentials
from contract_tests.rules.auth import credential_bound_to_identity, wrong_credential_rejected
from contract_tests.runner import Options, build_schema, execute
from mockserver.app import Settings
from mockserver.testing import running

RULES = ("wrong_credential_rejected", "credential_bound_to_identity")


class Answer:
    """A 200 as Schemathesis hands it to a check."""

    status_code = 200
    headers: dict = {}

    def json(self):
        return {"message": "Logged out successfully"}


def test_a_logout_is_never_probed():
    """Probing a logout with the run's token (or its username beside another token) could log
    the run out on a server that checks only one of them: the rules leave it alone, sending nothing."""
    with running("eventify") as server:
        run = Run("eventify", server.base_url, demo_credentials("eventify"))
        schema = build_schema(run, Options(include=("logoutUser",), destructive=True))
        bind(schema, run)
        operation = next(r.ok() for r in schema.get_all_operations() if r.ok() is not None)
        case = operation.Case(body=dict(run.credentials.default.body), media_type="application/json")
        httpx.delete(server.root + "/__admin/requests", headers={"Content-Type": "application/json"}).raise_for_status()
        assert wrong_credential_rejected(None, Answer(), case) is True
        assert credential_bound_to_identity(None, Answer(), case) is True
        assert httpx.get(server.root + "/__admin/requests").json()["requests"] == []


def test_each_run_registers_a_fresh_second_account_and_keeps_its_own_token():
    settings = Settings(validate_responses=True)
    with running("eventify", settings=settings) as server:
        own = demo_credentials("eventify").default.body
        for _ in range(2):  # the second run must not collide with the first one's account
            run = Run("eventify", server.base_url, demo_credentials("eventify"))
            result = execute(run, Options(max_examples=3, seed=5, phases=("examples",), checks=RULES,
                                          include=("getUserStatus", "listEventTypes", "listEventsByPincode")))
            assert result.ok, result.summary()
        registered = [u for u in server.store.all("users") if u["email"].startswith("contract-")]
        assert len(registered) == 2 and len({u["phone_number"] for u in registered}) == 2
        status = httpx.post(server.base_url + "/user/status/", json=own, timeout=10)
        assert status.status_code == 200, status.text
        assert server.store.find("users", username=own["username"])["_token"] == own["token"]
