"""`mockserver serve SLUG|all [--host H] [--port N] [--fixtures PATH] [--state FILE] [--quiet] ...`;
`mockserver proxy SLUG --upstream URL [--port N] [--block-invalid] [--report FILE] [--fail-on-violation]`
(proxy.py).

Everything that can fail is tried before anything serves: the flags, the ports (all bound
first), the fixtures (checked against the spec) and the state file. A failure is one line on
stderr naming what and where, exit status 2 (usage) or 1 (the rest), no traceback, nothing
left listening. The table is printed once every mock answers; Ctrl-C or SIGTERM stops them
all (and writes `--state`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import errno
import gc
import http.client
import ipaddress
import json
import logging
import multiprocessing
import pathlib
import signal
import socket
import sys
import time

import uvicorn

from apispec import ext
from apispec.load import SLUGS
from apispec.model import contract

from . import limits, state
from .adminguard import is_every_interface, is_loopback
from .app import Settings, create_app, load_fixtures
from .errors import ApiError
from .fixtures import FixtureError
from .proxy import create_proxy
from .requestlog import RequestLog
from .store import open_store

START_TIMEOUT = 60  # seconds for every server to be up once its socket is bound


class CliError(Exception):
    """A failure the user can act on: one line, exit status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad flag said in one line (not the usage block)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


class _Server(uvicorn.Server):
    """uvicorn's server, less its own signal handling: `_serve_all` stops every server on a signal
    and finishes its work (the state file) before the process ends."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


def _bind(slug: str, host: str, port: int) -> socket.socket:
    where = f"{host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise CliError(f"cannot serve {slug} on {where}: unknown host {host!r} ({exc.strerror})") from None
    except OverflowError:
        raise CliError(f"cannot serve {slug} on {where}: a port is a number from 0 to 65535") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CliError(f"cannot serve {slug} on {where}: the port is in use (another mockserver? "
                           f"--port picks another)") from None
        raise CliError(f"cannot serve {slug} on {where}: {exc.strerror or exc}") from None
    except OverflowError:
        sock.close()
        raise CliError(f"cannot serve {slug} on {where}: a port is a number from 0 to 65535") from None
    sock.set_inheritable(True)
    return sock


def _beyond_loopback(host: str) -> bool:
    """Whether `--host` reaches past this machine (a name that does not resolve is left to the bind to report)."""
    if is_loopback(host):
        return False
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        return False
    return not all(ipaddress.ip_address(address[4][0].split("%")[0]).is_loopback for address in found)


def _kept_state(slug: str, path: str):
    """The state kept in `path` (None if there is none yet), checked; its directory must exist, so the
    state can be written there at shutdown."""
    directory = pathlib.Path(path).resolve().parent
    if not directory.is_dir():
        raise CliError(f"--state {path}: no directory {directory} to keep the state in")
    if pathlib.Path(path).is_dir():
        raise CliError(f"--state {path}: is a directory, not a file")
    return state.read_file(slug, path)


def _keep_state(slug: str, store, path: str) -> None:
    document = state.document(store)
    try:
        state.write_file(path, document)
    except OSError as exc:
        raise CliError(f"--state {path}: the state of {slug} was not written: {exc.strerror or exc}") from None
    records = sum(len(records) for records in document.values())
    print(f"{slug}: state written to {path} ({records} records); the next start with --state {path} loads it",
          flush=True)


def _credential_text(entry: dict) -> str:
    """A `credentials:` entry as a user types it: the header, or the body fields as JSON."""
    body = entry.get("body")
    text = entry.get("header") or (json.dumps(body) if isinstance(body, dict) else body) or ""
    return f"{entry['role']}: {text}" if entry.get("role") else text


def banner(slugs, host, port, fixtures, ports: dict[str, int] | None = None, admin_token: bool = False) -> str:
    """The table of mocks; `ports` are the ports bound (else `port`, else each API's own)."""
    rows = [("API", "base URL", "docs", "demo credentials")]
    for slug in slugs:
        spec = contract(slug)
        root = f"http://{host}:{(ports or {}).get(slug) or port or spec.default_port()}"
        creds = "; ".join(_credential_text(c) for c in load_fixtures(slug, fixtures).get("credentials", []))
        rows.append((slug, root + spec.base_path, root + "/__docs/", creds))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows]
    lines.insert(1, "-" * max(len(line) for line in lines))
    lines.append("")
    if admin_token:
        lines.append("/__admin needs 'Authorization: Bearer <the --admin-token>'; the console asks for it once "
                     "(or open /__admin/#token=TOKEN).")
    lines.append("On each: the console at /__admin/ in a browser (journal, store, reset, latency and faults); "
                 "the control surface /__admin/reset (POST), /__admin/requests, /__admin/state (GET, PUT), "
                 "/__admin/faults.")
    lines.append("A 'Prefer: code=NNN', 'example=NAME' or 'dynamic=true' header forces a documented answer. "
                 "Ctrl-C stops.")
    return "\n".join(lines)


