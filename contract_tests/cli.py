"""`contract-test SLUG --base-url URL [options]`: does the server at URL honour its contract?

Exit 0: it conforms. 1: it violates the document (each failure group names the operation, the
rule, what was expected, what came back, and a curl line). 2: usage or connection error, or a
credential the server refuses (checked before the run, and mid-run when it cannot be renewed).
3: not enough evidence (an operation never got a 2xx to a valid request). 4: harness error.

Also: `contract-test lint [SLUG|FILE ...]` checks specs, `contract-test diff OLD NEW` (the
`specdiff` command) says whether a spec change breaks clients, and `contract-test replay HAR
--base-url URL` replays a session recorded by `mockserver proxy --record` (replay.py).
"""

from __future__ import annotations

import argparse
import os
import sys

import requests

from apispec.lint import main as lint_main
from apispec.load import SLUGS

from . import identity
from .context import Credentials, Identity, Run, demo_credentials, from_environment
from .reports import console, html_report, junit, markdown
from .runner import EXIT_CODES, PHASES, Options, describe_error, execute, progress_line

EPILOG = """credentials (defaults: the mock's demo credentials from fixtures/SLUG.yaml):
  -H/--header "Authorization: Bearer KEY"      the default identity's header
  --role ROLE="Authorization: Bearer KEY"      another identity (Amar: user, organizer, admin)
  --body-credential token=T --body-credential username=U   credentials carried in JSON bodies
  or environment: CONTRACT_DEFAULT_HEADER, CONTRACT_<ROLE>_HEADER, CONTRACT_BODY_<FIELD>

exit codes (when several apply, the first of 1, 4, 3 wins):
{exit_codes}

examples:
  contract-test amarevents --base-url http://127.0.0.1:8002/api
  contract-test namak --base-url https://staging.example.com/v1 -H "Authorization: Bearer $KEY" \\
      --junit-xml reports/namak.xml --report reports/namak.md --html reports/namak.html
""".format(exit_codes="\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items()))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contract-test", description="Check a server against one of the five API contracts.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("slug", choices=SLUGS, help="which API contract")
    parser.add_argument("--base-url", required=True,
                        help="where the implementation is, with its base path (http://127.0.0.1:8002/api)")
    parser.add_argument("-H", "--header", action="append", default=[], help="header for the default identity")
    parser.add_argument("--role", action="append", default=[], metavar='ROLE="Name: value"',
                        help="a further identity, for permission checks")
    parser.add_argument("--body-credential", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("CONTRACT_MAX_EXAMPLES", 25)))
    parser.add_argument("--seed", type=int, default=None, help="same seed, same cases, same verdict")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--include", action="append", default=[], metavar="OPERATION_ID")
    parser.add_argument("--exclude", action="append", default=[], metavar="OPERATION_ID")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help=f"comma-separated, from: {', '.join(PHASES)}")
    parser.add_argument("--checks", default="", help="comma-separated rule names (default: all)")
    parser.add_argument("--destructive", action="store_true",
                        help="also run operations that may revoke the run's own credentials")
    parser.add_argument("--allow-untested", action="append", default=[], metavar="OPERATION_ID",
                        help="an operation that may end untested (no 2xx to a valid request) without exit 3")
    parser.add_argument("--strict", action="store_true",
                        help="deviations (failures resting only on what the document does not state) "
                             "count as violations")
    parser.add_argument("--junit-xml", metavar="FILE",
                        help="JUnit XML: a test case per (operation, rule) that ran")
    parser.add_argument("--report", metavar="FILE", help="a Markdown summary that fits a pull-request comment")
    parser.add_argument("--html", metavar="FILE", help="a self-contained HTML report (viewable offline)")
    parser.add_argument("--cleanup", action=argparse.BooleanOptionalAction, default=True,
                        help="delete what the run created, at its end (default); --no-cleanup keeps it")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    return parser


def credentials_from(args) -> Credentials:
    credentials = from_environment(args.slug, demo_credentials(args.slug))
    if args.header:
        credentials.use_default_headers(dict(_header(h) for h in args.header))
    for entry in args.role:
        role, _, header = entry.partition("=")
        name, value = _header(header)
        credentials.roles[role] = Identity(role, {name: value})
    for entry in args.body_credential:
        field, _, value = entry.partition("=")
        credentials.default.body[field] = value
    return credentials


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep:
        raise ValueError(f"header {text!r} is not 'Name: value'")
    return name.strip(), value.strip()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "lint":
        return lint_main(argv[1:])
    if argv and argv[0] == "replay":
        from .replay import main as replay_main

        return replay_main(argv[1:])
    if argv and argv[0] == "diff":
        from specdiff.cli import main as diff_main

        return diff_main(argv[1:], prog="contract-test diff")
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    unknown = [p for p in phases if p not in PHASES]
    if unknown or not phases:
        print(f"contract-test: unknown phase(s) {', '.join(unknown) or '(none given)'}; "
              f"choose from {', '.join(PHASES)}", file=sys.stderr)
        return 2
    try:
        credentials = credentials_from(args)
    except ValueError as exc:
        print(f"contract-test: {exc}", file=sys.stderr)
        return 2
    run = Run(args.slug, args.base_url, credentials, timeout=args.timeout)
    try:
        requests.get(run.base_url + "/", timeout=args.timeout)
    except requests.RequestException as exc:
        print(f"contract-test: cannot reach {args.base_url}: {type(exc).__name__}", file=sys.stderr)
        return 2
    problem = identity.verify(run)  # every identity of the run, tried once before it starts
    if problem:
        print(f"contract-test: {problem}", file=sys.stderr)
        return 2
    options = Options(max_examples=args.max_examples, seed=args.seed, workers=args.workers, phases=phases,
                      include=tuple(args.include), exclude=tuple(args.exclude),
                      checks=tuple(c.strip() for c in args.checks.split(",") if c.strip()),
                      destructive=args.destructive, allow_untested=tuple(args.allow_untested),
                      strict=args.strict, cleanup=args.cleanup)
    show = not args.quiet and sys.stderr.isatty()
    try:
        result = execute(run, options, progress=progress_line if show else None)
    except Exception as exc:  # the suite itself broke, outside any check: no verdict on the server
        print(f"contract-test: harness error: {describe_error(exc)}", file=sys.stderr)
        return 4
    if show:
        sys.stderr.write("\n")
    if not result.operations:
        print(console(result))
        print("contract-test: no operation selected (check --include/--exclude)", file=sys.stderr)
        return 2
    print(console(result))
    if args.junit_xml:
        _write(args.junit_xml, junit([result]))
    if args.report:
        _write(args.report, markdown([result]))
    if args.html:
        _write(args.html, html_report([result]))
    return result.exit_code()  # 2 when the run's credential died mid-run and could not be renewed


def _write(path: str, text: str) -> None:
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


if __name__ == "__main__":
    raise SystemExit(main())
