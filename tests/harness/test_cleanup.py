"""Leaves no junk behind (issue 11, item 9): what a run creates is deleted at its end through the
spec's own delete operation, and the summary says how many were created and removed."""

from __future__ import annotations

import httpx

from contract_tests.cli import main as contract_test
from mockserver.app import Settings
from mockserver.testing import running

UNLIMITED = Settings(rate_limits={"limit": 10**9})
ARGS = ["--max-examples", "5", "--seed", "2", "--phases", "examples,coverage,fuzzing,stateful", "--quiet"]


def _event_ids(server) -> list[str]:
    """The events list as a frontend sees it (every page)."""
    ids, page = [], 1
    with httpx.Client(base_url=server.base_url, headers={"Authorization": "Bearer YOUR_API_KEY"}, timeout=10) as http:
        while page < 50:
            answer = http.get("/events", params={"page": page, "limit": 100})
            answer.raise_for_status()
            events = answer.json()["events"]
            ids += [e["id"] for e in events]
            if len(events) < 100:
                return sorted(ids)
            page += 1
    raise AssertionError("more than 50 pages of events")


def test_a_run_leaves_nothing_it_created_in_the_events_list(capsys):
    """Every event the run created is gone at its end. An event that was there before may be gone
    too: a generated DELETE may name a seeded event (the spec's example id), which the spec allows;
    whether it does depends on what Hypothesis draws, so only what the run added is judged."""
    with running("ecoevents", settings=UNLIMITED) as server:
        before = _event_ids(server)
        code = contract_test(["ecoevents", "--base-url", server.base_url, *ARGS])
        after = _event_ids(server)
    out = capsys.readouterr().out
    assert code == 0, out
    assert sorted(set(after) - set(before)) == [], "events the run created are still listed"
    line = next(line for line in out.splitlines() if "cleanup:" in line)
    created = int(line.split("cleanup: ")[1].split(" resources created")[0])
    assert created > 5, line
    assert "deleted at its end" in line and "could not be" not in line, line


def test_no_cleanup_keeps_what_the_run_created(capsys):
    with running("ecoevents", settings=UNLIMITED) as server:
        before = _event_ids(server)
        code = contract_test(["ecoevents", "--base-url", server.base_url, "--include", "createEvent",
                              "--phases", "examples,fuzzing", "--max-examples", "3", "--quiet", "--no-cleanup"])
        after = _event_ids(server)
    out = capsys.readouterr().out
    assert code == 0, out
    assert set(before) <= set(after) and len(after) > len(before)
    assert "the rest kept (--no-cleanup)" in out


def test_what_has_no_delete_operation_is_counted_with_the_reason(capsys):
    """Namak's bookings have no delete operation: the summary says so instead of pretending."""
    with running("namak") as server:
        code = contract_test(["namak", "--base-url", server.base_url, "--include", "createBooking",
                              "--include", "createEvent", "--phases", "examples", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "bookings: the spec has no delete operation for it" in out
