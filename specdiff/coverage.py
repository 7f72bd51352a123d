"""Our rules against oasdiff's: every oasdiff rule (oasdiff-rules.tsv, a copy of its v1.28.0 table)
is implemented here under its id, or not applicable to OpenAPI 3.0 (NOT_APPLICABLE says why), or not
done yet (only INFO rules may be); our level differs from oasdiff's only where LEVELS says why; and
every rule of ours that oasdiff lacks is explained in OURS.

`python -m specdiff.coverage` writes the table (docs/spec-gate-rules.md is its output; a test keeps
the two the same).
"""

from __future__ import annotations

import csv
import functools
import pathlib
import re

from .rules import BY_ID, RULES

ANCHOR = pathlib.Path(__file__).with_name("oasdiff-rules.tsv")

# oasdiff rules no OpenAPI 3.0 document can set off: (pattern of ids, why)
NOT_APPLICABLE = [
    (r"prefix-items", "`prefixItems` is a JSON Schema 2020-12 keyword, OpenAPI 3.1 only"),
    (r"-(if|then|else)-", "`if`/`then`/`else` are OpenAPI 3.1 (JSON Schema 2020-12) keywords"),
    (r"contains", "`contains`/`minContains`/`maxContains` are OpenAPI 3.1 keywords"),
    (r"dependent-required", "`dependentRequired` is an OpenAPI 3.1 keyword"),
    (r"dependent-schema", "`dependentSchemas` is an OpenAPI 3.1 keyword"),
    (r"pattern-property", "`patternProperties` is not in the OpenAPI 3.0 Schema Object"),
    (r"property-names", "`propertyNames` is not in the OpenAPI 3.0 Schema Object"),
    (r"unevaluated", "`unevaluatedItems`/`unevaluatedProperties` are OpenAPI 3.1 keywords"),
    (r"content-(schema|media-type|encoding)",
     "`contentSchema`/`contentMediaType`/`contentEncoding` are OpenAPI 3.1 keywords"),
    (r"const-", "`const` is an OpenAPI 3.1 keyword (3.0 writes a one-value `enum`, which the enum rules cover)"),
    (r"list-of-types", "a list of types (`type: [string, null]`) is OpenAPI 3.1; 3.0 has one type and `nullable`"),
    (r"^webhook-", "`webhooks` is an OpenAPI 3.1 field"),
    (r"exclusive-(max|min)",
     "in OpenAPI 3.0 `exclusiveMaximum`/`exclusiveMinimum` are booleans on `maximum`/`minimum`, not bounds of "
     "their own (3.1): turning one on is reported as that bound tightened (`*-max-decreased`, `*-min-increased`)"),
    (r"^api-(major-)?version-", "compares `info.version` with whether anything breaks; a release policy, not "
     "a contract change (oasdiff runs it only when asked)"),
    (r"^api-schema-removed$", "components are compared where operations use them, at each use"),
]

# where our level is not oasdiff's: id -> why
LEVELS = {
    "response-body-any-of-added": "a new anyOf branch in a response is a shape clients may not read, as a new "
                                  "oneOf branch is (which oasdiff makes ERR)",
    "response-property-any-of-added": "as response-body-any-of-added",
}

