"""Our rules against oasdiff's (specdiff/oasdiff-rules.tsv, a copy of oasdiff v1.28.0's table): every
oasdiff ERR and WARN rule is implemented under its id or recorded as not applicable to OpenAPI 3.0
with a reason; every level that differs from oasdiff's, and every rule of ours oasdiff lacks, has a
reason; docs/spec-gate-rules.md is the table these make."""

from __future__ import annotations

import pathlib

from specdiff import coverage
from specdiff.rules import BY_ID, RULES

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_anchor_copy_is_oasdiffs_table():
    rows = coverage.oasdiff_rules()
    assert coverage.ANCHOR.parent == ROOT / "specdiff"            # the repository's copy, nothing outside it
    assert len(rows) == 509 and len({r["id"] for r in rows}) == 509
    assert sum(r["level"] == "ERR" for r in rows) == 213 and sum(r["level"] == "WARN" for r in rows) == 30
    assert coverage.ANCHOR.read_text(encoding="utf-8").startswith("# oasdiff v1.28.0")


def test_every_oasdiff_err_and_warn_rule_is_implemented_or_has_a_reason():
    missing = [r["id"] for r in coverage.oasdiff_rules()
               if r["level"] != "INFO" and r["id"] not in BY_ID and not coverage.not_applicable(r["id"])]
    assert missing == []


def test_nothing_implemented_is_called_not_applicable():
    assert [rule.id for rule in RULES if coverage.not_applicable(rule.id)] == []


def test_every_level_that_differs_from_oasdiffs_has_a_reason():
    levels = {r["id"]: r["level"] for r in coverage.oasdiff_rules()}
    differ = {rule.id for rule in RULES if rule.id in levels and rule.level != levels[rule.id]}
    assert differ == set(coverage.LEVELS)


def test_every_rule_of_ours_says_why_oasdiff_lacks_it():
    anchor = {r["id"] for r in coverage.oasdiff_rules()}
    assert [rule.id for rule in RULES if rule.id not in anchor and not coverage.ours(rule.id)] == []


def test_the_docs_table_is_up_to_date():
    assert (ROOT / "docs" / "spec-gate-rules.md").read_text(encoding="utf-8") == coverage.document(), \
        "run: python -m specdiff.coverage > docs/spec-gate-rules.md"


def test_the_counts():
    assert coverage.counts() == {"implemented": 144, "not applicable to 3.0": 99}
