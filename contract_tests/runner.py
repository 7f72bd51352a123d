"""One contract run: Schemathesis's phases and checks plus ours, against a server at a base URL.

Used by the `contract-test` command and by the pytest entry point; both read the same spec,
register the same checks and report failures the same way.
"""

from __future__ import annotations

import collections
import dataclasses
import sys
import time
from xml.sax.saxutils import escape, quoteattr

import schemathesis
from schemathesis.checks import CHECKS
from schemathesis.engine import Status, events
from schemathesis.engine import from_schema as engine_for

from . import checks as _checks  # noqa: F401  (registers our checks)
from . import cleanup, identity, pacing
from . import hooks as _hooks  # noqa: F401  (registers our hooks)
from .checks import CUSTOM_CHECKS
from .context import Run, bind
from .speclint import spec_path

PHASES = ("examples", "coverage", "fuzzing", "stateful")


@dataclasses.dataclass
class Options:
    max_examples: int = 25
    seed: int | None = None
    workers: int = 1
    phases: tuple[str, ...] = PHASES
    include: tuple[str, ...] = ()       # operationIds
    exclude: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()        # restrict to these rule names (default: all)
    destructive: bool = False           # also run operations that may revoke the run's own credentials
    cleanup: bool = True                # delete what the run created, at its end (cleanup.py)


@dataclasses.dataclass
class Failure:
    operation: str
    rule: str
    code: str
    title: str
    message: str
    curl: str

    def describe(self) -> str:
        return (f"{self.operation}: {self.rule} ({self.code} {self.title})\n"
                f"    {self.message.strip().replace(chr(10), chr(10) + '    ')}\n"
                f"    Reproduce: {self.curl}")


@dataclasses.dataclass
class Result:
    slug: str
    operations: list[str]
    cases: int
    failures: list[Failure]
    seconds: float
    errors: list[str] = dataclasses.field(default_factory=list)
    skipped: list[str] = dataclasses.field(default_factory=list)  # operationIds left out as destructive
    notes: list[str] = dataclasses.field(default_factory=list)    # how the run was paced, cleaned up, ...

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors and self.cases > 0

    def by_rule(self) -> collections.Counter:
        return collections.Counter(f.rule for f in self.failures)

    def summary(self) -> str:
        lines = [f"{self.slug}: {len(self.operations)} operations, {self.cases} cases, "
                 f"{len(self.failures)} failures in {self.seconds:.1f}s"]
        if self.failures:
            width = max(len(r) for r in self.by_rule())
            lines.append(f"  {'rule'.ljust(width)}  failures")
            lines += [f"  {r.ljust(width)}  {n}" for r, n in sorted(self.by_rule().items())]
        if self.skipped:
            lines.append(f"  not run, as they may revoke the run's own credentials (--destructive runs them): "
                         f"{', '.join(self.skipped)}")
        lines += [f"  {n}" for n in self.notes]
        lines += [f"  error: {e}" for e in self.errors]
        if not self.cases:
            lines.append("  error: no test case was run (check --include/--exclude and --phases)")
        lines.append("verdict: " + ("conforms" if self.ok else "VIOLATES THE CONTRACT"))
        return "\n".join(lines)


def all_rules() -> list[str]:
    builtin = [c.__name__ for c in CHECKS.get_all() if c.__name__ not in CUSTOM_CHECKS]
    return [*builtin, *CUSTOM_CHECKS]


def build_schema(run: Run, options: Options):
    schema = schemathesis.openapi.from_path(str(spec_path(run.slug)))
    # no credentials here: identity.RunCredentials (Schemathesis's auth provider) applies them
    schema.config.update(base_url=run.base_url, workers=options.workers, continue_on_failure=True,
                         request_timeout=run.timeout)
    identity.configure(schema)
    pacing.configure(schema, run)
    schema.config.generation.update(max_examples=options.max_examples)
    schema.config.phases.update(phases=list(options.phases))
    schema.config.output.sanitization.update(enabled=False)
    if options.seed is not None:
        # same seed, same cases: no replay of examples remembered from earlier runs
        schema.config.seed = options.seed
        schema.config.generation.update(database="none")
    rules = list(options.checks) or all_rules()
    schema.config.checks.update(included_check_names=rules)
    # A valid request the current state refuses (a full event) is a conflict, not a broken server.
    schema.config.checks.positive_data_acceptance.expected_statuses = [
        "2xx", "401", "403", "404", "409", "429"]
    if options.include:
        schema = schema.include(operation_id=list(options.include))
    excluded = list(options.exclude) + ([] if options.destructive else unrecoverable(run))
    if excluded:
        schema = schema.exclude(operation_id=excluded)
    return schema


