"""`mockserver serve` as a user runs it: the table once every mock answers, one line per request
(`--quiet`: none), and clean failures: a bad flag, a busy port, a missing or malformed file is one
line naming what and where, a non-zero exit, no traceback, nothing left serving."""

from __future__ import annotations

import contextlib
import re
import signal
import socket

import httpx
import pytest

from apispec.load import SLUGS
from mockserver import cli
from mockserver.testing import ServedProcess

TIMEOUT = 10


def failed(*args: str) -> ServedProcess:
    """`mockserver serve ARGS`, expected to end by itself."""
    process = ServedProcess(*args).launch()
    process.finish(60)
    return process


def assert_one_clean_line(process: ServedProcess, code: int, *words: str) -> str:
    assert process.process.returncode == code, (process.stdout, process.stderr)
    assert process.stdout == [], process.stdout  # no table, nothing served
    assert len(process.stderr) == 1, process.stderr
    line = process.stderr[0]
    assert line.startswith("mockserver"), line
    for word in words:
        assert word in line, (word, line)
    return line


@contextlib.contextmanager
def listening(port: int = 0):
    """A socket listening on 127.0.0.1 (someone else's server on that port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        yield sock.getsockname()[1]


def free_run(length: int) -> int:
    """The first of `length` free ports in a row on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + length > 65535:
            continue
        with contextlib.ExitStack() as stack:
            try:
                for port in range(base, base + length):
                    sock = stack.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return base
    raise AssertionError(f"no {length} free ports in a row")


# --- bad flags: argparse's error in one line, exit 2 ------------------------------------------------

@pytest.mark.parametrize("argv, words", [
    ([], ["required: command"]),
    (["serve", "nope"], ["slug", "'nope'"]),
    (["serve", "namak", "--port", "abc"], ["--port", "'abc'"]),
    (["serve", "namak", "--port", "70000"], ["--port", "70000"]),
    (["serve", "namak", "--bogus"], ["--bogus"]),
    (["serve", "namak", "--cors", "maybe"], ["--cors", "'maybe'"]),
    (["serve", "namak", "--cors-origin", "localhost:3000"], ["--cors-origin", "localhost:3000"]),
    (["serve", "all", "--fixtures", "mine.yaml"], ["--fixtures", "'all'"]),
])
def test_a_bad_flag_is_one_line_and_exit_2(capsys, argv, words):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("mockserver"), err
    for word in words:
        assert word in err, (word, err)


def test_a_bad_flag_from_the_command_line():
    process = failed("tickets", "--port", "eighty")
    assert_one_clean_line(process, 2, "--port", "'eighty'", "--help")


# --- busy ports ---------------------------------------------------------------------------------------

def test_a_busy_port_is_one_line_naming_it():
    with listening() as port:
        process = failed("tickets", "--port", str(port))
    assert_one_clean_line(process, 1, "tickets", f"127.0.0.1:{port}", "in use")


def test_serve_all_with_one_busy_port_serves_none():
    base = free_run(len(SLUGS))
    busy = base + SLUGS.index("tickets")
    with listening(busy):
        process = failed("all", "--port", str(base))
        line = assert_one_clean_line(process, 1, "tickets", f"127.0.0.1:{busy}", "in use")
        assert "Traceback" not in line
        # nothing half up: every other port of the five is free again
        for port in range(base, base + len(SLUGS)):
            if port != busy:
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))


def in_process(capsys, *args: str) -> str:
    """`mockserver serve ARGS` run in this process (the same `main`), expected to fail with status 1:
    its one line on stderr."""
    assert cli.main(["serve", *args]) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and err.startswith("mockserver: "), (out, err)
    return err


def test_an_unknown_host_is_one_line(capsys):
    line = in_process(capsys, "namak", "--host", "no-such-host.invalid", "--port", "0")
    assert "namak" in line and "no-such-host.invalid" in line and "unknown host" in line


# --- files --------------------------------------------------------------------------------------------

