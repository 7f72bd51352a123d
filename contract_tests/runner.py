"""One contract run: Schemathesis's phases and checks plus ours, against a server at a base URL.

Used by the `contract-test` command and by the pytest entry point; both read the same spec,
register the same checks and report failures the same way. `execute` runs the engine and builds
the `Result`: failures grouped by what they say (each with the smallest request that still
fails), deviations apart from violations, harness errors apart from both, and the coverage that
says whether the run saw enough to judge. `reports` renders it.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import re
import sys
import time
import traceback

import schemathesis
from schemathesis.checks import CHECKS
from schemathesis.core.failures import FailureGroup
from schemathesis.engine import Status, events
from schemathesis.engine import from_schema as engine_for

from apispec import ext
from apispec.load import spec_path

from . import cleanup, deviations, identity, pacing, uniqueness
from . import hooks as _hooks  # noqa: F401  (registers our hooks)
from . import rules as _rules  # noqa: F401  (registers our checks)
from .context import Run, bind
from .coverage import Coverage, documented_statuses
from .rules import CUSTOM_CHECKS

PHASES = ("examples", "coverage", "fuzzing", "stateful")

# What each exit code of `contract-test` means; the precedence is violations, then harness
# errors, then missing evidence.
EXIT_CODES = {
    0: "conforms: every operation was tested and no rule was broken (deviations may be listed)",
    1: "violates the document: at least one rule was broken",
    2: "no verdict: usage or connection error, a credential the server refuses, or a rate limit spent",
    3: "not enough evidence: some operation never got a successful answer to a valid request",
    4: "harness error: the suite itself failed while judging (no violation was found)",
}

MAX_SHRINK_GROUPS = 20   # groups whose reproducer is shrunk by re-sending, per run
MAX_RESENDS = 25         # re-sent requests per group
SHRINK_SECONDS = 60.0    # and no more time than this for all of them


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
    allow_untested: tuple[str, ...] = ()  # operationIds that may end untested without failing the run
    strict: bool = False                # deviations count as violations
    shrink: bool = True                 # re-send failing requests to find the smallest that still fails
    cleanup: bool = True                # delete what the run created, at its end (cleanup.py)


@dataclasses.dataclass
class Failure:
    """One group of failures: the same rule broken the same way on one operation, `count` times.
    A deviation (a failure that rests only on what the document does not state) has `why`."""

    operation: str
    rule: str
    code: str
    title: str
    message: str
    curl: str                   # the request that was judged (shrunk: the smallest that still fails)
    status: int | None = None   # what the judged request got
    body: str = ""              # that answer's body: JSON when JSON, text otherwise
    count: int = 1              # failing cases in the group
    why: str = ""               # a deviation's reason; empty for a violation
    original_curl: str = ""     # when shrunk: the request as first judged
    case_id: str = ""

    @property
    def shrunk(self) -> bool:
        return bool(self.original_curl) and self.original_curl != self.curl

    def headline(self) -> str:
        times = f", {self.count} cases" if self.count > 1 else ""
        return f"{self.operation}: {self.rule} ({self.code} {self.title}{times})"

    def describe(self) -> str:
        indent = "\n    "
        lines = [self.headline(), "    " + _text(self.message, self.status).replace("\n", indent)]
        if self.why:
            lines.append(f"    Not a violation: {self.why}")
        if self.status is not None:
            body = " ".join(self.body.split())
            shown = body[:300] + ("…" if len(body) > 300 else "")
            lines.append(f"    Answered {self.status}: " + (shown or "(empty body)"))
        lines.append(f"    Reproduce: {self.curl}")
        if self.shrunk:
            lines.append("    (the smallest request that still fails; first seen as: "
                         f"{self.original_curl})")
        return "\n".join(lines)


def _text(message: str, status: int | None) -> str:
    message = message.strip()
    if message:
        return message
    return f"the server answered {status}" if status is not None else "(no message)"


@dataclasses.dataclass
class HarnessError:
    """The suite failed, not the server: a check that crashed, an engine error. Names the
    operation, where it happened and, when known, the request being judged."""

    operation: str
    where: str                  # the rule, or "engine"
    message: str
    curl: str = ""
    count: int = 1

    def describe(self) -> str:
        times = f" ({self.count} cases)" if self.count > 1 else ""
        line = f"{self.operation}: {self.where}{times}: {self.message}"
        return line + (f"\n    Request: {self.curl}" if self.curl else "")

    def __str__(self) -> str:
        return self.describe()


@dataclasses.dataclass
class Result:
    slug: str
    operations: list[str]
    cases: int
    failures: list[Failure]     # violations only, grouped
    seconds: float
    errors: list[HarnessError] = dataclasses.field(default_factory=list)
    skipped: list[str] = dataclasses.field(default_factory=list)  # operationIds left out as destructive
    deviations: list[Failure] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)  # how the run went: pacing, cleanup, ...
    coverage: Coverage | None = None
    # operation label -> rule -> "passed" | "failed" | "deviation" | "error" (absent: not applicable)
    matrix: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    rules: list[str] = dataclasses.field(default_factory=list)
    phases: tuple[str, ...] = ()
    seed: int | None = None
    allow_untested: tuple[str, ...] = ()
    strict: bool = False
    base_url: str = ""
    stopped: str = ""           # why the run stopped without a verdict (a refused credential, a spent limit)

    @property
    def untested(self) -> dict[str, str]:
        """operationId -> why it is not tested, for the untested operations not allowed to be."""
        reasons = self.coverage.reasons() if self.coverage else {}
        return {op: why for op, why in reasons.items() if op not in self.allow_untested}

    @property
    def violations(self) -> list[Failure]:
        return self.failures + (self.deviations if self.strict else [])

    def exit_code(self) -> int:
        if self.stopped:
            return 2
        if self.violations:
            return 1
        if self.errors:
            return 4
        if self.untested or not self.cases:
            return 3
        return 0

    @property
    def ok(self) -> bool:
        return self.exit_code() == 0

    @property
    def verdict(self) -> str:
        if self.stopped:
            return f"NO VERDICT: {self.stopped}"
        return {0: "conforms", 1: "VIOLATES THE CONTRACT", 3: "NOT ENOUGH EVIDENCE (untested operations)",
                4: "HARNESS ERROR (the suite failed, not the server)"}[self.exit_code()]

    def by_rule(self) -> collections.Counter:
        """Failing cases by rule (violations only)."""
        counts: collections.Counter = collections.Counter()
        for f in self.failures:
            counts[f.rule] += f.count
        return counts

    def summary(self) -> str:
        from .reports import summary

        return summary(self)


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
    # What a valid request may be answered is set per operation from the spec when the schema
    # loads (hooks.after_load_schema), the same under a plain `st run`
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
        ext.credentials.issues(op) for op in run.contract.operations.values())
    return [] if can_log_in else [op_id for op_id, op in run.contract.operations.items()
                                  if identity.revokes(ext.credentials.revokes(op), run.credentials.default)]


def execute(run: Run, options: Options, progress=None) -> Result:
    """Run every selected phase against the server and build the Result: violations and
    deviations grouped, harness errors apart, coverage per operation."""
    started = time.monotonic()
    problem = identity.verify(run)  # a dead credential stops the run before it starts
    if problem:
        return Result(run.slug, [], 0, [], time.monotonic() - started, stopped=problem)
    schema = build_schema(run, options)
    bind(schema, run)
    labels, documented, admits = {}, {}, {}
    for loaded in schema.get_all_operations():
        operation = loaded.ok()
        if operation is None:
            continue
        op_id = operation.definition.raw.get("operationId") or operation.label
        labels[operation.label] = op_id
        spec_op = run.contract.operations.get(op_id)
        documented[operation.label] = documented_statuses(spec_op.spec if spec_op else operation.definition.raw)
        admits[operation.label] = ext.access.key_types(spec_op) if spec_op else ()
    skipped = [] if options.destructive else [op for op in unrecoverable(run) if op not in options.exclude]
    collector = _Collector(run, Coverage(labels, documented, admits,
                                         accepted_on_retry=lambda case_id: uniqueness.accepted_on_retry(run, case_id)))
    for event in engine_for(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            collector.scenario(event.recorder)
            if progress:
                progress(f"{run.slug}: {collector.cases} cases, {collector.failing} failures  "
                         f"[{event.recorder.label}]")
        elif isinstance(event, events.NonFatalError):
            collector.engine_error(event.label, event.value, event.info.code_sample)
        elif isinstance(event, events.FatalError):
            collector.engine_error("run", event.exception, None)
    if options.shrink:
        collector.shrink()
    cleanup.clean(run) if options.cleanup else cleanup.keep(run)  # after shrinking: its re-sends create too
    lost = identity.lost(run)
    seed = options.seed if options.seed is not None else getattr(schema.config, "seed", None)
    return Result(run.slug, list(labels), collector.cases, collector.groups(violations=True),
                  time.monotonic() - started, collector.errors(), skipped,
                  deviations=collector.groups(violations=False), coverage=collector.coverage,
                  matrix=collector.matrix, rules=list(options.checks) or all_rules(), phases=tuple(options.phases),
                  seed=seed, allow_untested=tuple(options.allow_untested), strict=options.strict,
                  base_url=run.base_url, notes=identity.notes(run), stopped=lost or "")


_RANK = {"passed": 1, "error": 2, "deviation": 3, "failed": 4}


def shape(title: str, message: str) -> str:
    """What a failure message says, with the values that vary from case to case taken out:
    quoted strings, numbers and ids (any word holding a digit). Failures of one rule on one
    operation with the same shape are one group."""
    lines = [line.strip() for line in f"{title}\n{message}".splitlines() if line.strip()][:3]
    text = " / ".join(lines)
    text = re.sub(r"'(?:[^'\\]|\\.)*'", "'…'", text)
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '"…"', text)
    text = re.sub(r"\b\w*\d\w*\b", "N", text)
    return re.sub(r"\s+", " ", text)[:200]


def render_body(response) -> str:
    """A response body as it came: pretty JSON when it is JSON, else its text."""
    if response is None:
        return ""
    content = response.content or b""
    try:
        return json.dumps(json.loads(content), indent=2, ensure_ascii=False)[:4000]
    except (ValueError, UnicodeDecodeError):
        return content.decode("utf-8", "replace")[:4000]


_REPRODUCE = re.compile(r"^\s*Reproduce: (curl .*)$", re.MULTILINE)


def own_reproducer(message: str) -> tuple[str, str | None]:
    """A rule that judged a request of its own (a bare request without credentials) names it in
    its message as a `Reproduce: curl ...` line: that is the reproducer, not the case's request."""
    found = _REPRODUCE.search(message or "")
    if not found:
        return message, None
    return _REPRODUCE.sub("", message).strip(), found.group(1).strip()


