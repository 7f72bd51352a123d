"""The run's own identity is exactly what the user gives it: a session cookie from a login (QA's
usual way into Amar) as the default identity, with the demo keys as the roles, conforms."""

from __future__ import annotations

import argparse

import httpx

from apispec import ext
from apispec.model import contract
from contract_tests.cli import credentials_from
from contract_tests.cli import main as contract_test
from contract_tests.context import Run, demo_credentials
from mockserver.app import Settings
from mockserver.testing import running

ORGANIZER_LOGIN = {"email": "org@techsociety.com.bd", "password": "organizer123"}


def _args(**given) -> argparse.Namespace:
    return argparse.Namespace(**{"slug": "amarevents", "header": [], "role": [], "body_credential": [], **given})


def test_a_default_header_leaves_the_demo_roles_alone():
    """Amar's demo default is the admin key, which is also the admin role: giving the run another
    default must not turn the admin role into it (it did: the admin role then sent the cookie)."""
    credentials = credentials_from(_args(header=["Cookie: session=abc"]))
    assert credentials.default.headers == {"Cookie": "session=abc"}
    assert credentials.roles["admin"].headers == {"Authorization": "Bearer ae_a_demo"}


def test_a_run_keeps_no_cookie_an_answer_sets():
    with running("amarevents") as server:
        run = Run("amarevents", server.base_url, demo_credentials("amarevents"))
        login = run.request("POST", "/api/auth/login", json=ORGANIZER_LOGIN)
        assert login.status_code == 200 and "session" in login.headers.get("set-cookie", "")
        assert len(run.http.cookies) == 0  # a later request as another identity must not carry it


def test_a_session_cookie_run_against_amar_conforms():
    settings = Settings(validate_responses=True, rate_limits={"limit": 10**9})
    with running("amarevents", settings=settings) as server:
        login = httpx.post(server.base_url + "/auth/login", json=ORGANIZER_LOGIN, timeout=10)
        cookie = f"session={login.cookies['session']}"
        # what an organizer's session may not call (admin-only, user-only) it cannot test: let those off
        barred = [op_id for op_id, op in contract("amarevents").operations.items()
                  if "organizer" not in ((ext.access.of(op) or {}).get("key_types") or ["organizer"])]
        code = contract_test(["amarevents", "--base-url", server.base_url, "-H", f"Cookie: {cookie}",
                              "--max-examples", "10", "--seed", "1", "--quiet",
                              *(arg for op_id in barred for arg in ("--allow-untested", op_id))])
    assert barred and code == 0
