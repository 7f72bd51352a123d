"""`mockserver serve SLUG|all [--host H] [--port N] [--fixtures PATH]`."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import sys

import uvicorn

from contract_tests.speclint import SLUGS

from .app import Settings, create_app, load_fixtures
from .contract import contract


def _servers(slugs, host, port, fixtures, settings):
    servers = []
    for slug in slugs:
        app = create_app(slug, fixtures=fixtures, settings=settings)
        config = uvicorn.Config(app, host=host, port=port or contract(slug).default_port(),
                                log_level="warning", lifespan="on", access_log=False)
        servers.append((slug, uvicorn.Server(config)))
    return servers


def _credential_text(entry: dict) -> str:
    """A `credentials:` entry as a user types it: the header, or the body fields as JSON."""
    body = entry.get("body")
    text = entry.get("header") or (json.dumps(body) if isinstance(body, dict) else body) or ""
    return f"{entry['role']}: {text}" if entry.get("role") else text


def banner(slugs, host, port, fixtures) -> str:
    rows = [("API", "base URL", "docs", "demo credentials")]
    for slug in slugs:
        spec = contract(slug)
        root = f"http://{host}:{port or spec.default_port()}"
        creds = "; ".join(_credential_text(c) for c in load_fixtures(slug, fixtures).get("credentials", []))
        rows.append((slug, root + spec.base_path, root + "/__docs/", creds))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows]
    lines.insert(1, "-" * max(len(line) for line in lines))
    lines.append("")
    lines.append("Control surface on each: /__admin/reset (POST), /__admin/requests, /__admin/state. "
                 "A 'Prefer: code=NNN' header forces a documented answer. Ctrl-C stops.")
    return "\n".join(lines)


async def _serve(servers):
    await asyncio.gather(*(server.serve() for _, server in servers))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="mockserver", description="Serve the API mocks.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve one API, or all five")
    serve.add_argument("slug", choices=[*SLUGS, "all"])
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: the API's own port")
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
    args = parser.parse_args(argv)

    slugs = list(SLUGS) if args.slug == "all" else [args.slug]
    if len(slugs) > 1 and (args.port or args.fixtures):
        parser.error("--port and --fixtures apply to one API, not to 'all'")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings(validate_responses=args.validate_responses, rate_limit_window=args.rate_limit_window,
                        rate_limits={"limit": args.rate_limit} if args.rate_limit else None,
                        cors=args.cors == "on", cors_origins=tuple(args.cors_origin))
    try:
        servers = _servers(slugs, args.host, args.port, args.fixtures, settings)
    except (OSError, LookupError, ValueError) as exc:
        print(f"mockserver: {exc}", file=sys.stderr)
        return 2
    # the apps, specs and fixtures live as long as the process: out of the collector's way, or every
    # full collection scans them all again (a create's p99 under load: 27 ms with, 5 ms without)
    gc.freeze()
    print(banner(slugs, args.host, args.port, args.fixtures), flush=True)
    try:
        asyncio.run(_serve(servers))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
