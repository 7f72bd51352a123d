"""The reports of a comparison: text (a terminal), markdown (a pull-request comment), json."""

from __future__ import annotations

import json

from .walk import Change


def render_text(changes: list[Change], old: str, new: str) -> str:
    if not changes:
        return f"no changes ({old} -> {new})"
    breaking = sum(c.breaking for c in changes)
    lines = [f"{len(changes)} change(s), {breaking} breaking ({old} -> {new})"]
    lines += [f"{'BREAKING' if c.breaking else 'compatible':<10}  {c.location}  [{c.kind}] {c.reason}"
              for c in changes]
    lines.append("verdict: " + ("BREAKS clients of the old version" if breaking
                                else "compatible with clients of the old version"))
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(changes: list[Change], old: str, new: str) -> str:
    breaking = sum(c.breaking for c in changes)
    lines = [f"### API contract diff: `{new}`", ""]
    if not changes:
        lines.append(":white_check_mark: **No changes** to the contract.")
        return "\n".join(lines)
    if breaking:
        lines.append(f":x: **{breaking} breaking change(s)** of {len(changes)}: clients of the old version break.")
    else:
        lines.append(f":white_check_mark: **No breaking changes** ({len(changes)} compatible change(s)).")
    lines += ["", "| | Location | Change | Reason |", "|---|---|---|---|"]
    lines += [f"| {':x: breaking' if c.breaking else 'compatible'} | `{_cell(c.location)}` | `{c.kind}` "
              f"| {_cell(c.reason)} |" for c in changes]
    return "\n".join(lines)


def render_json(changes: list[Change], old: str, new: str) -> str:
    return json.dumps([c.as_dict() for c in changes], indent=2, ensure_ascii=False)


FORMATS = {"text": render_text, "markdown": render_markdown, "json": render_json}
