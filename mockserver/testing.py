"""Serve a mock on a free loopback port in a background thread (for tests and benchmarks), or run
`mockserver serve` in a child process as a user would (`ServedProcess`)."""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import uvicorn

from . import limits
from .app import Settings, create_app


class RunningMock:
    def __init__(self, app, server: uvicorn.Server, thread: threading.Thread, port: int):
        self.app = app
        self.server = server
        self.thread = thread
        self.port = port
        self.root = f"http://127.0.0.1:{port}"
        self.base_url = self.root + app.mock.contract.base_path

    @property
    def store(self):
        return self.app.mock.store

    def stop(self, timeout: float = 10) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


@contextlib.contextmanager
def running(slug: str, *, settings: Settings | None = None, fixtures=None, start_timeout: float = 20,
            wrap=None):
    """A mock of `slug` served by uvicorn on 127.0.0.1 and a free port, stopped on exit.

    `wrap(app)` may put a middleware in front of it (the tests' deliberately broken servers).
    """
    app = create_app(slug, fixtures=fixtures, settings=settings or Settings(validate_responses=True))
    with serving(app, wrap=wrap, start_timeout=start_timeout) as mock:
        yield mock


@contextlib.contextmanager
def serving(app, *, wrap=None, start_timeout: float = 20):
    """Any app with a `mock` (the mock's, the proxy's: proxy.create_proxy) served as `running` serves one."""
    slug = app.mock.contract.slug
    served = wrap(app) if wrap else app
    config = uvicorn.Config(served, host="127.0.0.1", port=0, log_level="warning", lifespan="on",
                            access_log=False, **limits.uvicorn_options(app))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"mock-{slug}", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"mock {slug} did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    mock = RunningMock(app, server, thread, port)
    try:
        yield mock
    finally:
        mock.stop()


class ServedProcess:
    """`mockserver serve ...` run as a user runs it, in a child process (this tree's code), its output
    collected line by line. `start()` waits for the table (every mock up) and reads the roots from it.

    `command` runs another installation instead (its `mockserver` script), with `env` as the whole
    environment: nothing of this tree is put on its path."""

    TABLE_END = "A 'Prefer: "  # the last line of the table (cli.banner)

    def __init__(self, *args: str, env: dict | None = None, cwd=None, command: list[str] | None = None):
        root = pathlib.Path(__file__).resolve().parent.parent
        self.args = ["serve", *args]
        self.command = command or [sys.executable, "-m", "mockserver.cli"]
        if command is None:
            self.env = {**os.environ, "PYTHONPATH": str(root), "PYTHONUNBUFFERED": "1", **(env or {})}
        else:
            self.env = {**(env if env is not None else os.environ), "PYTHONUNBUFFERED": "1"}
        self.cwd = cwd or root
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.roots: dict[str, str] = {}
        self.process: subprocess.Popen | None = None
        self._readers: list[threading.Thread] = []

    def launch(self) -> ServedProcess:
        self.process = subprocess.Popen([*self.command, *self.args], cwd=self.cwd,
                                        env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for stream, lines in ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr)):
            reader = threading.Thread(target=_collect, args=(stream, lines), daemon=True)
            reader.start()
            self._readers.append(reader)
        return self

    def start(self, timeout: float = 60) -> ServedProcess:
        """Launch, and wait until the table is printed (every mock serving); fails if it exits first."""
        self.launch()
        if not self.wait_for(lambda: any(line.startswith(self.TABLE_END) for line in self.stdout), timeout):
            self.stop()
            raise RuntimeError(f"mockserver {' '.join(self.args)} did not start: {''.join(self.stderr)[-2000:]}")
        for line in self.stdout:
            match = re.match(r"(\w+)\s+(http://[^/\s]+)", line)
            if match and match.group(1) != "API":
                self.roots[match.group(1)] = match.group(2)
        return self

    def wait_for(self, condition, timeout: float = 10) -> bool:
        """Poll `condition()` until true (True), or until the process ends or time runs out (its last answer)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            if self.process.poll() is not None:
                for reader in self._readers:
                    reader.join(5)
                return bool(condition())
            time.sleep(0.02)
        return bool(condition())

    def finish(self, timeout: float = 30) -> int:
        """Wait for the process to end by itself; its exit status."""
        code = self.process.wait(timeout)
        for reader in self._readers:
            reader.join(5)
        return code

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> int:
        """Signal the process as a terminal (Ctrl-C) or a supervisor (SIGTERM) would; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.finish(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.finish(timeout)
            raise

    def __enter__(self) -> ServedProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()


def _collect(stream, lines: list[str]) -> None:
    for line in stream:
        lines.append(line.rstrip("\n"))
    stream.close()


REDIS_SERVER = "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """Debian's redis-server on a free loopback port, no persistence, for the tests and the bench;
    `stop()`/`start()` on the same port (the outage tests)."""

    def __init__(self):
        if not shutil.which(REDIS_SERVER):
            raise RuntimeError("redis-server is needed: apt-get install redis-server (make test does)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> None:
        self.process = subprocess.Popen([REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no", "--protected-mode", "no"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
