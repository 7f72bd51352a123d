"""The README's control-surface sections work as printed: each curl line of "The console", "Forcing
an answer" and "Latency and faults", run against the mocks, answers as the section says (only the ports are
swapped for the test's free ones). An int is the HTTP status; "exit N" is curl's exit status (a
connection fault gives no HTTP status at all)."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import subprocess
import time

import pytest

from apispec.load import SLUGS
from apispec.model import contract
from mockserver.app import Settings
from mockserver.testing import running

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
# what each curl of a section answers, in order
EXPECTED = {
    "### The console": [404, 200],
    "### Forcing an answer": [400, 200, 429, 400],
    "### Latency and faults": [201, 201, 200, 201, 201, "exit 56", 200, "exit 52", 400, 200, 200, 200],
}


def commands(heading: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = re.split(r"\n#{2,} ", text.split(heading + "\n", 1)[1], maxsplit=1)[0]
    lines = []
    for block in section.split("```sh")[1:]:
        joined = re.sub(r"\\\n\s*", " ", block.split("```", 1)[0])
        lines += [line.strip() for line in joined.splitlines() if line.strip().startswith("curl")]
    return lines


@pytest.mark.parametrize("heading", sorted(EXPECTED))
def test_the_section_has_the_commands_this_test_expects(heading):
    assert len(commands(heading)) == len(EXPECTED[heading])


@pytest.fixture(scope="module")
def ports():
    with contextlib.ExitStack() as stack:
        ports = {}
        for slug in SLUGS:
            server = stack.enter_context(running(slug, settings=Settings(validate_responses=True)))
            ports[str(contract(slug).default_port())] = str(server.port)
        yield ports


@pytest.mark.parametrize("heading", sorted(EXPECTED))
def test_every_command_answers_as_the_section_says(ports, heading):
    for command, expected in zip(commands(heading), EXPECTED[heading], strict=True):
        command = re.sub(r"127\.0\.0\.1:(\d+)", lambda m: f"127.0.0.1:{ports[m.group(1)]}", command)
        command = command.split(" #", 1)[0] + " -o /dev/null -w '%{http_code}'"
        started = time.monotonic()
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)
        assert time.monotonic() - started < 10, command  # no line of the README keeps a reader waiting
        if isinstance(expected, int):
            assert done.returncode == 0, done.stderr
            assert done.stdout.strip().endswith(str(expected)), f"{command}\n-> {done.stdout[-300:]}"
        else:
            assert f"exit {done.returncode}" == expected, f"{command}\n-> {done.returncode} {done.stderr}"


def test_the_sharing_section_answers_as_it_says(tmp_path):
    """"Sharing a mock": each curl line as printed, `$TOKEN` the token the mock was started with."""
    token = "readme-token-7"
    lines = commands("### Sharing a mock")
    assert len(lines) == 6
    with running("namak", settings=Settings(admin_token=token)) as server:
        created = server.store.insert("events", {**server.store.get("events", "evt_123"), "id": "evt_mine"})
        statuses, bodies = [], []
        for command in lines:
            command = re.sub(r"127\.0\.0\.1:8001", f"127.0.0.1:{server.port}", command)
            done = subprocess.run(["bash", "-c", command.split(" #", 1)[0] + " -w '\\n%{http_code}'"], cwd=tmp_path,
                                  capture_output=True, text=True, timeout=30, env={**os.environ, "TOKEN": token})
            assert done.returncode == 0, done.stderr
            body, _, status = done.stdout.rpartition("\n")
            statuses.append(int(status))
            bodies.append(body)
            if len(statuses) == 2:  # neither the text/plain change nor the JSON one without the token reset it
                assert server.store.get("events", created["id"]) is not None
        assert server.store.get("events", created["id"]) is None  # the reset with the token did
    assert statuses == [415, 401, 200, 200, 200, 403], list(zip(lines, statuses, strict=True))
    journal = json.loads(bodies[3])["requests"]
    assert [e["status"] for e in journal if e.get("admin")] == [415, 401, 200]
    assert token not in bodies[3] and "Bearer <redacted:" in bodies[3]
    assert "YOUR_API_KEY" in (tmp_path / "namak-state.json").read_text()  # secrets kept, with the token