async def _serve_all(servers: list[tuple[str, uvicorn.Server, socket.socket]], on_ready) -> bool:
    """Serve until a signal; `on_ready()` once every server is up. A server that fails to start
    stops the others. False: stopped by a signal before every server was up."""
    loop = asyncio.get_running_loop()
    stopping = []

    def stop():
        for _, server, _ in servers:
            if stopping:
                server.force_exit = True  # a second Ctrl-C: do not wait for open connections
            server.should_exit = True
        stopping.append(True)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(server.serve(sockets=[sock])) for _, server, sock in servers]
    deadline = loop.time() + START_TIMEOUT
    interrupted = False
    while not all(server.started for _, server, _ in servers):
        if stopping:  # Ctrl-C while starting: stop quietly
            interrupted = True
            break
        if any(task.done() for task in tasks) or loop.time() > deadline:
            stop()
            break
        await asyncio.sleep(0.02)
    else:
        on_ready()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    if interrupted:
        return False
    for (slug, server, _), result in zip(servers, results, strict=True):
        if isinstance(result, BaseException) or not server.started:
            raise CliError(f"{slug} did not start" + (f": {result}" if isinstance(result, BaseException) else ""))
    return True


def _parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    parser = _Parser(prog="mockserver", description="Serve the API mocks.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve one API, or all five")
    serve.add_argument("slug", choices=[*SLUGS, "all"])
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None,
                       help="default: the API's own port; with 'all', the first of five in a row; 0: any free one")
    serve.add_argument("--fixtures", default=None, help="seed data file (one API only)")
    serve.add_argument("--validate-responses", action="store_true",
                       help="check every response against the spec (answers 500 if one breaks it)")
    serve.add_argument("--rate-limit-window", type=float, default=None, metavar="SECONDS",
                       help="rate-limit window instead of the spec's (e.g. 1 for fuzzing at full speed)")
    serve.add_argument("--rate-limit", type=int, default=None, metavar="N",
                       help="requests per window for every key, instead of the documented limits")
    serve.add_argument("--cors", choices=["on", "off"], default="on",
                       help="answer browsers on other origins (default on: any origin, credentials allowed)")
    serve.add_argument("--cors-origin", nargs="+", default=(), metavar="ORIGIN",
                       help="allow only these origins (e.g. http://localhost:3000)")
    serve.add_argument("--state", default=None, metavar="FILE",
                       help="load the store from FILE at start if it exists, write it there at shutdown (one API only)")
    serve.add_argument("--admin-token", default=None, metavar="TOKEN",
                       help="every /__admin call needs 'Authorization: Bearer TOKEN' (required with a non-loopback "
                            "--host); the console asks for it once")
    serve.add_argument("--allowed-host", nargs="+", default=(), metavar="NAME",
                       help="Host names /__admin admits beside 127.0.0.1, localhost and [::1] ('*': any)")
    serve.add_argument("--quiet", action="store_true", help="no line per request in the terminal")
    shared = serve.add_argument_group("sharing one mock across workers and replicas")
    shared.add_argument("--store", default=None, metavar="URL",
                        help="keep the state in Redis (redis://HOST:PORT/DB), shared by every worker and every "
                             "mockserver naming the same store and prefix; default: this process's memory")
    shared.add_argument("--store-prefix", default="mockserver", metavar="P",
                        help="the shared store's keys start with P:<api> (default %(default)s), so several mocks "
                             "or teams can share one Redis")
    shared.add_argument("--reset-store", action="store_true",
                        help="load the fixtures into the shared store at start (default: keep the data it holds)")
    shared.add_argument("--workers", type=_positive(int), default=1, metavar="N",
                        help="worker processes per API (N > 1 needs --store)")
    limits_group = serve.add_argument_group("limits on every input (a request over one is refused in the "
                                            "API's own error body)")
    defaults = Settings()
    limits_group.add_argument("--max-body-bytes", type=_positive(int), default=defaults.max_body_bytes, metavar="N",
                              help="largest request body (default 1 MiB; larger: 413)")
    limits_group.add_argument("--max-query-params", type=_positive(int), default=defaults.max_query_params,
                              metavar="N", help="most query parameters in a request (default %(default)s; more: 400)")
    limits_group.add_argument("--max-header-bytes", type=_positive(int), default=defaults.max_header_bytes,
                              metavar="N", help="largest request line and headers (default 64 KiB; larger: 431)")
    limits_group.add_argument("--header-timeout", type=_positive(float), default=defaults.header_timeout,
                              metavar="SECONDS", help="time to send the request line and headers "
                                                      "(default %(default)g; then 408 and closed)")
    limits_group.add_argument("--body-timeout", type=_positive(float), default=defaults.body_timeout,
                              metavar="SECONDS", help="longest pause within a request body (default %(default)g; "
                                                      "then 408 and closed)")
    limits_group.add_argument("--limit-concurrency", type=_positive(int), default=defaults.limit_concurrency,
                              metavar="N", help="connections and requests at once, per API "
                                                "(default %(default)s; beyond: 503)")
    limits_group.add_argument("--keep-alive-timeout", type=_positive(int), default=defaults.keep_alive_timeout,
                              metavar="SECONDS", help="an idle kept-alive connection is closed after it "
                                                      "(default %(default)s)")
    proxy = sub.add_parser("proxy", help="check a real implementation of one API as it is used (a validating "
                                         "reverse proxy)")
    proxy.add_argument("slug", choices=list(SLUGS))
    proxy.add_argument("--upstream", required=True, metavar="URL",
                       help="where the real API is served, its base path included (as contract-test --base-url)")
    proxy.add_argument("--host", default="127.0.0.1")
    proxy.add_argument("--port", type=int, default=None, help="default: the API's own port; 0: any free one")
    proxy.add_argument("--block-invalid", action="store_true",
                       help="answer a request the spec refuses with the API's error body (default: forward it)")
    proxy.add_argument("--timeout", type=_positive(float), default=30.0, metavar="SECONDS",
                       help="longest wait for the upstream (default %(default)g; then 502)")
    proxy.add_argument("--report", default=None, metavar="FILE", help="write the violations there (Markdown) on exit")
    proxy.add_argument("--fail-on-violation", action="store_true",
                       help="exit status 1 when any violation was seen")
    proxy.add_argument("--record", default=None, metavar="DIR",
                       help="keep every exchange, credentials redacted, in DIR/<api>.har (written on exit)")
    proxy.add_argument("--admin-token", default=None, metavar="TOKEN",
                       help="every /__admin call needs 'Authorization: Bearer TOKEN'")
    proxy.add_argument("--quiet", action="store_true", help="no line per request in the terminal")
    proxy.set_defaults(parser=proxy)
    return parser, serve


