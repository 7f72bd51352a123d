"""The reports of a comparison, one function a format (FORMATS): text (a terminal), markdown (a
pull-request comment), json and yaml (machines), html (a self-contained page), junit (CI test
reports: a test case a change, ERR and WARN ones failing), githubactions (workflow commands that
annotate the changed lines of the spec in a pull request), singleline (a line a change, the form an
ignore file takes).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import html
import json
from xml.sax.saxutils import escape, quoteattr

import yaml

from .walk import Change

ICONS = {"ERR": ":x:", "WARN": ":warning:", "INFO": ":information_source:"}
ANNOTATIONS = {"ERR": "error", "WARN": "warning", "INFO": "notice"}


@dataclasses.dataclass
class Report:
    """What a renderer is given: the changes, the names of the two inputs, and where each change
    stands in the spec files: `line(change) -> (file, line)`."""

    changes: list[Change]
    old: str
    new: str
    line: collections.abc.Callable[[Change], tuple[str, int]] = lambda change: ("", 0)
    ignored: int = 0
    hidden: int = 0         # INFO changes left out (no --changelog)

    def count(self, level: str) -> int:
        return sum(c.level == level for c in self.changes)

    @property
    def breaking(self) -> int:
        return sum(c.breaking for c in self.changes)

    def summary(self) -> str:
        return (f"{len(self.changes)} change(s): {self.count('ERR')} error(s), {self.count('WARN')} warning(s), "
                f"{self.count('INFO')} info" + (f", {self.ignored} ignored" if self.ignored else ""))


def render_text(report: Report) -> str:
    if not report.changes:
        ignored = f"; {report.ignored} accepted by --ignore" if report.ignored else ""
        if report.hidden:
            return (f"no breaking changes ({report.old} -> {report.new}); {report.hidden} INFO change(s): "
                    f"--changelog lists them{ignored}")
        return f"no changes ({report.old} -> {report.new}){ignored}"
    lines = [f"{report.summary()} ({report.old} -> {report.new})"]
    lines += [f"{c.level:<5} {c.location}  [{c.id}] {c.text}: {c.reason}" for c in report.changes]
    lines.append("verdict: " + ("BREAKS clients of the old version" if report.breaking
                                else "compatible with clients of the old version"))
    if report.hidden:
        lines.append(f"({report.hidden} INFO change(s) not shown: --changelog lists them)")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report) -> str:
    lines = [f"### API contract diff: `{report.new}`", ""]
    if not report.changes:
        lines.append(f":white_check_mark: **No breaking changes** ({report.hidden} compatible change(s))."
                     if report.hidden else ":white_check_mark: **No changes** to the contract.")
        return "\n".join(lines)
    errors, warnings = report.count("ERR"), report.count("WARN")
    if errors or warnings:
        lines.append(f":x: **{errors} error(s), {warnings} warning(s)** of {len(report.changes)} change(s): "
                     "clients of the old version may break.")
    else:
        lines.append(f":white_check_mark: **No breaking changes** ({len(report.changes)} compatible change(s)).")
    lines += ["", "| Level | Location | Rule | Change |", "|---|---|---|---|"]
    lines += [f"| {ICONS[c.level]} {c.level} | `{_cell(c.location)}` | `{c.id}` | {_cell(c.text)}: {_cell(c.reason)} |"
              for c in report.changes]
    return "\n".join(lines)


def _records(report: Report) -> list[dict]:
    records = []
    for change in report.changes:
        file, line = report.line(change)
        records.append({**change.as_dict(), "source": {"file": file, "line": line}})
    return records


def render_json(report: Report) -> str:
    return json.dumps(_records(report), indent=2, ensure_ascii=False)


def render_yaml(report: Report) -> str:
    return yaml.safe_dump(_records(report), sort_keys=False, allow_unicode=True).rstrip("\n") if report.changes \
        else "[]"


def render_singleline(report: Report) -> str:
    """A line a change: `LEVEL id METHOD /path location: text`; a line of it is an ignore-file
    line (`--ignore`)."""
    return "\n".join(f"{c.level} {c.id} {(c.method + ' ' + c.path).strip() or 'document'} {c.location}: {c.text}"
                     for c in report.changes)


def _command_value(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _command_property(text: str) -> str:
    return _command_value(text).replace(":", "%3A").replace(",", "%2C")


def render_githubactions(report: Report) -> str:
    """GitHub workflow commands: `::error file=F,line=N,title=ID::message` a change (warning for
    WARN, notice for INFO), at the line of the spec that changed (for what was removed: its nearest
    place that is still there)."""
    lines = []
    for change in report.changes:
        file, line = report.line(change)
        props = f"file={_command_property(file)},line={line},title={_command_property(change.id)}"
        lines.append(f"::{ANNOTATIONS[change.level]} {props}::"
                     f"{_command_value(f'{change.location}: {change.text}: {change.reason}')}")
    return "\n".join(lines)


def render_junit(report: Report) -> str:
    """One test suite, a test case a change (named by rule id and location); ERR and WARN cases
    fail. With no changes, one passing case says so."""
    cases = []
    for change in report.changes:
        file, line = report.line(change)
        name = quoteattr(f"{change.id} {change.location}")
        body = ""
        if change.breaking:
            message = quoteattr(f"{change.text}: {change.reason}")
            body = (f'<failure type="{change.level}" message={message}>'
                    f"{escape(f'{change.level} {change.id} at {file}:{line}: {change.text}')}</failure>")
        cases.append(f'    <testcase classname={quoteattr(change.level)} name={name} file={quoteattr(file)} '
                     f'line="{line}">{body}</testcase>')
    if not cases:
        cases.append('    <testcase classname="specdiff" name="no changes"></testcase>')
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuites name="specdiff" tests="{max(len(report.changes), 1)}" failures="{report.breaking}">',
        f'  <testsuite name={quoteattr(f"{report.old} -> {report.new}")} tests="{max(len(report.changes), 1)}" '
        f'failures="{report.breaking}" errors="0" skipped="0">',
        *cases,
        "  </testsuite>",
        "</testsuites>"])


HTML_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1f2328; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #d0d7de; padding: .4rem .6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
tr.ERR td.level { background: #ffebe9; } tr.WARN td.level { background: #fff8c5; }
tr.INFO td.level { background: #ddf4ff; } code { font-size: .9em; }
"""


