"""`make contract-paced`: the README's own command against Amar's mock served as `make run` serves
it (its documented limits, 60/120/300 requests a minute by key type), timed.

    python -m tests.harness.paced [SLUG]

Starts `mockserver serve SLUG --port N` on a free loopback port, waits (bounded) until it answers,
runs `contract-test SLUG --base-url http://127.0.0.1:N/<base path>` and stops the mock; exits with
contract-test's code. A full run paces itself to the documented limits: several minutes for Amar
(`make test` runs the same limits on a short window instead, in tests/harness/test_pacing.py).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx

from apispec.model import contract
from contract_tests.cli import main as contract_test


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    slug = (argv if argv is not None else sys.argv[1:] or ["amarevents"])[0]
    port = _free_port()
    mock = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", slug, "--port", str(port)],
                            stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/__admin/health", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if mock.poll() is not None or time.monotonic() > deadline:
                    print(f"paced: the {slug} mock did not start", file=sys.stderr)
                    return 2
                time.sleep(0.2)
        base_url = f"http://127.0.0.1:{port}{contract(slug).base_path}"
        print(f"contract-test {slug} --base-url {base_url}  (the mock at its documented rate limits)", flush=True)
        started = time.monotonic()
        code = contract_test([slug, "--base-url", base_url])
        print(f"paced: exit {code} after {time.monotonic() - started:.0f} s")
        return code
    finally:
        mock.terminate()
        try:
            mock.wait(timeout=10)
        except subprocess.TimeoutExpired:
            mock.kill()


if __name__ == "__main__":
    raise SystemExit(main())
