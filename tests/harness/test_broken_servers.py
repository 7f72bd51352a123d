"""The contract suite fails on broken implementations, and names the rule each one breaks."""

from __future__ import annotations

import pytest

from contract_tests.context import Run, demo_credentials
from contract_tests.runner import Options, execute
from mockserver.app import Settings
from mockserver.testing import running

from .broken import BREAKAGES


@pytest.mark.parametrize("breakage", BREAKAGES, ids=[f"{b.slug}: {b.name}" for b in BREAKAGES])
def test_suite_catches_and_names_the_broken_rule(breakage):
    with running(breakage.slug, settings=Settings(), wrap=breakage.wrap) as server:
        run = Run(breakage.slug, server.base_url, demo_credentials(breakage.slug))
        result = execute(run, Options(max_examples=15, seed=7, phases=breakage.phases, include=breakage.include))
    assert not result.ok
    assert breakage.rule in result.by_rule(), result.summary()
    caught = [f for f in result.failures if f.rule == breakage.rule]
    assert all(f.curl.startswith("curl") and f.operation for f in caught)