@dataclasses.dataclass
class _Group:
    failure: Failure
    case: object = None
    case_ids: set = dataclasses.field(default_factory=set)
    own_reproducer: bool = False
    is_violation: bool = True


class _Collector:
    def __init__(self, run: Run, coverage: Coverage):
        self.run = run
        self.coverage = coverage
        self.matrix: dict[str, dict[str, str]] = {}
        self._groups: dict[tuple, _Group] = {}
        self._error_nodes: dict[tuple, list] = {}      # (operation, rule) -> [case, curl, case ids]
        self._engine_errors: list[tuple[str, BaseException, str | None]] = []
        self._internal: list[HarnessError] = []

    @property
    def cases(self) -> int:
        return sum(c.cases for c in self.coverage.operations.values())

    @property
    def failing(self) -> int:
        return sum(len(g.case_ids) for g in self._groups.values())

    def _mark(self, operation: str, rule: str, state: str) -> None:
        row = self.matrix.setdefault(operation, {})
        if _RANK[state] > _RANK.get(row.get(rule, ""), 0):
            row[rule] = state

    def scenario(self, recorder) -> None:
        self.coverage.add(recorder)
        for case_id, nodes in recorder.checks.items():
            node = recorder.cases.get(case_id)
            case = node.value if node is not None else None
            for check in nodes:
                info = check.failure_info
                operation = ((info.failure.operation if info else None)
                             or (case.operation.label if case is not None else recorder.label))
                if check.status == Status.SUCCESS:
                    self._mark(operation, check.name, "passed")
                elif check.status == Status.ERROR:
                    self._mark(operation, check.name, "error")
                    entry = self._error_nodes.setdefault((operation, check.name), [case, "", set()])
                    entry[2].add(case_id)
                    if not entry[1] and case is not None:
                        entry[1] = _curl(recorder, case)
                elif check.status == Status.FAILURE and info is not None:
                    self._failure(recorder, case_id, case, operation, check.name, info)

    def _failure(self, recorder, case_id, case, operation, rule, info) -> None:
        failure = info.failure
        interaction = recorder.interactions.get(case_id)
        response = interaction.response if interaction is not None else None
        try:
            why = deviations.classify(rule, failure, case, response, self.run.contract)
        except Exception as exc:  # the judge crashed: say so, and count the failure as a violation
            self._internal_error(HarnessError(operation, f"deviations.classify({rule})", describe_error(exc),
                                              _curl(recorder, case) if case is not None else ""))
            why = None
        self._mark(operation, rule, "deviation" if why else "failed")
        message, reproducer = own_reproducer(failure.message)
        key = (bool(why), operation, rule, shape(failure.title, message))
        group = self._groups.get(key)
        if reproducer is not None:
            response = None  # the rule judged its own request: what that got is in its message
        if group is None:
            self._groups[key] = group = _Group(
                Failure(operation=operation, rule=rule, code=failure.code, title=failure.title, message=message,
                        curl=reproducer or info.code_sample, status=response.status_code if response else None,
                        body=render_body(response), why=why or "", case_id=case_id),
                case=case, own_reproducer=reproducer is not None, is_violation=not why)
        group.case_ids.add(case_id)
        group.failure.count = len(group.case_ids)

    def _internal_error(self, error: HarnessError) -> None:
        """One entry per place and message, counted: the first request it happened on is named."""
        same = next((e for e in self._internal if (e.operation, e.where, e.message)
                     == (error.operation, error.where, error.message)), None)
        if same is None:
            self._internal.append(error)
        else:
            same.count += 1

    def engine_error(self, label: str, error: BaseException, code_sample: str | None) -> None:
        self._engine_errors.append((label, error, code_sample))

    def errors(self) -> list[HarnessError]:
        out = list(self._internal)
        pending = list(self._engine_errors)
        for (operation, rule), (_case, curl, ids) in self._error_nodes.items():
            # the exception itself came as the engine's error event for the same operation
            found = next((e for e in pending if e[0] == operation), None)
            if found is not None:
                pending.remove(found)
            message = describe_error(found[1]) if found else "the check raised an error"
            out.append(HarnessError(operation, rule, message, curl, count=len(ids)))
        for label, error, code_sample in pending:
            out.append(HarnessError(label, "engine", describe_error(error), code_sample or ""))
        return out

    def groups(self, *, violations: bool) -> list[Failure]:
        return [g.failure for g in self._groups.values() if g.is_violation == violations]

    def shrink(self) -> None:
        todo = sorted(self._groups.values(), key=lambda g: not g.is_violation)
        deadline = time.monotonic() + SHRINK_SECONDS
        for group in [g for g in todo if not g.own_reproducer and g.case is not None][:MAX_SHRINK_GROUPS]:
            if time.monotonic() > deadline:
                break
            try:
                check = next((c for c in CHECKS.get_all() if c.__name__ == group.failure.rule), None)
                if check is not None:
                    _shrink(self.run, group, check)
            except Exception as exc:  # shrinking is a convenience: its failure never changes the verdict
                self._internal_error(HarnessError(group.failure.operation, f"shrinking {group.failure.rule}",
                                                  describe_error(exc), group.failure.curl))