def unrecoverable(run: Run) -> list[str]:
    """Operations that may revoke the run's own credentials, where it could not get new ones
    (no login operation and login details): left out unless the run is told `destructive`."""
    can_log_in = bool(run.credentials.default.login) and any(
        op.ext("issues-credential") for op in run.contract.operations.values())
    return [] if can_log_in else [op_id for op_id, op in run.contract.operations.items()
                                  if _revokes(op.ext("revokes-credential"), run.credentials.default)]


def _revokes(rule, identity) -> bool:
    """Whether an operation's `x-revokes-credential` reaches the run's identity: `true` always,
    `{in: cookie}` only a credential sent in a cookie (Amar's logout ends the session it is sent)."""
    if isinstance(rule, dict):
        return rule.get("in") == "cookie" and any(name.lower() == "cookie" for name in identity.headers)
    return bool(rule)


def execute(run: Run, options: Options, progress=None) -> Result:
    """Run every selected phase against the server; collect each failure once."""
    started = time.monotonic()
    problem = identity.verify(run)  # a dead credential stops the run before it starts
    if problem:
        return Result(run.slug, [], 0, [], time.monotonic() - started, [problem])
    schema = build_schema(run, options)
    bind(schema, run)
    operations = [r.ok().label for r in schema.get_all_operations() if r.ok() is not None]
    skipped = [] if options.destructive else [op for op in unrecoverable(run) if op not in options.exclude]
    failures: dict[tuple, Failure] = {}
    errors: list[str] = []
    cases = 0
    for event in engine_for(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            _collect(event.recorder, failures)
            if progress:
                progress(f"{run.slug}: {cases} cases, {len(failures)} failures  [{event.recorder.label}]")
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {str(event.info.message)[:300]}")
        elif isinstance(event, events.FatalError):
            errors.append(str(event.exception)[:300])
    cleanup.clean(run) if options.cleanup else cleanup.keep(run)
    errors += [lost] if (lost := identity.lost(run)) else []
    return Result(run.slug, operations, cases, list(failures.values()), time.monotonic() - started, errors,
                  skipped, notes=identity.notes(run))


def _collect(recorder, failures: dict) -> None:
    for nodes in recorder.checks.values():
        for node in nodes:
            if node.status != Status.FAILURE or node.failure_info is None:
                continue
            failure = node.failure_info.failure
            operation = failure.operation or recorder.label
            key = (operation, node.name, failure.title, failure.message[:120])
            if key in failures:
                continue
            failures[key] = Failure(operation=operation, rule=node.name, code=failure.code,
                                    title=failure.title, message=failure.message,
                                    curl=node.failure_info.code_sample)


def junit_xml(results: list[Result]) -> str:
    """JUnit XML: one test case per operation, one failure element per broken rule."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<testsuites>"]
    for result in results:
        by_op = collections.defaultdict(list)
        for f in result.failures:
            by_op[f.operation].append(f)
        out.append(f'  <testsuite name={quoteattr("contract-" + result.slug)} tests="{len(result.operations)}" '
                   f'failures="{len(by_op)}" time="{result.seconds:.3f}">')
        for op in sorted(set(result.operations) | set(by_op)):
            out.append(f"    <testcase classname={quoteattr(result.slug)} name={quoteattr(op)}>")
            for f in by_op.get(op, []):
                out.append(f"      <failure type={quoteattr(f.rule)} message={quoteattr(f.rule + ': ' + f.title)}>"
                           f"{escape(f.describe())}</failure>")
            out.append("    </testcase>")
        for error in result.errors:
            out.append(f'    <testcase classname={quoteattr(result.slug)} name="run"><error '
                       f"message={quoteattr(error)}/></testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


def report(results: list[Result]) -> str:
    """A readable Markdown summary of a run."""
    lines = ["# Contract test report", ""]
    for result in results:
        lines += [f"## {result.slug}: {'conforms' if result.ok else 'violates the contract'}", "",
                  f"{len(result.operations)} operations, {result.cases} cases, {len(result.failures)} failures, "
                  f"{result.seconds:.1f}s.", ""]
        if result.failures:
            lines += ["| rule | failures |", "|---|---|"]
            lines += [f"| {r} | {n} |" for r, n in sorted(result.by_rule().items())]
            lines.append("")
            for f in result.failures:
                lines += [f"### {f.operation}: `{f.rule}`", "", f"{f.code} {f.title}", "", "```",
                          f.message.strip(), "```", "", "Reproduce:", "", "```sh", f.curl, "```", ""]
        for error in result.errors:
            lines.append(f"- error: {error}")
    return "\n".join(lines) + "\n"


def progress_line(text: str) -> None:
    sys.stderr.write("\r\033[K" + text[:150])
    sys.stderr.flush()
