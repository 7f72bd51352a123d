"""Rate limits honoured (issue 11, item 3): a run paces itself under the spec's `x-rate-limit`, per
credential, following the server's remaining/reset headers once it sends them; a 429 is waited out
(Retry-After) and sent again, so no rule judges it; and the summary says how the run was paced."""

from __future__ import annotations

import types

import httpx
import pytest

from apispec.model import contract
from contract_tests.cli import main as contract_test
from contract_tests.context import Run, demo_credentials
from contract_tests.pacing import Pacer, RateLimitSpent
from contract_tests.runner import Options, execute
from mockserver.app import Settings
from mockserver.testing import running

from .broken import Broken, Exchange


class FakeTime:
    def __init__(self):
        self.now = 1_000.0
        self.wall = 1_700_000_000.0
        self.slept = []

    def clock(self):
        return self.now

    def wallclock(self):
        return self.wall

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds
        self.wall += seconds


def _pacer(slug):
    fake = FakeTime()
    return Pacer(contract(slug), clock=fake.clock, wallclock=fake.wallclock, sleep=fake.sleep), fake


def test_without_headers_the_documented_limit_of_the_key_type_is_kept():
    pacer, fake = _pacer("amarevents")
    for _ in range(60):  # a user key: 60 a minute
        pacer.before("Authorization: Bearer ae_u_demo")
    assert fake.slept == []
    pacer.before("Authorization: Bearer ae_u_demo")
    assert fake.slept == [60.0]  # the 61st waits for the first to leave the window
    for _ in range(299):  # another credential has its own count (an admin key: 300)
        pacer.before("Authorization: Bearer ae_a_demo")
    assert fake.slept == [60.0]


def test_the_servers_headers_are_followed_once_it_sends_them():
    pacer, fake = _pacer("amarevents")
    key = "Authorization: Bearer ae_a_demo"
    pacer.before(key)
    # a server with a 5-second window: 1 left, the slot frees in 3 s
    pacer.after(key, 200, {"X-RateLimit-Remaining": "1", "X-RateLimit-Reset": str(int(fake.wall) + 3),
                           "X-RateLimit-Limit": "300"})
    pacer.before(key)
    assert fake.slept == []
    pacer.before(key)  # none left: wait for the reset the server gave, not the spec's minute
    assert fake.slept == [3.0]
    for _ in range(400):  # the server has not said again: no spec-window pause is added to its count
        pacer.before(key)
    assert fake.slept == [3.0]
    assert "as the server's X-RateLimit-Remaining/X-RateLimit-Reset headers said" in pacer.note()


def test_a_429_is_waited_out_and_sent_again():
    pacer, fake = _pacer("namak")
    answers = iter([429, 429, 200])

    def send():
        status = next(answers)
        return types.SimpleNamespace(status_code=status, headers={"Retry-After": "2"} if status == 429 else {},
                                     content=b"", close=lambda: None)

    assert pacer.send("Authorization: Bearer K", send).status_code == 200
    assert fake.slept == [2.0, 2.0]
    assert pacer.rate_limited == 2 and "2 answer(s) 429 waited out (Retry-After) and sent again" in pacer.note()


def test_a_limit_spent_for_longer_than_a_run_waits_stops_it_instead_of_crawling():
    pacer, fake = _pacer("namak")
    key = "Authorization: Bearer K"
    pacer.before(key)
    pacer.after(key, 200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(fake.wall) + 3000)})
    with pytest.raises(RateLimitSpent) as stopped:
        pacer.before(key)
    assert fake.slept == []
    assert 'the rate limit for "Authorization: Bearer K" is spent for another 3000 s' in stopped.value.message
    with pytest.raises(RateLimitSpent):  # and every request after it
        pacer.before("Authorization: Bearer other")


