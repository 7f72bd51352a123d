"""What a run found, for people and for CI: the console summary, Markdown for a pull-request
comment, a self-contained HTML page, and JUnit XML with one test case per (operation, rule).

Every output says the same things: the verdict and its exit code, the coverage table (is there
evidence at all?), the violations grouped with a reproducer each, the deviations with why they
are not violations, and the harness errors apart from both.
"""

from __future__ import annotations

import html
from xml.sax.saxutils import escape, quoteattr

from .runner import EXIT_CODES, Failure, Result

COLUMNS = ("operation", "cases", "valid→2xx", "2xx", "4xx", "5xx", "documented, never seen")


def coverage_rows(result: Result) -> list[list[str]]:
    """The coverage table: one row per operation, `untested` or `allowed untested` marked."""
    if result.coverage is None:
        return []
    reasons = result.coverage.reasons()
    rows = []
    for row in result.coverage.rows():
        mark = ""
        if row["operation_id"] in reasons:
            mark = " (allowed untested)" if row["operation_id"] in result.allow_untested else " UNTESTED"
        rows.append([row["operation"] + mark, str(row["cases"]), f"{row['positive_2xx']}/{row['positive']}",
                     str(row["2xx"]), str(row["4xx"]), str(row["5xx"]), " ".join(row["never_seen"]) or "-"])
    return rows