def _run_proxy(args) -> int:
    """`mockserver proxy`: serve the proxy until a signal; the report and the exit status after."""
    if not args.upstream.startswith(("http://", "https://")):
        args.parser.error(f"argument --upstream: {args.upstream!r} is not an http(s) URL")
    if _beyond_loopback(args.host) and not args.admin_token:
        args.parser.error(f"--host {args.host} serves beyond this machine: give --admin-token TOKEN too")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings(admin_token=args.admin_token, request_log=not args.quiet)
    sock = None
    try:
        sock = _bind(args.slug, args.host, _port([args.slug], args.slug, args.port))
        app = create_proxy(args.slug, args.upstream, block_invalid=args.block_invalid, timeout=args.timeout,
                           settings=settings, record=args.record)
        served = app
        if settings.request_log:
            served = RequestLog(app, args.slug)
        config = uvicorn.Config(served, log_level="warning", lifespan="on", access_log=False,
                                **limits.uvicorn_options(app))
        port = sock.getsockname()[1]
        line = (f"{args.slug} proxy  http://{args.host}:{port}{app.mock.contract.base_path} -> {args.upstream}\n"
                f"Violations: X-Contract-Violations on each answer, http://{args.host}:{port}/__admin/violations, "
                f"the console at http://{args.host}:{port}/__admin/. Ctrl-C stops.")
        asyncio.run(_serve_all([(args.slug, _Server(config), sock)], lambda: print(line, flush=True)))
    except CliError as exc:
        print(f"mockserver: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        if sock is not None:
            sock.close()
    if args.report:
        pathlib.Path(args.report).write_text(app.report(), encoding="utf-8")
    if app.recorder is not None:
        print(f"mockserver proxy: {len(app.recorder.entries)} exchange(s) recorded in {app.recorder.write()}",
              flush=True)
    total = app.violations.summary()["violations"]
    print(f"mockserver proxy: {total} violation(s) seen" + (f"; report in {args.report}" if args.report else ""),
          flush=True)
    return 1 if args.fail_on_violation and total else 0


def _worker(slug: str, fixtures, settings: Settings, sock: socket.socket) -> None:
    """One of `--workers N` processes serving `slug` on the socket the parent bound."""
    app = create_app(slug, fixtures=fixtures, settings=settings)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False, **limits.uvicorn_options(app))
    gc.freeze()
    uvicorn.Server(config).run(sockets=[sock])


