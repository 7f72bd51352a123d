"""The README's tour works as printed: each curl line, run against the mocks, answers as the
tour says (only the ports are swapped for the test's free ones)."""

from __future__ import annotations

import contextlib
import json
import pathlib
import re
import subprocess

from apispec.load import SLUGS
from apispec.model import contract
from mockserver.app import Settings
from mockserver.testing import running

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
# what each curl of the tour answers, in order
EXPECTED = [200, 201, 200, 401, 400, 201, 200, 403, 200, 200, 200, 200, 200, 200, 500]


def section_commands(heading: str) -> list[str]:
    """The curl lines of the first `sh` block under `heading`, continuation lines joined."""
    text = README.read_text(encoding="utf-8")
    block = text.split(heading + "\n", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.strip() for line in joined.splitlines() if line.strip().startswith("curl")]


def tour_commands() -> list[str]:
    return section_commands("## A two-minute tour")


def on_ports(command: str, ports: dict[str, str]) -> str:
    """The command with each mock's documented port swapped for the test's."""
    return re.sub(r"127\.0\.0\.1:(\d+)", lambda m: f"127.0.0.1:{ports[m.group(1)]}", command)


def run(command: str) -> str:
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"{command}\n{done.stderr}"
    return done.stdout


def test_the_tour_has_the_commands_this_test_expects():
    assert len(tour_commands()) == len(EXPECTED)


def test_every_tour_command_answers_as_the_tour_says():
    with contextlib.ExitStack() as stack:
        ports = {}
        for slug in SLUGS:
            server = stack.enter_context(running(slug, settings=Settings(validate_responses=True)))
            ports[str(contract(slug).default_port())] = str(server.port)
        for command, expected in zip(tour_commands(), EXPECTED, strict=True):
            command = re.sub(r"127\.0\.0\.1:(\d+)", lambda m: f"127.0.0.1:{ports[m.group(1)]}", command)
            command = command.split(" #", 1)[0] + " -o /dev/null -w '%{http_code}'"
            done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)
            assert done.returncode == 0, done.stderr
            assert done.stdout.strip().endswith(str(expected)), f"{command}\n-> {done.stdout[-300:]}"


def test_the_browser_section_answers_as_it_says():
    preflight, call = section_commands("### From a browser")
    with running("namak") as server:
        ports = {"8001": str(server.port)}
        answered = run(on_ports(preflight, ports)).lower()
        assert answered.startswith("http/1.1 204")
        assert "access-control-allow-origin: http://localhost:3000" in answered
        assert "access-control-allow-methods: post" in answered
        assert "access-control-allow-headers: authorization, content-type" in answered
        answered = run(on_ports(call, ports)).lower()
        assert answered.startswith("http/1.1 200")
        assert "access-control-allow-origin: http://localhost:3000" in answered
        assert "x-ratelimit-remaining" in answered.split("access-control-expose-headers:")[1].split("\n")[0]


def test_the_own_data_section_answers_as_it_says(tmp_path):
    download, upload, refused = section_commands("### Your own data")
    with running("namak") as server:
        ports = {"8001": str(server.port)}
        server.store.delete("events", "evt_121")  # a state of the developer's own
        run(f"cd {tmp_path} && " + on_ports(download, ports))
        saved = json.loads((tmp_path / "namak-state.json").read_text(encoding="utf-8"))
        assert "evt_121" not in [e["id"] for e in saved["events"]]
        server.store.reset()
        assert json.loads(run(f"cd {tmp_path} && " + on_ports(upload, ports)))["status"] == "loaded"
        assert server.store.get("events", "evt_121") is None and server.store.get("events", "evt_123")
        answer = json.loads(run(on_ports(refused, ports)))
        assert "evnets" in answer["error"] and server.store.get("events", "evt_122")
