"""The contract suite as pytest tests (see conftest.py for the options)."""

from __future__ import annotations

from .runner import Options, execute


def _verdict(result):
    details = "\n\n".join(f.describe() for f in result.failures)
    assert result.ok, f"{result.summary()}\n\n{details}"


def test_operation(contract_run, operation_id, pytestconfig):
    """Examples, coverage and fuzzing of one operation, with every check."""
    options = Options(max_examples=pytestconfig.getoption("max_examples"), seed=pytestconfig.getoption("seed"),
                      phases=("examples", "coverage", "fuzzing"), include=(operation_id,))
    _verdict(execute(contract_run, options))


def test_stateful(contract_run, pytestconfig):
    """Sequences that follow the spec's links: create, read, update, list, delete, read again."""
    options = Options(max_examples=pytestconfig.getoption("max_examples"), seed=pytestconfig.getoption("seed"),
                      phases=("stateful",))
    _verdict(execute(contract_run, options))
