"""`specdiff OLD.yaml NEW.yaml [--format text|markdown|json]` (also `contract-test diff`, `python -m
specdiff`): what changed between two versions of a spec, and does any of it break clients written
against OLD?

Exit 0: nothing breaks clients of OLD (there may be compatible changes). Exit 1: something does.
Exit 2: an input could not be read (missing file, bad YAML, not an OpenAPI 3 document, a local
`$ref` that leads nowhere), with one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys

from .load import SpecError, load
from .render import FORMATS
from .walk import compare


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Compare two versions of an OpenAPI spec and class every change as breaking or compatible.",
        epilog="exit status: 0 nothing breaks clients of OLD, 1 something does, 2 unreadable input\n\n"
               "example:\n  git show origin/main:specs/namak.yaml > /tmp/old.yaml\n"
               f"  {prog} /tmp/old.yaml specs/namak.yaml --format markdown",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", help="the version clients are written against (YAML or JSON; - for stdin)")
    parser.add_argument("new", help="the proposed version")
    parser.add_argument("--format", choices=list(FORMATS), default="text")
    return parser


def main(argv: list[str] | None = None, prog: str = "specdiff") -> int:
    """Run the command on `argv` (default: the process's arguments); `prog` is the name its usage
    and its one-line errors go by (`contract-test diff` when that command dispatches here)."""
    try:
        args = _parser(prog).parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    try:
        old, new = load(args.old), load(args.new)
        changes = compare(old, new)
    except (SpecError, LookupError) as exc:    # LookupError: a `$ref` to a non-mapping, met during the walk
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    verdict = 1 if any(c.breaking for c in changes) else 0
    try:
        print(FORMATS[args.format](changes, args.old, args.new))
    except BrokenPipeError:     # `specdiff ... | head`: the verdict still stands
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return verdict
