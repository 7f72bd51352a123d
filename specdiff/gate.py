"""What a team accepts and how strict it is: ignore files (oasdiff's format), severity overrides, and
the level that fails the gate.

An ignore file has a line per accepted change (any text file: Markdown lists and dates are fine). A
line accepts a change of an operation when it names the operation (`GET /api/things/{id}`: the
method, then the path as the first word starting with `/`, in any case) and the change, by its rule
id, by our words for it (`LOCATION: TEXT`, as `--format singleline` prints it),
or in oasdiff's words (its message for that rule, as `oasdiff breaking
--format singleline` prints it, naming what changed). A line without a path accepts document-wide
changes (x-rate-limit, x-error-body) by rule id.

Severity overrides: `--severity RULE=LEVEL` (ERR, WARN, INFO, or NONE to drop the rule), or a file
in oasdiff's `--severity-levels` format (a line `rule-id level`).
"""

from __future__ import annotations

import dataclasses
import functools
import pathlib
import re

import yaml

from .rules import BY_ID, LEVELS
from .walk import Change

MESSAGES = pathlib.Path(__file__).with_name("oasdiff-messages.yaml")


class GateError(Exception):
    """A gate option that cannot be used: the message is the one line the user sees."""


@functools.cache
def _message_patterns() -> dict[str, re.Pattern]:
    """oasdiff's message per rule id, as a pattern (each argument: any text)."""
    messages = yaml.safe_load(MESSAGES.read_text(encoding="utf-8"))
    patterns = {}
    for rule_id, message in messages.items():
        parts = re.split(r"%[svdq]", message.lower())
        patterns[rule_id] = re.compile(".+?".join(re.escape(p) for p in parts))
    return patterns


def _subject(change: Change) -> str:
    """The name of what changed (a property, parameter, header), as the last word of its location."""
    tail = change.location.rsplit(": ", 1)[-1] if ": " in change.location else change.location
    return re.split(r"[\s.]", tail.strip())[-1].strip("[]<>{}").lower()


def _path_of(line: str) -> str:
    return next((word for word in line.split() if word.startswith("/")), "")


def accepts(line: str, change: Change) -> bool:
    """Whether an ignore-file line accepts `change`."""
    line = line.lower().strip()
    if not line:
        return False
    path = _path_of(line)
    if not change.path:
        return not path and re.search(rf"(?<![\w-]){re.escape(change.id)}(?![\w-])", line) is not None
    if path != change.path.lower() or f"{change.method} {change.path}".lower() not in line:
        return False
    if re.search(rf"(?<![\w-]){re.escape(change.id)}(?![\w-])", line) or \
            f"{change.location}: {change.text}".lower() in line:
        return True
    pattern = _message_patterns().get(change.id)
    return bool(pattern and pattern.search(line) and _subject(change) in line)


def read_ignore(path: str) -> list[str]:
    try:
        return pathlib.Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GateError(f"cannot read ignore file {path}: {getattr(exc, 'strerror', None) or exc}") from None


def ignore(changes: list[Change], lines: list[str]) -> tuple[list[Change], int]:
    """The changes no line accepts, and how many were accepted. Like oasdiff, only ERR and WARN
    changes are ignored: INFO ones stay in the changelog."""
    kept = [c for c in changes if not (c.breaking and any(accepts(line, c) for line in lines))]
    return kept, len(changes) - len(kept)


def parse_severity(items: list[str], files: list[str]) -> dict[str, str]:
    """{rule id: level or NONE} from `RULE=LEVEL` items and oasdiff severity-levels files."""
    pairs = []
    for path in files:
        try:
            text = pathlib.Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise GateError(f"cannot read severity file {path}: {getattr(exc, 'strerror', None) or exc}") from None
        for number, line in enumerate(text.splitlines(), 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if len(words) != 2:
                raise GateError(f"{path}:{number}: expected 'rule-id level'")
            pairs.append((words[0], words[1], f"{path}:{number}"))
    for item in items:
        rule_id, sep, level = item.partition("=")
        if not sep:
            raise GateError(f"--severity {item}: expected RULE=LEVEL")
        pairs.append((rule_id.strip(), level.strip(), f"--severity {item}"))
    overrides = {}
    for rule_id, level, where in pairs:
        level = level.upper()
        if rule_id not in BY_ID:
            raise GateError(f"{where}: no rule {rule_id!r} (`specdiff --list-rules` lists them)")
        if level not in (*LEVELS, "NONE"):
            raise GateError(f"{where}: level {level!r} is not one of ERR, WARN, INFO, NONE")
        overrides[rule_id] = level
    return overrides


def override(changes: list[Change], overrides: dict[str, str]) -> list[Change]:
    """The changes with their levels overridden (NONE: left out), ERR first again."""
    order = {"ERR": 0, "WARN": 1, "INFO": 2}
    out = [dataclasses.replace(c, level=overrides.get(c.id, c.level)) for c in changes]
    return sorted((c for c in out if c.level != "NONE"), key=lambda c: order[c.level])


def fails(changes: list[Change], fail_on: str) -> bool:
    """Whether any change is at `fail_on` or above (ERR > WARN > INFO)."""
    limit = LEVELS.index(fail_on)
    return any(LEVELS.index(c.level) <= limit for c in changes)
