"""The contract suite as pytest tests (see conftest.py for the options)."""

from __future__ import annotations

from .reports import console
from .runner import Options, execute


def _verdict(result):
    assert result.ok, console(result)


def test_operation(contract_run, operation_id, pytestconfig):
    """Examples, coverage and fuzzing of one operation, with every check; it fails untested too."""
    options = Options(max_examples=pytestconfig.getoption("max_examples"), seed=pytestconfig.getoption("seed"),
                      phases=("examples", "coverage", "fuzzing"), include=(operation_id,))
    _verdict(execute(contract_run, options))


def test_stateful(contract_run, pytestconfig):
    """Sequences that follow the spec's links: create, read, update, list, delete, read again.
    Operations no link reaches are judged by `test_operation`, not held against the sequences."""
    options = Options(max_examples=pytestconfig.getoption("max_examples"), seed=pytestconfig.getoption("seed"),
                      phases=("stateful",), allow_untested=tuple(contract_run.contract.operations))
    result = execute(contract_run, options)
    assert result.cases, console(result)
    _verdict(result)
