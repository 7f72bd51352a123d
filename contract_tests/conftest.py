"""pytest entry point: `pytest contract_tests --api SLUG --base-url URL [--max-examples N] [--seed S]`.

The same run as `contract-test`, one test per operation plus one for the stateful sequences.
"""

from __future__ import annotations

import pytest

from apispec.load import SLUGS
from apispec.model import contract

from .context import Run, demo_credentials, from_environment


def pytest_addoption(parser):
    group = parser.getgroup("contract", "contract tests")
    group.addoption("--api", choices=SLUGS, help="which API contract to check")
    group.addoption("--base-url", help="the implementation's URL, with its base path")
    group.addoption("--max-examples", type=int, default=25)
    group.addoption("--seed", type=int, default=None)


def pytest_generate_tests(metafunc):
    if "operation_id" in metafunc.fixturenames:
        slug = metafunc.config.getoption("api")
        ids = list(contract(slug).operations) if slug else []
        metafunc.parametrize("operation_id", ids)


@pytest.fixture(scope="session")
def contract_run(pytestconfig):
    slug, base_url = pytestconfig.getoption("api"), pytestconfig.getoption("base_url")
    if not slug or not base_url:
        pytest.fail("give --api SLUG and --base-url URL")
    return Run(slug, base_url, from_environment(slug, demo_credentials(slug)))