def test_a_run_that_spends_the_hourly_limit_stops_with_exit_2(capsys):
    """Namak's mock allowing 30 requests an hour: the run stops when they are spent, saying so,
    instead of waiting an hour or judging 429s."""
    with running("namak", settings=Settings(rate_limits={"limit": 30})) as server:
        code = contract_test(["namak", "--base-url", server.base_url, "--max-examples", "10", "--seed", "1", "--quiet"])
    out = capsys.readouterr().out
    assert code == 2, out
    assert 'NO VERDICT: the rate limit for "Authorization: Bearer YOUR_API_KEY" is spent for another' in out
    assert "verdict: conforms" not in out


def every_fifth_request_429(counter):
    """A server that answers every 5th request with a valid key 429 with Retry-After: 1 and its
    rate-limit headers (another client sharing the key, a limit tighter than the document's)."""
    def after(ex: Exchange, mock):
        if ex.status == 401:
            return
        counter["n"] += 1
        if counter["n"] % 5 == 0:
            ex.status = 429
            ex.response_headers = [(k, v) for k, v in ex.response_headers if k.lower() != b"content-type"]
            ex.response_headers += [(b"retry-after", b"1"), (b"content-type", b"application/json")]
            ex.set_json({"error": {"code": "rate_limit_exceeded", "message": "Too many requests"}})
            counter["429"] += 1
    return after


def test_a_server_answering_429_to_every_fifth_request_is_not_failed_for_it():
    counter = {"n": 0, "429": 0}
    with running("namak", settings=Settings(), wrap=lambda app: Broken(app, after=every_fifth_request_429(counter))) \
            as server:
        run = Run("namak", server.base_url, demo_credentials("namak"))
        result = execute(run, Options(max_examples=8, seed=2, phases=("examples", "fuzzing"),
                                      include=("listEvents", "createEvent")))
    assert counter["429"] >= 5
    assert result.ok, result.summary() + "\n" + "\n".join(f.describe() for f in result.failures)
    assert "answer(s) 429 waited out (Retry-After) and sent again" in result.summary()


def test_amar_at_its_documented_limits_on_a_short_window_passes_paced_by_the_servers_headers():
    """The documented limits (60/120/300 by key type) on a 5-second window, so a run meets them in
    seconds. Another client has just spent the admin key's window, so the run's first answer says
    none are left (a 429, waited out): from then on it waits for the reset the server gives (not
    the spec's minute), gets no other 429, passes, and says how it was paced. (`make
    contract-paced` runs the whole suite against the one-minute window, as `make run` serves it.)"""
    settings = Settings(validate_responses=True, rate_limit_window=5)
    with running("amarevents", settings=settings) as server:
        with httpx.Client(base_url=server.base_url, headers={"Authorization": "Bearer ae_a_demo"}, timeout=10) as other:
            for _ in range(301):
                if other.get("/auth/me").headers["X-RateLimit-Remaining"] == "0":
                    break
        httpx.delete(server.root + "/__admin/requests", headers={"Content-Type": "application/json"}, timeout=10)
        run = Run("amarevents", server.base_url, demo_credentials("amarevents"))
        result = execute(run, Options(max_examples=5, seed=4, phases=("examples",)))
        journal = httpx.get(server.root + "/__admin/requests", timeout=10).json()["requests"]
    assert not result.failures and not result.errors and not result.stopped, \
        result.summary() + "\n" + "\n".join(f.describe() for f in result.failures)
    # the examples phase alone leaves operations with no documented example without a case (and
    # the document's login example names no account): every other operation got its 2xx
    assert all("no case was generated" in why for op, why in result.untested.items() if op != "login"), \
        result.summary()
    paced = next(n for n in result.notes if n.startswith("rate limits:"))
    assert "X-RateLimit-Remaining/X-RateLimit-Reset headers" in paced and " pauses, " in paced, paced
    # only the run's very first request could not know the window was spent: it was sent again
    assert [i for i, r in enumerate(journal) if r.get("status") == 429] in ([], [0])