def coverage_table(result: Result) -> str:
    rows = coverage_rows(result)
    if not rows:
        return ""
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    line = lambda cells: "  " + "  ".join(  # noqa: E731
        c.ljust(w) if i in (0, 6) else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()
    return "\n".join([line(COLUMNS), *(line(r) for r in rows)])


def _untested_lines(result: Result) -> list[str]:
    reasons = result.coverage.reasons() if result.coverage else {}
    out = []
    for op_id, why in reasons.items():
        allowed = " (allowed by --allow-untested)" if op_id in result.allow_untested else ""
        out.append(f"{op_id} not tested{allowed}: {why}")
    return out


def summary(result: Result) -> str:
    """The console's closing block: counts, coverage, deviations, errors, notes, verdict."""
    violations = sum(f.count for f in result.failures)
    lines = [f"{result.slug}: {len(result.operations)} operations, {result.cases} cases, {violations} failing "
             f"cases in {len(result.failures)} groups, {len(result.deviations)} deviations, "
             f"{len(result.errors)} harness errors in {result.seconds:.1f}s "
             f"(phases {','.join(result.phases)}, seed {result.seed})"]
    table = coverage_table(result)
    if table:
        lines += ["coverage:", table]
    if result.failures:
        width = max(len(r) for r in result.by_rule())
        lines.append(f"  {'rule'.ljust(width)}  failing cases")
        lines += [f"  {r.ljust(width)}  {n}" for r, n in sorted(result.by_rule().items())]
    lines += [f"  {line}" for line in _untested_lines(result)]
    if result.skipped:
        lines.append(f"  not run, as they may revoke the run's own credentials (--destructive runs them): "
                     f"{', '.join(result.skipped)}")
    if result.deviations:
        counted = " (counted as violations: --strict)" if result.strict else " (not violations; --strict counts them)"
        lines.append(f"  deviations{counted}:")
        lines += [f"    {d.operation}: {d.rule} ({d.count}): {d.why}" for d in result.deviations]
    lines += [f"  harness error: {str(e)}" for e in result.errors]
    if not result.cases:
        lines.append("  no test case was run (check --include/--exclude and --phases)")
    lines += [f"  note: {n}" for n in result.notes]
    code = result.exit_code()
    lines.append(f"verdict: {result.verdict} (exit {code}: {EXIT_CODES[code]})")
    return "\n".join(lines)


def console(result: Result) -> str:
    """Everything the command prints: the violation groups, the deviations, then the summary."""
    parts = [f.describe() for f in result.failures]
    if result.deviations:
        parts.append("Deviations (the document does not state what they rest on):")
        parts += [d.describe() for d in result.deviations]
    parts.append(summary(result))
    return "\n\n".join(parts)


# --- Markdown --------------------------------------------------------------------------------

def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_failure(f: Failure) -> list[str]:
    times = f" ×{f.count}" if f.count > 1 else ""
    out = ["<details>", f"<summary><code>{html.escape(f.operation)}</code>: <b>{html.escape(f.rule)}</b>{times}"
                        f"{' (deviation)' if f.why else ''}</summary>", ""]
    if f.why:
        out += [f"Not a violation: {f.why}", ""]
    out += ["```text", _cut(f.message.strip() or f"the server answered {f.status}", 1500), "```", ""]
    if f.status is not None:
        out += [f"Answered {f.status}:", "", "```", _cut(f.body, 800) or "(empty body)", "```", ""]
    out += ["Reproduce:", "", "```sh", f.curl, "```", "", "</details>", ""]
    return out


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "\n…"


MD_GROUPS = 25  # failure groups shown in full per section: a PR comment holds at most 65,536 characters


def _md_groups(failures: list[Failure]) -> list[str]:
    out = [line for f in failures[:MD_GROUPS] for line in _md_failure(f)]
    if len(failures) > MD_GROUPS:
        out += [f"… and {len(failures) - MD_GROUPS} more groups (the HTML report and the JUnit XML list them all).", ""]
    return out


def markdown(results: list[Result]) -> str:
    """A Markdown report that fits a pull-request comment: collapsed details per group."""
    lines = ["# Contract test report", ""]
    for result in results:
        code = result.exit_code()
        lines += [f"## {result.slug}: {result.verdict.lower() if code == 0 else result.verdict}", "",
                  f"Exit {code}: {EXIT_CODES[code]}. {len(result.operations)} operations, {result.cases} cases, "
                  f"{len(result.failures)} failure groups, {len(result.deviations)} deviations, "
                  f"{len(result.errors)} harness errors, {result.seconds:.1f}s "
                  f"(phases {', '.join(result.phases)}; seed {result.seed}).", ""]
        rows = coverage_rows(result)
        if rows:
            lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
            lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
            lines.append("")
        lines += [f"- {line}" for line in _untested_lines(result)]
        if result.failures:
            lines += ["", "### Violations", ""] + _md_groups(result.failures)
        if result.deviations:
            lines += ["", "### Deviations", "",
                      "Failures that rest only on what the document does not state"
                      + (" (counted as violations: `--strict`)." if result.strict else "; they do not fail the run."),
                      ""] + _md_groups(result.deviations)
        if result.errors:
            lines += ["", "### Harness errors", ""]
            lines += [f"- {_md_cell(str(e))}" for e in result.errors]
        if result.notes:
            lines += [""] + [f"- {n}" for n in result.notes]
        lines.append("")
    return "\n".join(lines) + "\n"


# --- JUnit -----------------------------------------------------------------------------------

def junit(results: list[Result]) -> str:
    """JUnit XML: a test case per (operation, rule) that ran, a failure element per violation
    group; untested operations as a test case with an error (or skipped, when allowed); harness
    errors as errors. Deviations are in the test case's system-out."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<testsuites>"]
    for result in results:
        cases: list[str] = []
        failures = errors = skipped = 0
        by_cell: dict[tuple, list[Failure]] = {}
        for f in result.failures + result.deviations:
            by_cell.setdefault((f.operation, f.rule), []).append(f)
        op_ids = {r["operation"]: r["operation_id"] for r in (result.coverage.rows() if result.coverage else [])}
        for operation in sorted(result.matrix):
            for rule, state in sorted(result.matrix[operation].items()):
                classname = f"{result.slug}.{op_ids.get(operation, operation)}"
                body = []
                for f in by_cell.get((operation, rule), []):
                    if f.why and not result.strict:
                        continue
                    body.append(f"      <failure type={quoteattr(rule)} message={quoteattr(f'{rule}: {f.title}')}>"
                                f"{escape(f.describe())}</failure>")
                if body:
                    failures += 1
                elif state == "error":
                    errors += 1
                    message = next((str(e) for e in result.errors if getattr(e, "operation", None) == operation
                                    and getattr(e, "where", None) == rule), "the check raised an error")
                    body.append(f"      <error type=\"harness\" message={quoteattr(message)}/>")
                notes = [f"deviation: {f.why}\n{f.describe()}" for f in by_cell.get((operation, rule), [])
                         if f.why and not result.strict]
                if notes:
                    body.append(f"      <system-out>{escape(chr(10).join(notes))}</system-out>")
                opening = f"    <testcase classname={quoteattr(classname)} name={quoteattr(f'{operation}: {rule}')}"
                cases += [opening + ">", *body, "    </testcase>"] if body else [opening + "/>"]
        reasons = result.coverage.reasons() if result.coverage else {}
        labels = {r["operation_id"]: r["operation"] for r in (result.coverage.rows() if result.coverage else [])}
        for op_id, why in reasons.items():
            name = f"{labels.get(op_id, op_id)}: coverage"
            cases.append(f"    <testcase classname={quoteattr(f'{result.slug}.{op_id}')} name={quoteattr(name)}>")
            if op_id in result.allow_untested:
                skipped += 1
                cases.append(f"      <skipped message={quoteattr('not tested (allowed): ' + why)}/>")
            else:
                errors += 1
                cases.append(f"      <error type=\"untested\" message={quoteattr('not tested: ' + why)}/>")
            cases.append("    </testcase>")
        for error in result.errors:
            operation = getattr(error, "operation", "run")
            if getattr(error, "where", None) in result.matrix.get(operation, {}):
                continue  # already an error element of its (operation, rule) test case
            errors += 1
            name = quoteattr(operation + ": harness")
            cases.append(f"    <testcase classname={quoteattr(result.slug)} name={name}>"
                         f"<error type=\"harness\" message={quoteattr(str(error))}/></testcase>")
        tests = sum(1 for c in cases if c.lstrip().startswith("<testcase"))
        out.append(f'  <testsuite name={quoteattr("contract-" + result.slug)} tests="{tests}" failures="{failures}" '
                   f'errors="{errors}" skipped="{skipped}" time="{result.seconds:.3f}">')
        out += cases
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


# --- HTML ------------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;
padding:0 1em;color:#1b1f24;background:#fff}
h1{font-size:1.6em}h2{font-size:1.3em;margin-top:1.6em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #d0d7de;padding:.25em .5em;text-align:right}
th{background:#f6f8fa}td:first-child,th:first-child{text-align:left}
.verdict{font-size:1.2em;font-weight:600;padding:.6em 1em;border-radius:6px;display:inline-block}
.v0{background:#dafbe1;color:#116329}.v1{background:#ffebe9;color:#82071e}.v3,.v4{background:#fff8c5;color:#7d4e00}
tr.untested td{background:#fff8c5}tr.allowed td{background:#f6f8fa}
td.passed{background:#dafbe1;color:#116329}td.failed{background:#ffebe9;color:#82071e;font-weight:600}
td.deviation{background:#fff8c5;color:#7d4e00}td.error{background:#ffd8b5;color:#762c00}td.na{color:#8c959f}
table.coverage td:last-child{text-align:left}.scroll{overflow-x:auto}
.matrix th.rule{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;text-align:left}
.matrix td{text-align:center}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.6em;overflow:auto;white-space:pre-wrap;
word-break:break-all}
details{margin:.5em 0;border:1px solid #d0d7de;border-radius:6px;padding:.3em .8em}
summary{cursor:pointer;font-weight:600}.untested-mark{color:#7d4e00;font-size:.85em}.meta{color:#57606a}
"""

_CELL = {"passed": "✓ passed", "failed": "✗ failed", "deviation": "~ deviation", "error": "! error"}


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _html_failure(f: Failure, kind: str) -> str:
    times = f" ×{f.count}" if f.count > 1 else ""
    parts = [f'<details class="{kind}" open><summary><code>{_e(f.operation)}</code>: '
             f'<span class="rule">{_e(f.rule)}</span>{times} <span class="meta">({_e(f.code)} {_e(f.title)})</span>'
             f"</summary>"]
    if f.why:
        parts.append(f'<p class="why">Not a violation: {_e(f.why)}</p>')
    parts.append(f'<pre class="message">{_e(f.message.strip() or f"the server answered {f.status}")}</pre>')
    if f.status is not None:
        parts.append(f'<p>Answered {f.status}:</p><pre class="body">{_e(f.body[:3000] or "(empty body)")}</pre>')
    parts.append(f'<p>Reproduce{" (the smallest request that still fails)" if f.shrunk else ""}:</p>'
                 f'<pre class="curl">{_e(f.curl)}</pre>')
    if f.shrunk:
        parts.append(f'<p class="meta">First seen as:</p><pre class="curl original">{_e(f.original_curl)}</pre>')
    parts.append("</details>")
    return "\n".join(parts)


def html_report(results: list[Result]) -> str:
    """One self-contained page (inline CSS, no scripts, no external assets)."""
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width,initial-scale=1">',
           f"<title>Contract test report: {_e(', '.join(r.slug for r in results))}</title>",
           f"<style>{_CSS}</style></head><body>", "<h1>Contract test report</h1>"]
    for result in results:
        code = result.exit_code()
        out += [f'<section class="result" id="{_e(result.slug)}">',
                f"<h2>{_e(result.slug)}</h2>",
                f'<p class="verdict v{code}" id="verdict-{_e(result.slug)}" data-exit-code="{code}">'
                f"{_e(result.verdict)}</p>",
                f'<p class="exit">Exit code {code}: {_e(EXIT_CODES[code])}</p>',
                f'<p class="meta">{len(result.operations)} operations, {result.cases} cases, '
                f"{result.seconds:.1f}s. Base URL {_e(result.base_url)}. Phases: "
                f'<span class="phases">{_e(", ".join(result.phases))}</span>. Seed: '
                f'<span class="seed">{_e(result.seed)}</span>.</p>']
        out += ["<h3>Coverage</h3>", '<table class="coverage"><thead><tr>'
                + "".join(f"<th>{_e(c)}</th>" for c in COLUMNS) + "</tr></thead><tbody>"]
        reasons = result.coverage.reasons() if result.coverage else {}
        for row, cells in zip(result.coverage.rows() if result.coverage else [], coverage_rows(result), strict=True):
            op_id = row["operation_id"]
            cls = ("allowed" if op_id in result.allow_untested else "untested") if op_id in reasons else "tested"
            out.append(f'<tr class="{cls}" data-operation="{_e(row["operation"])}">'
                       + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
        out.append("</tbody></table>")
        if reasons:
            out.append('<ul class="untested">' + "".join(
                f"<li><code>{_e(op)}</code> not tested{' (allowed)' if op in result.allow_untested else ''}: "
                f"{_e(why)}</li>" for op, why in reasons.items()) + "</ul>")
        rules = [r for r in result.rules if any(r in row for row in result.matrix.values())] + sorted(
            {r for row in result.matrix.values() for r in row} - set(result.rules))
        out += ["<h3>Rules × operations</h3>",
                '<p class="meta">passed: the rule judged at least one answer and none broke it; failed: it was '
                "broken; not applicable: the rule never judged an answer of this operation.</p>",
                '<div class="scroll"><table class="matrix"><thead><tr><th>operation</th>'
                + "".join(f'<th class="rule">{_e(r)}</th>' for r in rules) + "</tr></thead><tbody>"]
        untested = {r["operation"] for r in (result.coverage.rows() if result.coverage else [])
                    if r["operation_id"] in reasons}
        for operation in result.operations + sorted(set(result.matrix) - set(result.operations)):
            row = result.matrix.get(operation, {})
            mark = ' <span class="untested-mark">(untested: its checks judged no success)</span>' \
                if operation in untested else ""
            out.append(f'<tr data-operation="{_e(operation)}"><td>{_e(operation)}{mark}</td>' + "".join(
                f'<td class="{row.get(r, "na")}" data-rule="{_e(r)}" data-state="{row.get(r, "not applicable")}">'
                f'{_CELL.get(row.get(r), "–")}</td>' for r in rules) + "</tr>")
        out.append("</tbody></table></div>")
        out.append(f'<h3>Violations ({len(result.failures)} groups)</h3>')
        out += [_html_failure(f, "violation") for f in result.failures] or ["<p>None.</p>"]
        strict = " (counted as violations: --strict)" if result.strict else ""
        out.append(f'<h3>Deviations ({len(result.deviations)}){strict}</h3>'
                   '<p class="meta">Failures that rest only on what the document does not state: '
                   "an inferred element, a bound whose breach it does not say is refused, a business rule.</p>")
        out += [_html_failure(f, "deviation") for f in result.deviations] or ["<p>None.</p>"]
        out.append(f"<h3>Harness errors ({len(result.errors)})</h3>")
        out += ['<ul class="errors">' + "".join(f"<li><pre>{_e(str(e))}</pre></li>" for e in result.errors)
                + "</ul>"] if result.errors else ["<p>None.</p>"]
        if result.notes:
            out.append("<h3>Notes</h3><ul class=\"notes\">" + "".join(f"<li>{_e(n)}</li>" for n in result.notes)
                       + "</ul>")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