def test_a_missing_fixtures_file_is_one_line(capsys, tmp_path):
    missing = tmp_path / "nowhere.yaml"
    line = in_process(capsys, "namak", "--port", "0", "--fixtures", str(missing))
    assert f"{missing}: no such file" in line


def test_malformed_yaml_is_one_line_with_line_and_column(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("collections:\n  events:\n    - {id: evt_1, title: [unclosed\n", encoding="utf-8")
    line = in_process(capsys, "namak", "--port", "0", "--fixtures", str(bad))
    assert re.search(rf"{re.escape(str(bad))}, line 4, column \d+: not valid YAML", line), line


def test_malformed_yaml_from_the_command_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("collections: {events: [\n", encoding="utf-8")
    process = failed("namak", "--port", "0", "--fixtures", str(bad))
    assert_one_clean_line(process, 1, str(bad), "not valid YAML")


# --- serving and stopping -----------------------------------------------------------------------------

def test_serve_all_prints_the_table_once_every_mock_answers_and_stops_on_sigterm():
    with ServedProcess("all", "--port", "0", "--quiet") as process:
        # the table is out: every mock answers already
        assert sorted(process.roots) == sorted(SLUGS)
        for slug, root in process.roots.items():
            assert httpx.get(root + "/__admin/health", timeout=TIMEOUT).json()["api"] == slug
        table = [line for line in process.stdout if line.startswith(tuple(SLUGS))]
        assert len(table) == len(SLUGS)
        assert process.stop(signal.SIGTERM) == 0
    assert process.stderr == []
    assert process.stdout[-1].startswith(ServedProcess.TABLE_END)  # --quiet: no line per request
    for root in process.roots.values():
        with pytest.raises(httpx.TransportError):
            httpx.get(root + "/__admin/health", timeout=TIMEOUT)


# --- the request log ----------------------------------------------------------------------------------

LOG_LINE = re.compile(r"^(\d\d:\d\d:\d\d\.\d{3})  (\w+) +(\S+) (\S+)  (\S+)  (\d{3})  (\d+\.\d) ms$")


def test_one_log_line_per_request():
    with ServedProcess("namak", "--port", "0") as process:
        root = process.roots["namak"]
        key = {"Authorization": "Bearer YOUR_API_KEY"}
        sent = [
            httpx.get(root + "/v1/events", params={"status": "draft"}, headers=key, timeout=TIMEOUT),
            httpx.post(root + "/v1/events", json={"title": "x"}, headers=key, timeout=TIMEOUT),
            httpx.get(root + "/v1/events/evt_123", timeout=TIMEOUT),
            httpx.get(root + "/v1/nowhere", timeout=TIMEOUT),
            httpx.options(root + "/v1/events", headers={"Origin": "http://localhost:3000",
                                                        "Access-Control-Request-Method": "POST"}, timeout=TIMEOUT),
            httpx.post(root + "/__admin/reset", json={}, timeout=TIMEOUT),
        ]
        assert process.wait_for(lambda: len([x for x in process.stdout if LOG_LINE.match(x)]) >= len(sent))
        assert process.stop(signal.SIGINT) == 0  # Ctrl-C
    assert process.stderr == []
    lines = [LOG_LINE.match(x).groups() for x in process.stdout if LOG_LINE.match(x)]
    assert [(slug, method, path, operation, int(status)) for _, slug, method, path, operation, status, _ in lines] == [
        ("namak", "GET", "/v1/events?status=draft", "listEvents", 200),
        ("namak", "POST", "/v1/events", "createEvent", 400),
        ("namak", "GET", "/v1/events/evt_123", "getEvent", 401),
        ("namak", "GET", "/v1/nowhere", "-", 404),
        ("namak", "OPTIONS", "/v1/events", "preflight", 204),
        ("namak", "POST", "/__admin/reset", "admin", 200),
    ]
    assert [int(s) for s in (r.status_code for r in sent)] == [int(line[5]) for line in lines]
    assert all(float(line[6]) < 5000 for line in lines)
