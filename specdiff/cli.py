"""`specdiff OLD NEW [options]` (also `contract-test diff`, `python -m specdiff`): what changed
between two versions of a spec, and does any of it break clients written against OLD?

OLD and NEW: a file, `-` (standard input), a URL, or a git revision and path (`main:specs/namak.yaml`);
`$ref`s to other files are followed. Each change has a rule id (oasdiff's, where oasdiff has the
rule) and a level: ERR (breaks clients), WARN (may break them), INFO (does not). The report lists the
ERR and WARN changes; `--changelog` lists every change.

Exit 0: no change at the --fail-on level (default WARN) or above. Exit 1: some change is. Exit 2:
an input could not be read (missing file, bad YAML, not an OpenAPI 3 document, a `$ref` that leads
nowhere) or an option is wrong, with one line on stderr.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys

from .checks import Policy
from .gate import GateError, fails, ignore, override, parse_severity, read_ignore
from .load import SpecError, load_spec
from .render import FORMATS, Report
from .rules import LEVELS, RULES
from .walk import compare


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Compare two versions of an OpenAPI spec; level every change ERR (breaks clients of OLD), "
                    "WARN (may break them) or INFO (does not), under oasdiff's rule ids.",
        epilog="exit status: 0 nothing at the --fail-on level, 1 something is, 2 unreadable input or bad option\n\n"
               "examples:\n"
               f"  {prog} main:specs/namak.yaml specs/namak.yaml\n"
               f"  {prog} old.yaml new.yaml --changelog --format markdown\n"
               f"  {prog} old.yaml new.yaml --ignore accepted-changes.md --fail-on ERR",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", nargs="?", help="the version clients are written against: a file, -, a URL or REV:path")
    parser.add_argument("new", nargs="?", help="the proposed version")
    parser.add_argument("--format", "-f", choices=list(FORMATS), default="text")
    parser.add_argument("--changelog", action="store_true", help="list every change, INFO included")
    parser.add_argument("--fail-on", choices=LEVELS, default="WARN", type=str.upper,
                        help="exit 1 when a change is at this level or above (default WARN)")
    parser.add_argument("--ignore", action="append", default=[], metavar="FILE",
                        help="accepted changes, a line each (oasdiff's ignore-file format); may be repeated")
    parser.add_argument("--severity", action="append", default=[], metavar="RULE=LEVEL",
                        help="give a rule another level (ERR, WARN, INFO, NONE: drop it); may be repeated")
    parser.add_argument("--severity-levels", action="append", default=[], metavar="FILE",
                        help="a file of overrides in oasdiff's format: a line 'rule-id level'")
    parser.add_argument("--deprecation-days-stable", type=int, default=0, metavar="DAYS",
                        help="a deprecation must announce a sunset date at least DAYS away (default 0: none required)")
    parser.add_argument("--deprecation-days-beta", type=int, default=0, metavar="DAYS",
                        help="the same for operations with x-stability-level: beta")
    parser.add_argument("--list-rules", action="store_true", help="list the rules (id, level, scope) and exit")
    return parser


def main(argv: list[str] | None = None, prog: str = "specdiff") -> int:
    """Run the command on `argv` (default: the process's arguments); `prog` is the name its usage
    and its one-line errors go by (`contract-test diff` when that command dispatches here)."""
    parser = _parser(prog)
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    if args.list_rules:
        print("\n".join(f"{r.level:<5} {r.id}  ({r.scope})" for r in RULES))
        return 0
    if args.old is None or args.new is None:
        parser.print_usage(sys.stderr)
        print(f"{prog}: OLD and NEW are required", file=sys.stderr)
        return 2
    try:
        overrides = parse_severity(args.severity, args.severity_levels)
        accepted = [line for path in args.ignore for line in read_ignore(path)]
        old, new = load_spec(args.old), load_spec(args.new)
        policy = Policy(max(args.deprecation_days_stable, 0), max(args.deprecation_days_beta, 0),
                        datetime.date.today())
        changes = override(compare(old.document, new.document, policy), overrides)
    except (SpecError, GateError, LookupError) as exc:   # LookupError: a `$ref` to a non-mapping, met in the walk
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    changes, ignored = ignore(changes, accepted)
    verdict = 1 if fails(changes, args.fail_on) else 0
    shown = changes if args.changelog else [c for c in changes if c.breaking]

    def line(change):
        return new.line(change.pointer)

    output = FORMATS[args.format](Report(shown, args.old, args.new, line, ignored, len(changes) - len(shown)))
    try:
        print(output)
    except BrokenPipeError:     # `specdiff ... | head`: the verdict still stands
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return verdict