def _answers(port: int, host: str) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1" if is_every_interface(host) else host, port, timeout=2)
    try:
        connection.request("GET", "/__admin/health")
        return connection.getresponse().status < 500
    except OSError:
        return False
    finally:
        connection.close()


def _serve_workers(slugs: list[str], sockets: list[socket.socket], args, settings: Settings) -> int:
    """`--workers N`: N processes per API on its one socket, their state in the shared store. The
    store is set up here once (fixtures loaded, or kept), then the workers start; the table is
    printed when every API answers; a signal stops them all."""
    for slug in slugs:
        fixtures = load_fixtures(slug, args.fixtures)
        open_store(settings.store, fixtures.get("collections", {}), ext.resource.id_styles(contract(slug)),
                   prefix=f"{settings.store_prefix}:{slug}", reset=settings.reset_store)
    settings = dataclasses.replace(settings, reset_store=False)  # done once, above; not by each worker
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_worker, args=(slug, args.fixtures, settings, sock), name=f"{slug}-{n}")
               for slug, sock in zip(slugs, sockets, strict=True) for n in range(args.workers)]
    stopping: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: stopping.append(signum))
    try:
        for worker in workers:
            worker.start()
        ports = {slug: sock.getsockname()[1] for slug, sock in zip(slugs, sockets, strict=True)}
        deadline = time.monotonic() + START_TIMEOUT
        waiting = set(slugs)
        while waiting and not stopping:
            if time.monotonic() > deadline or not all(w.is_alive() for w in workers):
                raise CliError(f"{', '.join(sorted(waiting))} did not start (see the lines above)")
            waiting = {slug for slug in waiting if not _answers(ports[slug], args.host)}
            time.sleep(0.05)
        if stopping:
            return 130
        print(banner(slugs, args.host, args.port, args.fixtures, ports, admin_token=bool(args.admin_token))
              + f"\n{args.workers} workers per API, their state in {settings.store} (prefix {settings.store_prefix}).",
              flush=True)
        while not stopping and all(w.is_alive() for w in workers):
            time.sleep(0.1)
        return 0 if stopping else 1
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()  # SIGTERM: uvicorn finishes open requests
        for worker in workers:
            worker.join(10)
            if worker.is_alive():
                worker.kill()
                worker.join(5)