def _curl(recorder, case) -> str:
    try:
        headers = recorder.find_request_headers(case_id=case.id)
    except KeyError:
        headers = None
    try:
        return case.as_curl_command(headers=headers)
    except Exception:
        return ""


def describe_error(error: BaseException) -> str:
    """An exception with where it was raised: our own code's last frame when it is in the stack."""
    frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    ours = [f for f in frames if "contract_tests" in f.filename] or frames
    where = f" (at {ours[-1].filename.rsplit('/', 2)[-2]}/{ours[-1].filename.rsplit('/', 1)[-1]}:" \
            f"{ours[-1].lineno} in {ours[-1].name})" if ours else ""
    return f"{type(error).__name__}: {str(error)[:300]}{where}"


# --- the smallest request that still fails --------------------------------------------------

def _shrink(run: Run, group: _Group, check) -> None:
    """Re-send the group's first failing case without one optional input at a time (query
    parameters, headers, body fields, then long strings cut short), keeping each change while
    the same rule still fails on the re-sent request. At most MAX_RESENDS requests."""
    original = group.case
    op = run.contract.operations.get(original.operation.definition.raw.get("operationId"))
    if op is None:
        return
    budget = [MAX_RESENDS]

    def judged(candidate):
        if budget[0] <= 0:
            return None
        budget[0] -= 1
        try:
            response = candidate.call(timeout=run.timeout)
        except Exception:
            return None
        try:
            candidate.validate_response(response, checks=[check], headers=dict(response.request.headers))
        except (FailureGroup, AssertionError):
            return response
        except Exception:
            return None
        return None

    best = original.derive(keep_auth=True)
    response = judged(best)
    if response is None:
        return  # it does not fail again when re-sent: the request as judged is the reproducer
    for location, name, value in _droppable(run, op, best):
        candidate = _without(best, location, name, value)
        answer = judged(candidate) if candidate is not None else None
        if answer is not None:
            best, response = candidate, answer
        if budget[0] <= 0:
            break
    failure = group.failure
    curl = best.as_curl_command(headers=dict(response.request.headers))
    if curl != failure.curl:
        failure.original_curl, failure.curl = failure.curl, curl
        failure.status, failure.body = response.status_code, render_body(response)