def render_html(report: Report) -> str:
    """A self-contained page: a summary and a table of the changes (no script, no outside file)."""
    e = html.escape
    rows = []
    for change in report.changes:
        file, line = report.line(change)
        rows.append(f'<tr class="{change.level}"><td class="level">{change.level}</td><td><code>{e(change.id)}'
                    f'</code></td><td><code>{e(change.location)}</code></td><td>{e(change.text)}: '
                    f'{e(change.reason)}</td><td><code>{e(file)}:{line}</code></td></tr>')
    verdict = ("Clients of the old version may break." if report.breaking
               else "Compatible with clients of the old version.")
    body = (f'<table id="changes"><thead><tr><th>Level</th><th>Rule</th><th>Location</th><th>Change</th>'
            f'<th>Line</th></tr></thead><tbody>{"".join(rows)}</tbody></table>' if rows
            else '<p id="none">No changes to the contract.</p>')
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>API contract diff: '
            f'{e(report.new)}</title><style>{HTML_STYLE}</style></head><body>'
            f'<h1>API contract diff</h1><p><code>{e(report.old)}</code> &rarr; <code>{e(report.new)}</code></p>'
            f'<p id="summary">{e(report.summary())}. {verdict}</p>{body}</body></html>')


FORMATS = {"text": render_text, "json": render_json, "yaml": render_yaml, "markdown": render_markdown,
           "html": render_html, "junit": render_junit, "githubactions": render_githubactions,
           "singleline": render_singleline}
