"""Honest implementations are not called violating: a server that makes a choice its document
leaves open (variants.py) gets no violation, and its deviations are listed with why; a real
violation (broken.py) is still a violation.
"""

from __future__ import annotations

import pytest

from contract_tests.context import Run, demo_credentials
from contract_tests.runner import Options, execute
from mockserver.app import Settings
from mockserver.testing import running

from .broken import BREAKAGES
from .variants import VARIANTS

SEED = 7


def _options(item) -> Options:
    return Options(max_examples=getattr(item, "max_examples", 15), seed=SEED, phases=item.phases,
                   include=item.include)


@pytest.mark.parametrize("variant", VARIANTS, ids=[f"{v.slug}: {v.name}" for v in VARIANTS])
def test_the_run_lists_deviations_apart_from_violations(variant):
    with running(variant.slug, settings=Settings(), wrap=variant.wrap) as server:
        result = execute(Run(variant.slug, server.base_url, demo_credentials(variant.slug)), _options(variant))
    listed = {d.rule for d in result.deviations}
    assert variant.chosen > 0
    assert not result.failures, result.summary()
    assert set(variant.deviations) <= listed, result.summary()
    assert listed <= set(variant.deviations) | set(variant.may_also), result.summary()
    assert all(d.why and d.operation for d in result.deviations)


def test_the_run_still_calls_a_real_violation_violating():
    breakage = next(b for b in BREAKAGES if b.name == "drops a required field")
    with running(breakage.slug, settings=Settings(), wrap=breakage.wrap) as server:
        result = execute(Run(breakage.slug, server.base_url, demo_credentials(breakage.slug)), _options(breakage))
    assert breakage.rule in result.by_rule(), result.summary()
    assert breakage.rule not in {d.rule for d in result.deviations}
    assert not result.ok
