"""Serve a mock on a free loopback port in a background thread (for tests and benchmarks)."""

from __future__ import annotations

import contextlib
import threading
import time

import uvicorn

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
    served = wrap(app) if wrap else app
    config = uvicorn.Config(served, host="127.0.0.1", port=0, log_level="warning", lifespan="on",
                            access_log=False)
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