def _positive(kind):
    """An argparse type: a number above zero."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text!r} is not above zero")
        return value
    parse.__name__ = kind.__name__
    return parse


def _port(slugs: list[str], slug: str, port: int | None) -> int:
    """The port `slug` is served on: its own, or `--port` (with 'all': `--port` + its place in the table)."""
    if port is None:
        return contract(slug).default_port()
    return port + slugs.index(slug) if port else 0


def main(argv=None) -> int:
    parser, serve = _parser()
    args = parser.parse_args(argv)
    if args.command == "proxy":
        return _run_proxy(args)

    slugs = list(SLUGS) if args.slug == "all" else [args.slug]
    if len(slugs) > 1 and (args.fixtures or args.state):
        serve.error(f"{'--fixtures' if args.fixtures else '--state'} applies to one API, not to 'all'")
    if args.port is not None and not 0 <= args.port <= 65536 - len(slugs):
        serve.error(f"argument --port: {args.port} is not a port (0 to 65535)")
    for origin in args.cors_origin:
        if not origin.startswith(("http://", "https://")) or origin.rstrip("/") != origin:
            serve.error(f"argument --cors-origin: {origin!r} is not an origin (scheme://host[:port], "
                         f"e.g. http://localhost:3000)")
    if args.admin_token is not None and not args.admin_token.strip():
        serve.error("argument --admin-token: the token is empty")
    if _beyond_loopback(args.host) and not args.admin_token:
        serve.error(f"--host {args.host} serves beyond this machine: give --admin-token TOKEN too, so that no one "
                    f"else on the network can read or change the mocks through /__admin")
    if is_every_interface(args.host):
        print(f"mockserver: warning: --host {args.host} serves on every network interface: anyone who can reach "
              f"this machine can call the APIs; /__admin needs the admin token", file=sys.stderr, flush=True)
    if args.store is not None and not args.store.startswith(("redis://", "rediss://", "unix://")):
        serve.error(f"argument --store: {args.store!r} is not a Redis URL (redis://HOST:PORT/DB)")
    if args.workers > 1 and not args.store:
        serve.error(f"--workers {args.workers} needs a shared store (--store redis://HOST:PORT/DB): each worker "
                    f"would hold its own state")
    if args.workers > 1 and args.state:
        serve.error("--state goes with one worker (with --store, the state is kept in the store)")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings(validate_responses=args.validate_responses, rate_limit_window=args.rate_limit_window,
                        rate_limits={"limit": args.rate_limit} if args.rate_limit else None,
                        cors=args.cors == "on", cors_origins=tuple(args.cors_origin), request_log=not args.quiet,
                        admin_token=args.admin_token, allowed_hosts=tuple(args.allowed_host),
                        max_body_bytes=args.max_body_bytes, max_query_params=args.max_query_params,
                        max_header_bytes=args.max_header_bytes, header_timeout=args.header_timeout,
                        body_timeout=args.body_timeout, limit_concurrency=args.limit_concurrency,
                        keep_alive_timeout=args.keep_alive_timeout, store=args.store,
                        store_prefix=args.store_prefix, reset_store=args.reset_store)
    sockets: list[socket.socket] = []
    try:
        for slug in slugs:
            sockets.append(_bind(slug, args.host, _port(slugs, slug, args.port)))
        if args.workers > 1:
            return _serve_workers(slugs, sockets, args, settings)
        kept = _kept_state(slugs[0], args.state) if args.state else None
        servers = []
        for slug, sock in zip(slugs, sockets, strict=True):
            app = create_app(slug, fixtures=args.fixtures, settings=settings)
            if kept is not None:
                app.mock.store.load(kept)
            config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False,
                                    **limits.uvicorn_options(app))
            servers.append((slug, _Server(config), sock))
        # the apps, specs and fixtures live as long as the process: out of the collector's way, or
        # every full collection scans them all again (a create's p99 under load: 27 ms with, 5 ms without)
        gc.freeze()
        ports = {slug: sock.getsockname()[1] for slug, sock in zip(slugs, sockets, strict=True)}
        table = banner(slugs, args.host, args.port, args.fixtures, ports, admin_token=bool(args.admin_token))
        served = asyncio.run(_serve_all(servers, lambda: print(table, flush=True)))
        if args.state and served:
            _keep_state(slugs[0], app.mock.store, args.state)  # one API: its app
    except (CliError, FixtureError, ApiError) as exc:
        print("\n".join(f"mockserver: {line}" for line in str(exc).splitlines()), file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C while the apps were being built
        return 130
    finally:
        for sock in sockets:
            sock.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