_PLAIN = {"type", "description", "example", "title", "nullable"}


def _droppable(run: Run, op, case):
    """(location, name, replacement) for each optional input: replacement None drops it, a string
    shortens it. Credentials are never touched."""
    params = {(p.get("in"), p["name"].lower()): p for p in op.parameters}
    credential_fields = set(run.credentials.default.body)
    for name in list(case.query or {}):
        if not params.get(("query", name.lower()), {}).get("required"):
            yield "query", name, None
    for name in list(case.headers or {}):
        param = params.get(("header", name.lower()))
        if param is not None and not param.get("required"):
            yield "headers", name, None
    schema = op.body_schema()
    required = set(schema.get("required") or [])
    if isinstance(case.body, dict):
        for name in list(case.body):
            if name not in required and name not in credential_fields:
                yield "body", name, None
    # then long strings cut short, where the schema puts no constraint on them
    props = schema.get("properties") or {}
    for name, value in list((case.query or {}).items()):
        plain = set(params.get(("query", name.lower()), {}).get("schema", {})) <= _PLAIN
        if isinstance(value, str) and len(value) > 1 and plain:
            yield "query", name, value[:1]
    if isinstance(case.body, dict):
        for name, value in list(case.body.items()):
            if isinstance(value, str) and len(value) > 1 and name not in credential_fields \
                    and set(props.get(name) or {"x": 1}) <= _PLAIN:
                yield "body", name, value[:1]


def _without(case, location: str, name: str, replacement):
    """A copy of `case` with one input dropped (replacement None) or replaced."""
    container = getattr(case, location)
    if not container or name not in container:
        return None  # an earlier drop already took it
    if location == "body":
        body = dict(case.body)
        if replacement is None:
            body.pop(name)
        else:
            body[name] = replacement
        candidate = case.derive(keep_auth=True)
        candidate.body = body
        return candidate
    values = container.copy()
    if replacement is None:
        values.pop(name)
    else:
        values[name] = replacement
    return case.derive(keep_auth=True, **{location: values})


def progress_line(text: str) -> None:
    sys.stderr.write("\r\033[K" + text[:150])
    sys.stderr.flush()
