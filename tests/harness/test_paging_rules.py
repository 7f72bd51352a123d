"""`next_page_announced` on metadata paging: a full page whose total, page count and hasNext all
say "this is all" while the next page holds more is caught; the mock's own answer to the same
request passes. (Generated runs rarely fill a page of the mocks' few records, so the case is
built here: `limit=1` on EcoEvents' three events.)"""

from __future__ import annotations

import pytest

from contract_tests.context import Run, bind, demo_credentials
from contract_tests.rules.paging import next_page_announced
from contract_tests.runner import Options, build_schema
from mockserver.app import Settings
from mockserver.testing import running

from .broken import Broken, total_of_the_page_only


def _judge_first_page(wrap=None):
    with running("ecoevents", settings=Settings(), wrap=wrap) as server:
        run = Run("ecoevents", server.base_url, demo_credentials("ecoevents"))
        schema = build_schema(run, Options(include=("listEvents",)))
        bind(schema, run)
        operation = next(r.ok() for r in schema.get_all_operations() if r.ok() is not None)
        case = operation.Case(query={"page": 1, "limit": 1}, headers=dict(run.credentials.default.headers))
        response = case.call(base_url=run.base_url)
        assert response.status_code == 200 and len(response.json()["events"]) == 1
        return next_page_announced(None, response, case)


def test_a_total_counted_from_the_page_alone_is_caught():
    def wrap(app):
        return Broken(app, after=total_of_the_page_only("events", "pagination"))
    with pytest.raises(AssertionError, match=r"page 2 holds 1 more.*hasNext is False; totalPages is 1; total is 1"):
        _judge_first_page(wrap)


def test_the_mock_announces_its_next_page():
    assert _judge_first_page() is None  # judged (a page 2 exists), and passed
