"""The mock reads its contract through the contract suite's spec reader (one reader, shared)."""

from contract_tests.spec import SPEC_DIR, Contract, Operation, contract

__all__ = ["SPEC_DIR", "Contract", "Operation", "contract"]
