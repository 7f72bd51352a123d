"""The plain Schemathesis CLI, started in this repository, runs our rules: `schemathesis.toml`
loads our hooks, and each run finds its context (API, credentials) from its own schema and
configuration, not from a module global."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest
import schemathesis

from contract_tests.context import Identity, Run, bind, demo_credentials, run_for
from mockserver.app import Settings
from mockserver.testing import running

from .broken import BREAKAGES

ROOT = pathlib.Path(__file__).resolve().parents[2]
ST = pathlib.Path(sys.executable).parent / "st"

CAUGHT = {  # breakage -> (the header st is given, as a user of the README would)
    "ignores a filter": "Authorization: Bearer YOUR_API_KEY",
    "accepts a missing key": "Authorization: Bearer YOUR_API_KEY",
    "sends the wrong error body": "Authorization: Bearer ae_a_demo",
    "reports a wrong total": "Authorization: Bearer YOUR_API_KEY",
}


@pytest.mark.parametrize("name", list(CAUGHT))
def test_st_run_in_the_repository_names_our_rule(name):
    breakage = next(b for b in BREAKAGES if b.name == name)
    with running(breakage.slug, settings=Settings(), wrap=breakage.wrap) as server:
        command = [str(ST), "run", f"specs/{breakage.slug}.yaml", "--url", server.root, "-H", CAUGHT[name],
                   "--seed", "3", "-n", "15", "--phases", ",".join(breakage.phases), "--continue-on-failure"]
        for op in breakage.include:
            command += ["--include-operation-id", op]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert "Configuration:" in done.stdout and "schemathesis.toml" in done.stdout
    assert done.returncode == 1, done.stdout[-3000:]
    assert f"`{breakage.rule}`" in done.stdout, done.stdout[-3000:]


def test_st_run_passes_a_faithful_server_by_the_same_rules():
    with running("namak", settings=Settings()) as server:
        done = subprocess.run([str(ST), "run", "specs/namak.yaml", "--url", server.root, "-H",
                               "Authorization: Bearer YOUR_API_KEY", "--seed", "3", "-n", "10",
                               "--include-operation-id", "listEvents", "--phases", "coverage,fuzzing"],
                              cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:]


def _case(schema):
    return next(iter(schema.get_all_operations())).ok().Case()


def test_each_schema_has_its_own_run():
    """Two runs in one process: each case finds the run its schema was bound to."""
    one, two = (schemathesis.openapi.from_path(str(ROOT / "specs/namak.yaml")) for _ in range(2))
    first = bind(one, Run("namak", "http://127.0.0.1:1", demo_credentials("namak")))
    second = bind(two, Run("namak", "http://127.0.0.1:2", demo_credentials("namak")))
    assert run_for(_case(one)) is first and run_for(_case(two)) is second
    assert first.http is not second.http


def test_an_unbound_schema_gets_a_run_from_its_configuration():
    schema = schemathesis.openapi.from_path(str(ROOT / "specs/namak.yaml"))
    schema.config.update(base_url="http://127.0.0.1:3", headers={"Authorization": "Bearer OTHER"})
    run = run_for(_case(schema))
    assert run.slug == "namak" and run.base_url == "http://127.0.0.1:3"
    assert run.credentials.default == Identity("default", {"Authorization": "Bearer OTHER"})
    assert run_for(_case(schema)) is run