# our rules that oasdiff lacks: (pattern of ids, why we keep them)
OURS = [
    (r"^callback-", "oasdiff has no callback rules ('no checks for callbacks'): a removed callback stops calls "
     "clients registered for"),
    (r"^x-access-", "the specs' `x-access` (key types, permission, sessions): narrowing it refuses keys that work "
     "today"),
    (r"^x-rate-limit-", "the specs' `x-rate-limit`: a lower rate makes today's clients get 429"),
    (r"^x-(operation-)?error-body-field-", "the specs' `x-error-body`: a removed field of the error body is "
     "missing for clients reading errors"),
    (r"^security-(added|changed|scheme-changed)$",
     "oasdiff reports security requirements added or removed as INFO (api-security-added/removed); an operation "
     "that newly requires credentials, no longer accepts credentials clients use, or reads them another way "
     "refuses today's clients, so these are ERR under ids of our own"),
    (r"^path-parameter-renamed$", "a renamed placeholder (`{id}` -> `{eventId}`): the same URLs"),
    (r"^request-parameter-style-changed$", "`style`/`explode`/`allowReserved` changed: clients serialise the "
     "parameter the old way"),
    (r"^request-parameter-deprecated-(with-sunset|sunset-parse)$", "the parameter forms of "
     "endpoint-deprecated-with-sunset and api-deprecated-sunset-parse"),
    (r"^request-body-media-type-name-", "the request form of response-media-type-name-*"),
    (r"^response-header-became-required$", "the other side of response-header-became-optional"),
    (r"-enum-value-added$", "the body (top-level) form of the property rule"),
    (r"-(max|min)(-length|-items|-properties)?-(increased|decreased|set|unset)$",
     "a bound, in a place or direction oasdiff has no id for (maxItems in bodies, min/maxProperties, a bound "
     "removed, a response bound tightened): the same rule as its oasdiff siblings"),
    (r"^(request|response)-body-pattern-", "the body (top-level) form of the property rule"),
    (r"-additional-properties-", "`additionalProperties: false` set or dropped"),
    (r"^(text|example)-changed$", "documentation only: oasdiff's changelog leaves it out, ours lists it"),
]


@functools.cache
def oasdiff_rules() -> list[dict]:
    lines = [line for line in ANCHOR.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def not_applicable(rule_id: str) -> str | None:
    return next((why for pattern, why in NOT_APPLICABLE if re.search(pattern, rule_id)), None)


def ours(rule_id: str) -> str | None:
    return next((why for pattern, why in OURS if re.search(pattern, rule_id)), None)


def status(row: dict) -> tuple[str, str, str]:
    """(status, our level, note) of one oasdiff rule."""
    rule = BY_ID.get(row["id"])
    if rule is not None:
        note = LEVELS.get(row["id"], "") if rule.level != row["level"] else ""
        return "implemented", rule.level, note
    why = not_applicable(row["id"])
    if why:
        return "not applicable to 3.0", "", why
    return "not yet", "", ""


def counts() -> dict[str, int]:
    found: dict[str, int] = {}
    for row in oasdiff_rules():
        if row["level"] != "INFO":
            key = status(row)[0]
            found[key] = found.get(key, 0) + 1
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def document() -> str:
    rows = oasdiff_rules()
    breaking = [r for r in rows if r["level"] != "INFO"]
    found = counts()
    lines = [
        "# The spec gate's rules against oasdiff's",
        "",
        "Written by `python -m specdiff.coverage` from `specdiff/rules.py` and `specdiff/coverage.py`; "
        "`tests/diff/test_coverage.py` fails when it is out of date. oasdiff's table is "
        "`specdiff/oasdiff-rules.tsv` (v1.28.0: "
        f"{len(rows)} rules, {sum(r['level'] == 'ERR' for r in rows)} ERR, "
        f"{sum(r['level'] == 'WARN' for r in rows)} WARN).",
        "",
        f"Of oasdiff's {len(breaking)} ERR and WARN rules: {found.get('implemented', 0)} implemented, "
        f"{found.get('not applicable to 3.0', 0)} not applicable to OpenAPI 3.0, {found.get('not yet', 0)} not yet. "
        f"Of its INFO rules: {sum(1 for r in rows if r['level'] == 'INFO' and r['id'] in BY_ID)} implemented.",
        "",
        "Levels: ERR breaks clients of the old version, WARN may break them, INFO does not. "
        "`--severity RULE=LEVEL` changes a level; `--fail-on` sets the level that fails the gate.",
        "",
        "## oasdiff's rules",
        "",
        "| oasdiff rule | oasdiff level | status | our level | why (where it differs) |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        state, level, note = status(row)
        lines.append(f"| `{row['id']}` | {row['level']} | {state} | {level} | {_cell(note)} |")
    anchor = {r["id"] for r in rows}
    lines += ["", "## Our rules that oasdiff lacks", "",
              "| rule | level | scope | why |", "|---|---|---|---|"]
    for rule in RULES:
        if rule.id not in anchor:
            lines.append(f"| `{rule.id}` | {rule.level} | {rule.scope} | {_cell(ours(rule.id) or '')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(document(), end="")
