"""`contract-test diff OLD.yaml NEW.yaml [--format text|markdown|json]`: what changed between two
versions of a spec, and does any of it break clients written against OLD?

Exit 0: nothing breaks clients of OLD (there may be compatible changes). Exit 1: something does.
Exit 2: an input could not be read (missing file, bad YAML, not an OpenAPI 3 document, a local
`$ref` that leads nowhere), with one line on stderr.

Every change is classed by one entry of RULES: its kind (name), the scope it compares, whether it
breaks clients, and why. The walk pairs operations by METHOD + path (path-parameter names do not
count: `{id}` and `{eventId}` are the same path), then their security, parameters, request bodies
and responses, then (recursively) their schemas, following local `$ref`s, so a change inside a shared
component is reported at every operation that uses it. Schemas are compared with direction: what a
client sends (parameters, request bodies) may be loosened but not tightened; what it receives
(responses) may be tightened but not loosened.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import re
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import yaml

from apispec.load import METHODS
from apispec.refs import all_refs, resolve

IN, OUT = "request", "response"     # the two directions a schema is read in
JSON_MEDIA = "application/json"
TEXT_KEYS = ("summary", "description", "title")
EXAMPLE_KEYS = ("example", "examples")


# --- what the rules compare -------------------------------------------------------------------

class Slot(NamedTuple):
    """One side of an operation pairing: the path item (None: no such path) and the operation."""

    item: dict | None
    op: dict | None


class Prop(NamedTuple):
    """One side of a property pairing: its schema and whether the object requires it."""

    schema: Any
    required: bool


class Security(NamedTuple):
    """An operation's effective security: the alternatives (each a set of (scheme, scopes)) and
    the definitions of the schemes they name."""

    alternatives: frozenset
    schemes: dict

    @property
    def public(self) -> bool:
        return not self.alternatives or frozenset() in self.alternatives


def _show(value) -> str:
    if isinstance(value, str):
        return repr(value)
    return json.dumps(value, default=str) if isinstance(value, (list, dict)) else str(value)


def _values(values) -> str:
    return ", ".join(_show(v) for v in values)


def removed(o, n):
    return o is not None and n is None


def added(o, n):
    return o is None and n is not None


def both(o, n):
    return o is not None and n is not None


def _required(x) -> bool:
    return bool(x and x.get("required"))


# operations -----------------------------------------------------------------------------------

def _op_removed(o: Slot, n: Slot, path_gone: bool):
    if o.op is not None and n.op is None and (n.item is None) == path_gone:
        return "path removed" if path_gone else "operation removed"


def _op_added(o: Slot, n: Slot, path_new: bool):
    if n.op is not None and o.op is None and (o.item is None) == path_new:
        return "path added" if path_new else "operation added"


def _op_id_changed(o: Slot, n: Slot):
    if o.op is not None and n.op is not None and o.op.get("operationId") != n.op.get("operationId"):
        return f"operationId {o.op.get('operationId')} -> {n.op.get('operationId')}"


# security -------------------------------------------------------------------------------------

def _show_security(alternatives) -> str:
    if not alternatives:
        return "none"
    shown = []
    for alt in sorted(alternatives, key=sorted):
        parts = [name + (f"[{' '.join(scopes)}]" if scopes else "") for name, scopes in sorted(alt)]
        shown.append(" + ".join(parts) or "anonymous")
    return " or ".join(shown)


def _security_added(o: Security, n: Security):
    return o.public and not n.public and f"now requires {_show_security(n.alternatives)}"


def _security_removed(o: Security, n: Security):
    return not o.public and n.public and f"{_show_security(o.alternatives)} no longer required"


def _security_changed(o: Security, n: Security):
    if not o.public and not n.public and not o.alternatives <= n.alternatives:
        return f"{_show_security(o.alternatives)} -> {_show_security(n.alternatives)}"


def _security_alternative_added(o: Security, n: Security):
    if not o.public and not n.public and o.alternatives < n.alternatives:
        return f"also accepts {_show_security(n.alternatives - o.alternatives)}"


def _security_scheme_changed(o: Security, n: Security):
    if o.public or n.public:
        return None
    names = {name for alt in o.alternatives for name, _ in alt} & {name for alt in n.alternatives for name, _ in alt}
    changed = []
    for name in sorted(names):
        old, new = o.schemes.get(name) or {}, n.schemes.get(name) or {}
        keys = sorted(k for k in set(old) | set(new) if k != "description" and old.get(k) != new.get(k))
        if keys:
            changed.append(f"{name} ({', '.join(keys)})")
    return changed and "scheme " + "; ".join(changed) + " changed"


# parameters, bodies, media types --------------------------------------------------------------

def _param_added(required: bool):
    return lambda o, n: added(o, n) and _required(n) == required and f"{n.get('in')} parameter added"


def _made_required(o, n):
    return both(o, n) and _required(n) and not _required(o) and "now required"


def _made_optional(o, n):
    return both(o, n) and _required(o) and not _required(n) and "now optional"


def _style_changed(o, n):
    if both(o, n):
        keys = [k for k in ("style", "explode", "allowReserved") if o.get(k) != n.get(k)]
        return keys and ", ".join(f"{k} {_show(o.get(k))} -> {_show(n.get(k))}" for k in keys)


def _body_added(required: bool):
    return lambda o, n: added(o, n) and _required(n) == required and "request body added"


# statuses -------------------------------------------------------------------------------------

def _success(statuses) -> list[str]:
    return sorted(s for s in statuses if s.startswith("2"))


def _errors(statuses) -> list[str]:
    return sorted(s for s in statuses if not s.startswith("2"))


def _status_changed(o: set, n: set):
    gone, new = _success(o - n), _success(n - o)
    return gone and new and f"{', '.join(gone)} -> {', '.join(new)}"


def _status_removed(o: set, n: set):
    gone, new = _success(o - n), _success(n - o)
    return gone and not new and f"{', '.join(gone)} removed"


def _status_added(o: set, n: set):
    gone, new = _success(o - n), _success(n - o)
    return new and not gone and f"{', '.join(new)} added"


def _error_status(which: str):
    def check(o: set, n: set):
        found = _errors(o - n) if which == "removed" else _errors(n - o)
        return found and f"{', '.join(found)} {which}"
    return check


# schemas --------------------------------------------------------------------------------------

def _types(schema: dict) -> frozenset | None:
    """The JSON types a schema admits (None: any). `number` admits integers."""
    declared = schema.get("type")
    if declared is None:
        if "properties" in schema:
            declared = "object"
        elif "items" in schema:
            declared = "array"
        else:
            return None
    types = set(declared) if isinstance(declared, list) else {declared}
    if "number" in types:
        types.add("integer")
    return frozenset(types)


def _type_relation(o: dict, n: dict) -> str | None:
    if any(k in s for s in (o, n) for k in ("anyOf", "oneOf")):
        return None     # the branches carry the types
    old, new = _types(o), _types(n)
    if old == new:
        return None
    if new is None or (old is not None and old < new):
        return "widened"
    if old is None or new < old:
        return "narrowed"
    return "changed"


def _type_check(relation: str):
    def check(o, n):
        if _type_relation(o, n) == relation:
            return f"type {o.get('type', 'any')} -> {n.get('type', 'any')}"
    return check


def _made_nullable(o, n):
    return not o.get("nullable") and n.get("nullable") and "now nullable"


def _made_not_nullable(o, n):
    return o.get("nullable") and not n.get("nullable") and "no longer nullable"


def _enum_removed(o, n):
    """Values that were allowed and are not any more (a new enum restricts every other value)."""
    if "enum" not in n:
        return None
    if "enum" not in o:
        return f"restricted to {_values(n['enum'])}"
    gone = [v for v in o["enum"] if v not in n["enum"]]
    return gone and f"enum value(s) {_values(gone)} removed"


def _enum_added(o, n):
    if "enum" not in o:
        return None
    if "enum" not in n:
        return "enum dropped: any value allowed"
    new = [v for v in n["enum"] if v not in o["enum"]]
    return new and f"enum value(s) {_values(new)} added"


class Bound(NamedTuple):
    keyword: str            # maximum, minLength, ...
    upper: bool             # an upper bound (a lower value is stricter)
    exclusive: str | None   # the keyword that makes it exclusive


BOUNDS = (
    Bound("maximum", True, "exclusiveMaximum"), Bound("minimum", False, "exclusiveMinimum"),
    Bound("maxLength", True, None), Bound("minLength", False, None),
    Bound("maxItems", True, None), Bound("minItems", False, None),
    Bound("maxProperties", True, None), Bound("minProperties", False, None),
)


def _limit(schema: dict, bound: Bound) -> tuple[float | None, bool]:
    value, exclusive = schema.get(bound.keyword), False
    flag = schema.get(bound.exclusive) if bound.exclusive else None
    if isinstance(flag, bool):                      # OpenAPI 3.0: a flag on the bound
        exclusive = flag and value is not None
    elif isinstance(flag, (int, float)):            # OpenAPI 3.1: a bound of its own
        if value is None or (flag <= value if bound.upper else flag >= value):
            value, exclusive = flag, True
    return value, exclusive


def _stricter(bound: Bound, old, new) -> bool:
    (old_value, old_exclusive), (new_value, new_exclusive) = old, new
    if new_value is None:
        return False
    if old_value is None:
        return True
    if new_value == old_value:
        return new_exclusive and not old_exclusive
    return new_value < old_value if bound.upper else new_value > old_value


def _show_limit(limit) -> str:
    value, exclusive = limit
    return "none" if value is None else f"{value}{' (exclusive)' if exclusive else ''}"


def _bound_check(bound: Bound, tightened: bool):
    def check(o, n):
        old, new = _limit(o, bound), _limit(n, bound)
        if _stricter(bound, old, new) if tightened else _stricter(bound, new, old):
            return f"{bound.keyword} {_show_limit(old)} -> {_show_limit(new)}"
    return check


def _keyword_added(key: str):
    return lambda o, n: key not in o and key in n and f"{key} {_show(n[key])} added"


def _keyword_removed(key: str):
    return lambda o, n: key in o and key not in n and f"{key} {_show(o[key])} removed"


def _keyword_changed(key: str):
    return lambda o, n: key in o and key in n and o[key] != n[key] and f"{key} {_show(o[key])} -> {_show(n[key])}"


def _closed(schema: dict) -> bool:
    return schema.get("additionalProperties", True) is False


def _restricted(o, n):
    return not _closed(o) and _closed(n) and "additionalProperties now false"


def _unrestricted(o, n):
    return _closed(o) and not _closed(n) and "additionalProperties no longer false"


def _default_changed(o, n):
    if ("default" in o or "default" in n) and o.get("default") != n.get("default"):
        return f"default {_show(o.get('default', 'none'))} -> {_show(n.get('default', 'none'))}"


# properties and variants ----------------------------------------------------------------------

def _prop_added(required: bool | None):
    def check(o: Prop | None, n: Prop | None):
        return o is None and n is not None and (required is None or n.required == required) and "added"
    return check


def _prop_made_required(o, n):
    return both(o, n) and n.required and not o.required and "now required"


def _prop_made_optional(o, n):
    return both(o, n) and o.required and not n.required and "no longer required"


# text -----------------------------------------------------------------------------------------

def _text_changed(o, n):
    keys = [k for k in TEXT_KEYS if o.get(k) != n.get(k)]
    return keys and " and ".join(keys) + " changed"


def _example_changed(o, n):
    keys = [k for k in EXAMPLE_KEYS if o.get(k) != n.get(k)]
    return keys and " and ".join(keys) + " changed"


def _deprecation_changed(o, n):
    if bool(o.get("deprecated")) != bool(n.get("deprecated")):
        return "now deprecated" if n.get("deprecated") else "no longer deprecated"


# --- the rules ---------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Rule:
    kind: str
    scope: str                              # what `check` is given: see SCOPES
    check: Callable[[Any, Any], Any]        # (old, new) -> what changed (a short text), or falsy
    breaking: bool
    reason: str


SCOPES = {
    "path": "the two path templates of a path both versions have",
    "operation": "Slot(path item, operation) of each side; either may be None",
    "security": "Security of each side (operation security, else the document's)",
    "parameter": "the parameter objects (matched by location and name; path parameters by position)",
    "request-body": "the requestBody objects; either may be None",
    "request-media": "the media type objects of one request media type; either may be None",
    "statuses": "the sets of response status codes",
    "response-media": "the media type objects of one response media type; either may be None",
    "response-header": "the header objects of one response header; either may be None",
    "request-schema": "two schemas of something clients send (allOf merged)",
    "response-schema": "two schemas of something clients receive (allOf merged)",
    "request-property": "Prop(schema, required) of one property clients send; either may be None",
    "response-property": "Prop(schema, required) of one property clients receive; either may be None",
    "request-variant": "one anyOf/oneOf branch of a schema clients send; either may be None",
    "response-variant": "one anyOf/oneOf branch of a schema clients receive; either may be None",
    "text": "any two objects both versions have (operation, parameter, body, media, response, schema)",
}

TIGHTER_IN = "values clients send today may be rejected"
LOOSER_IN = "everything clients send today is still accepted"
TIGHTER_OUT = "everything clients receive still fits what they were promised"
LOOSER_OUT = "clients may receive values outside what they were promised"

RULES: list[Rule] = [
    # operations
    Rule("path-removed", "operation", lambda o, n: _op_removed(o, n, True), True,
         "clients calling it get 404"),
    Rule("operation-removed", "operation", lambda o, n: _op_removed(o, n, False), True,
         "clients calling it get 404 or 405"),
    Rule("path-added", "operation", lambda o, n: _op_added(o, n, True), False, "new operation; no client uses it yet"),
    Rule("operation-added", "operation", lambda o, n: _op_added(o, n, False), False,
         "new operation; no client uses it yet"),
    Rule("operation-id-changed", "operation", _op_id_changed, False,
         "same request on the wire; generated client method names may change"),
    Rule("path-parameter-renamed", "path", lambda o, n: o != n and f"{o} -> {n}", False,
         "same URLs; only the name of the placeholder changed"),
    # security
    Rule("security-added", "security", _security_added, True,
         "clients calling it without credentials are now refused"),
    Rule("security-changed", "security", _security_changed, True,
         "credentials clients send today may no longer be accepted"),
    Rule("security-scheme-changed", "security", _security_scheme_changed, True,
         "clients send credentials the old way, which may no longer be accepted"),
    Rule("security-alternative-added", "security", _security_alternative_added, False,
         "every credential accepted before is still accepted"),
    Rule("security-removed", "security", _security_removed, False, "clients sending credentials still get through"),
    # parameters
    Rule("parameter-removed", "parameter", removed, True,
         "clients sending it now have it ignored or rejected"),
    Rule("parameter-added-required", "parameter", _param_added(True), True,
         "clients do not send it, so their requests are rejected"),
    Rule("parameter-added-optional", "parameter", _param_added(False), False, "clients may leave it out"),
    Rule("parameter-made-required", "parameter", _made_required, True,
         "clients that leave it out are rejected"),
    Rule("parameter-made-optional", "parameter", _made_optional, False, "clients sending it are still accepted"),
    Rule("parameter-style-changed", "parameter", _style_changed, True,
         "clients serialise it the old way, which may no longer be understood"),
    # request bodies
    Rule("request-body-added-required", "request-body", _body_added(True), True,
         "clients send no body, so their requests are rejected"),
    Rule("request-body-added-optional", "request-body", _body_added(False), False, "clients may leave it out"),
    Rule("request-body-removed", "request-body", lambda o, n: removed(o, n) and "request body removed", True,
         "what clients send is now ignored or rejected"),
    Rule("request-body-made-required", "request-body", _made_required, True,
         "clients that send no body are rejected"),
    Rule("request-body-made-optional", "request-body", _made_optional, False,
         "clients sending a body are still accepted"),
    Rule("request-media-type-removed", "request-media", lambda o, n: removed(o, n) and "media type removed", True,
         "clients sending it get 415"),
    Rule("request-media-type-added", "request-media", lambda o, n: added(o, n) and "media type added", False,
         "clients may keep sending the old ones"),
    # responses
    Rule("success-status-removed", "statuses", _status_removed, True,
         "clients expecting it no longer get it"),
    Rule("success-status-changed", "statuses", _status_changed, True,
         "clients checking for the old status treat the new one as unexpected"),
    Rule("success-status-added", "statuses", _status_added, True,
         "clients may get a success status they do not expect"),
    Rule("error-status-added", "statuses", _error_status("added"), False, "clients already handle errors"),
    Rule("error-status-removed", "statuses", _error_status("removed"), False,
         "clients simply stop seeing it"),
    Rule("response-media-type-removed", "response-media", lambda o, n: removed(o, n) and "media type removed",
         True, "clients asking for it get 406 or a body they cannot read"),
    Rule("response-media-type-added", "response-media", lambda o, n: added(o, n) and "media type added", False,
         "clients keep getting the ones they ask for"),
    Rule("response-header-removed", "response-header", lambda o, n: removed(o, n) and "header removed", True,
         "clients reading it find it missing"),
    Rule("response-header-added", "response-header", lambda o, n: added(o, n) and "header added", False,
         "clients ignore headers they do not know"),
    # properties
    Rule("request-property-removed", "request-property", lambda o, n: removed(o, n) and "removed", True,
         "what clients send in it is now ignored or rejected"),
    Rule("request-property-added-required", "request-property", _prop_added(True), True,
         "clients do not send it, so their requests are rejected"),
    Rule("request-property-added-optional", "request-property", _prop_added(False), False,
         "clients may leave it out"),
    Rule("request-property-made-required", "request-property", _prop_made_required, True,
         "clients that leave it out are rejected"),
    Rule("request-property-made-optional", "request-property", _prop_made_optional, False,
         "clients sending it are still accepted"),
    Rule("response-property-removed", "response-property", lambda o, n: removed(o, n) and "removed", True,
         "clients reading it find it missing (a rename is a removal plus an addition)"),
    Rule("response-property-added", "response-property", _prop_added(None), False,
         "clients ignore fields they do not know"),
    Rule("response-property-made-optional", "response-property", _prop_made_optional, True,
         "clients relying on it being there may find it missing"),
    Rule("response-property-made-required", "response-property", _prop_made_required, False,
         "clients get it every time now"),
    # anyOf / oneOf branches
    Rule("request-variant-removed", "request-variant", lambda o, n: removed(o, n) and "branch removed", True,
         "clients sending that shape are rejected"),
    Rule("request-variant-added", "request-variant", lambda o, n: added(o, n) and "branch added", False,
         LOOSER_IN),
    Rule("response-variant-added", "response-variant", lambda o, n: added(o, n) and "branch added", True,
         "clients may receive a shape they cannot read"),
    Rule("response-variant-removed", "response-variant", lambda o, n: removed(o, n) and "branch removed", False,
         TIGHTER_OUT),
    # types
    Rule("request-type-changed", "request-schema", _type_check("changed"), True, "values of the old type are rejected"),
    Rule("request-type-narrowed", "request-schema", _type_check("narrowed"), True, TIGHTER_IN),
    Rule("request-type-widened", "request-schema", _type_check("widened"), False, LOOSER_IN),
    Rule("response-type-changed", "response-schema", _type_check("changed"), True,
         "clients parse the old type and fail"),
    Rule("response-type-widened", "response-schema", _type_check("widened"), True, LOOSER_OUT),
    Rule("response-type-narrowed", "response-schema", _type_check("narrowed"), False, TIGHTER_OUT),
    # nullability
    Rule("request-made-not-nullable", "request-schema", _made_not_nullable, True,
         "clients sending null are rejected"),
    Rule("request-made-nullable", "request-schema", _made_nullable, False, LOOSER_IN),
    Rule("response-made-nullable", "response-schema", _made_nullable, True,
         "clients not expecting null may fail on it"),
    Rule("response-made-not-nullable", "response-schema", _made_not_nullable, False, TIGHTER_OUT),
    # enums
    Rule("request-enum-narrowed", "request-schema", _enum_removed, True, "clients sending those values are rejected"),
    Rule("request-enum-widened", "request-schema", _enum_added, False, LOOSER_IN),
    Rule("response-enum-widened", "response-schema", _enum_added, True,
         "clients may receive values they do not know"),
    Rule("response-enum-narrowed", "response-schema", _enum_removed, False, TIGHTER_OUT),
    # numeric, length, size bounds
    *(Rule(f"{direction}-{bound.keyword}-{change}", f"{direction}-schema",
           _bound_check(bound, change == "tightened"), breaking, reason)
      for bound in BOUNDS
      for direction, change, breaking, reason in (
          (IN, "tightened", True, TIGHTER_IN), (IN, "loosened", False, LOOSER_IN),
          (OUT, "tightened", False, TIGHTER_OUT), (OUT, "loosened", True, LOOSER_OUT))),
    # pattern and format
    *(Rule(f"{direction}-{key}-{change}", f"{direction}-schema", check(key), breaking, reason)
      for key in ("pattern", "format")
      for direction, change, check, breaking, reason in (
          (IN, "added", _keyword_added, True, TIGHTER_IN),
          (IN, "changed", _keyword_changed, True, TIGHTER_IN),
          (IN, "removed", _keyword_removed, False, LOOSER_IN),
          (OUT, "added", _keyword_added, False, TIGHTER_OUT),
          (OUT, "changed", _keyword_changed, True, LOOSER_OUT),
          (OUT, "removed", _keyword_removed, True, LOOSER_OUT))),
    # other schema keywords
    Rule("request-additional-properties-restricted", "request-schema", _restricted, True,
         "clients sending extra fields are rejected"),
    Rule("request-additional-properties-allowed", "request-schema", _unrestricted, False, LOOSER_IN),
    Rule("response-additional-properties-allowed", "response-schema", _unrestricted, False,
         "clients ignore fields they do not know"),
    Rule("response-additional-properties-restricted", "response-schema", _restricted, False, TIGHTER_OUT),
    Rule("request-default-changed", "request-schema", _default_changed, True,
         "clients that leave it out get different behaviour"),
    Rule("response-default-changed", "response-schema", _default_changed, False, "documentation only"),
    # text
    Rule("text-changed", "text", _text_changed, False, "documentation only"),
    Rule("example-changed", "text", _example_changed, False, "documentation only"),
    Rule("deprecation-changed", "text", _deprecation_changed, False, "still served as before"),
]

RULES_BY_SCOPE: dict[str, list[Rule]] = {scope: [r for r in RULES if r.scope == scope] for scope in SCOPES}
assert sum(map(len, RULES_BY_SCOPE.values())) == len(RULES), "a rule names an unknown scope"
assert len({r.kind for r in RULES}) == len(RULES), "two rules share a kind"


# --- the walk ----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Change:
    kind: str
    location: str
    breaking: bool
    reason: str

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class SpecError(Exception):
    """An input that cannot be compared: the message is the one line the user sees."""


def _normalised(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def _field(parent: str, child: str) -> str:
    return f"{parent}.{child}" if parent and not child.startswith(("[", "<", "{")) else parent + child


class Differ:
    def __init__(self, old: dict, new: dict):
        self.old, self.new = old, new
        self.changes: list[Change] = []

    # helpers ----------------------------------------------------------------------------------

    def apply(self, scope: str, o, n, location: str) -> None:
        for rule in RULES_BY_SCOPE[scope]:
            detail = rule.check(o, n)
            if detail:
                self.changes.append(Change(rule.kind, location, rule.breaking, f"{detail}: {rule.reason}"))

    def text(self, o, n, location: str) -> None:
        if isinstance(o, dict) and isinstance(n, dict):
            self.apply("text", o, n, location)

    def res(self, side: str, node):
        return resolve(self.old if side == "old" else self.new, node)

    def flat(self, side: str, node, depth: int = 0) -> dict:
        """A schema with the `$ref` at its top resolved and written the one way: allOf parts merged
        into it, a null-only anyOf/oneOf branch turned into `nullable`, and a lone remaining branch
        merged into it too (`anyOf: [$ref: X, enum: [null]]` is X, nullable)."""
        node = self.res(side, node)
        if not isinstance(node, dict):
            return {}
        if depth > 32 or not any(k in node for k in ("allOf", "anyOf", "oneOf")):
            return node
        merged = {k: v for k, v in node.items() if k != "allOf"}
        parts = list(node.get("allOf") or [])
        for key in ("anyOf", "oneOf"):
            if key not in merged:
                continue
            branches = [b for b in merged[key] if not _null_only(self.res(side, b))]
            if len(branches) < len(merged[key]):
                merged["nullable"] = True
            if len(branches) == 1 and not ({"anyOf", "oneOf"} - {key}) & set(merged):
                del merged[key]
                parts += branches
            else:
                merged[key] = branches
        for part in parts:
            _merge_into(merged, self.flat(side, part, depth + 1))
        return merged

    # operations -------------------------------------------------------------------------------

    def run(self) -> list[Change]:
        old_paths = {_normalised(p): p for p in self.old.get("paths") or {}}
        new_paths = {_normalised(p): p for p in self.new.get("paths") or {}}
        for key in [*old_paths, *(k for k in new_paths if k not in old_paths)]:
            old_path, new_path = old_paths.get(key), new_paths.get(key)
            old_item = self.res("old", self.old["paths"][old_path]) if old_path else None
            new_item = self.res("new", self.new["paths"][new_path]) if new_path else None
            if old_path and new_path:
                self.apply("path", old_path, new_path, new_path)
            for method in METHODS:
                o = Slot(old_item, (old_item or {}).get(method))
                n = Slot(new_item, (new_item or {}).get(method))
                if o.op is None and n.op is None:
                    continue
                label = f"{method.upper()} {new_path if n.op is not None else old_path}"
                self.apply("operation", o, n, label)
                if o.op is not None and n.op is not None:
                    self.operation(label, (old_path, old_item, o.op), (new_path, new_item, n.op))
        return self.changes

    def operation(self, label: str, old: tuple, new: tuple) -> None:
        (old_path, old_item, old_op), (new_path, new_item, new_op) = old, new
        self.text(old_op, new_op, label)
        self.apply("security", self.security("old", old_op), self.security("new", new_op), f"{label} security")
        old_params = self.parameters("old", old_path, old_item, old_op)
        new_params = self.parameters("new", new_path, new_item, new_op)
        for key in [*old_params, *(k for k in new_params if k not in old_params)]:
            o, n = old_params.get(key), new_params.get(key)
            where = f"{label} {(n or o).get('in')} parameter {(n or o).get('name')}"
            self.apply("parameter", o, n, where)
            if o is not None and n is not None:
                self.text(o, n, where)
                if "schema" in o and "schema" in n:
                    self.schema(o["schema"], n["schema"], IN, where, "", ())
        self.body(label, old_op.get("requestBody"), new_op.get("requestBody"))
        self.responses(label, old_op.get("responses") or {}, new_op.get("responses") or {})

    def security(self, side: str, op: dict) -> Security:
        spec = self.old if side == "old" else self.new
        requirements = op["security"] if "security" in op else spec.get("security") or []
        alternatives = frozenset(
            frozenset((name, tuple(sorted(scopes or []))) for name, scopes in (alt or {}).items())
            for alt in requirements or [])
        defined = (spec.get("components") or {}).get("securitySchemes") or {}
        return Security(alternatives, {name: self.res(side, scheme) for name, scheme in defined.items()})

    def parameters(self, side: str, path: str, item: dict, op: dict) -> dict:
        """The operation's parameters (path-item ones included) by a key that survives renaming
        path placeholders: ("path", position) for path parameters, (in, name) for the others."""
        placeholders = re.findall(r"\{([^}]*)\}", path)
        found = {}
        for raw in [*(op.get("parameters") or []), *(item.get("parameters") or [])]:
            param = self.res(side, raw)
            where, name = param.get("in"), str(param.get("name"))
            if where == "path" and name in placeholders:
                key = ("path", placeholders.index(name))
            else:
                key = (where, name.lower() if where == "header" else name)
            found.setdefault(key, param)      # the operation's own win over the path item's
        return found

    def body(self, label: str, old, new) -> None:
        o = self.res("old", old) if old is not None else None
        n = self.res("new", new) if new is not None else None
        where = f"{label} request body"
        self.apply("request-body", o, n, where)
        if o is not None and n is not None:
            self.text(o, n, where)
            self.content(IN, where, o.get("content") or {}, n.get("content") or {})

    def responses(self, label: str, old: dict, new: dict) -> None:
        old = {str(k).upper(): v for k, v in old.items()}
        new = {str(k).upper(): v for k, v in new.items()}
        self.apply("statuses", set(old), set(new), f"{label} responses")
        for status in (s for s in old if s in new):
            o, n = self.res("old", old[status]), self.res("new", new[status])
            where = f"{label} {status.lower()} response"
            self.text(o, n, where)
            self.content(OUT, where, o.get("content") or {}, n.get("content") or {})
            old_headers = {k.lower(): v for k, v in (o.get("headers") or {}).items()}
            new_headers = {k.lower(): v for k, v in (n.get("headers") or {}).items()}
            for name in [*old_headers, *(h for h in new_headers if h not in old_headers)]:
                oh = self.res("old", old_headers[name]) if name in old_headers else None
                nh = self.res("new", new_headers[name]) if name in new_headers else None
                header = f"{where} header {name}"
                self.apply("response-header", oh, nh, header)
                if oh is not None and nh is not None:
                    self.text(oh, nh, header)
                    if "schema" in oh and "schema" in nh:
                        self.schema(oh["schema"], nh["schema"], OUT, header, "", ())

    def content(self, direction: str, where: str, old: dict, new: dict) -> None:
        old = {k.lower(): v for k, v in old.items()}
        new = {k.lower(): v for k, v in new.items()}
        for media in [*old, *(m for m in new if m not in old)]:
            o = self.res("old", old[media]) if media in old else None
            n = self.res("new", new[media]) if media in new else None
            place = where if media == JSON_MEDIA else f"{where} ({media})"
            self.apply(f"{direction}-media", o, n, place)
            if o is not None and n is not None:
                self.text(o, n, place)
                if "schema" in o and "schema" in n:
                    self.schema(o["schema"], n["schema"], direction, place, "", ())

    # schemas ----------------------------------------------------------------------------------

    def schema(self, old_raw, new_raw, direction: str, where: str, field: str, stack: tuple) -> None:
        refs = (_ref(old_raw), _ref(new_raw))
        if refs != (None, None):
            if refs in stack:
                return          # a recursive schema: this pair is being compared further up
            stack = (*stack, refs)
        o, n = self.flat("old", old_raw), self.flat("new", new_raw)
        location = f"{where}: {field}" if field else where
        old_variants, new_variants = _variants(o), _variants(n)
        if bool(old_variants) != bool(new_variants):
            # one side is one schema, the other a choice: compare what sits around the choice here,
            # and the one schema with its own branch of the choice below
            if old_variants:
                n, new_variants = _shell(n), {_lone_key(new_raw): new_raw}
            else:
                o, old_variants = _shell(o), {_lone_key(old_raw): old_raw}
        self.apply(f"{direction}-schema", o, n, location)
        self.text(o, n, location)
        if _type_relation(o, n) == "changed":
            return              # reported; what is under a different type is not worth listing
        self.properties(o, n, direction, where, field, stack)
        if "items" in o and "items" in n:
            self.schema(o["items"], n["items"], direction, where, _field(field, "[]"), stack)
        if isinstance(o.get("additionalProperties"), dict) and isinstance(n.get("additionalProperties"), dict):
            self.schema(o["additionalProperties"], n["additionalProperties"], direction, where,
                        _field(field, "{}"), stack)
        for key in [*old_variants, *(k for k in new_variants if k not in old_variants)]:
            ov, nv = old_variants.get(key), new_variants.get(key)
            branch = _field(field, f"<{key}>")
            self.apply(f"{direction}-variant", ov, nv, f"{where}: {branch}")
            if ov is not None and nv is not None:
                self.schema(ov, nv, direction, where, branch, stack)

    def properties(self, o: dict, n: dict, direction: str, where: str, field: str, stack: tuple) -> None:
        old_props, new_props = self.visible("old", o, direction), self.visible("new", n, direction)
        if not old_props and not new_props:
            return
        old_required, new_required = set(o.get("required") or []), set(n.get("required") or [])
        for name in [*old_props, *(p for p in new_props if p not in old_props)]:
            op = Prop(old_props[name], name in old_required) if name in old_props else None
            np = Prop(new_props[name], name in new_required) if name in new_props else None
            self.apply(f"{direction}-property", op, np, f"{where}: {_field(field, name)}")
            if op is not None and np is not None:
                self.schema(op.schema, np.schema, direction, where, _field(field, name), stack)

    def visible(self, side: str, schema: dict, direction: str) -> dict:
        """The properties that travel in this direction: readOnly ones are never sent, writeOnly
        ones never received."""
        hidden = "readOnly" if direction == IN else "writeOnly"
        return {name: sub for name, sub in (schema.get("properties") or {}).items()
                if not self.flat(side, sub).get(hidden)}


def _merge_into(merged: dict, part: dict) -> None:
    """Add the constraints of an allOf part to `merged` (properties and required are unions)."""
    for key, value in part.items():
        if key == "properties":
            properties = merged["properties"] = dict(merged.get("properties") or {})
            for name, schema in value.items():
                properties.setdefault(name, schema)
        elif key == "required":
            merged["required"] = [*(merged.get("required") or []),
                                  *(r for r in value if r not in (merged.get("required") or []))]
        else:
            merged.setdefault(key, value)


def _null_only(schema) -> bool:
    return isinstance(schema, dict) and (schema.get("enum") == [None] or schema.get("type") == "null")


def _ref(node) -> str | None:
    return node.get("$ref") if isinstance(node, dict) else None


def _variants(schema: dict) -> dict:
    """anyOf/oneOf branches by a key that survives reordering where it can: the component name of
    a `$ref` branch, else the position among the inline ones."""
    found, inline = {}, 0
    for branch in [*(schema.get("oneOf") or []), *(schema.get("anyOf") or [])]:
        inline += _ref(branch) is None
        found[_variant_key(branch, inline)] = branch
    return found


def _shell(schema: dict) -> dict:
    """What of a single schema is compared with the schema around a choice (anyOf/oneOf)."""
    return {k: v for k, v in schema.items() if k in ("nullable", "deprecated", *TEXT_KEYS, *EXAMPLE_KEYS)}


def _lone_key(raw) -> str:
    """The branch key a single schema pairs with: its component's name, if it is one."""
    if isinstance(raw, dict) and not _ref(raw):
        parts = [*(raw.get("allOf") or []), *(raw.get("anyOf") or []), *(raw.get("oneOf") or [])]
        refs = [_ref(part) for part in parts if _ref(part)]
        if len(refs) == 1:
            return refs[0].rsplit("/", 1)[-1]
    return _variant_key(raw, 1)


def _variant_key(branch, position: int) -> str:
    ref = _ref(branch)
    return ref.rsplit("/", 1)[-1] if ref else f"#{position}"


def compare(old: dict, new: dict) -> list[Change]:
    """Every change from `old` to `new` (two OpenAPI documents), breaking ones first."""
    changes = Differ(old, new).run()
    return sorted(changes, key=lambda c: not c.breaking)


# --- reading the inputs ------------------------------------------------------------------------

def load(path: str) -> dict:
    """An OpenAPI 3 document from a YAML or JSON file (`-`: standard input), or SpecError."""
    try:
        text = sys.stdin.read() if path == "-" else pathlib.Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SpecError(f"cannot read {path}: not UTF-8 text") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{path}: not valid YAML{where}: {problem}") from None
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise SpecError(f"{path}: not an OpenAPI 3 document (no 'openapi: 3.x' at the top)")
    if not isinstance(document.get("paths"), dict):
        raise SpecError(f"{path}: not an OpenAPI 3 document (no 'paths' mapping)")
    for ref in sorted(set(all_refs(document))):
        try:
            resolve(document, {"$ref": ref})
        except LookupError as exc:
            raise SpecError(f"{path}: {exc}") from None
    return document


# --- reports -----------------------------------------------------------------------------------

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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contract-test diff",
        description="Compare two versions of an OpenAPI spec and class every change as breaking or compatible.",
        epilog="exit status: 0 nothing breaks clients of OLD, 1 something does, 2 unreadable input\n\n"
               "example:\n  git show origin/main:specs/namak.yaml > /tmp/old.yaml\n"
               "  contract-test diff /tmp/old.yaml specs/namak.yaml --format markdown",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", help="the version clients are written against (YAML or JSON; - for stdin)")
    parser.add_argument("new", help="the proposed version")
    parser.add_argument("--format", choices=list(FORMATS), default="text")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    try:
        old, new = load(args.old), load(args.new)
        changes = compare(old, new)
    except SpecError as exc:
        print(f"contract-test diff: {exc}", file=sys.stderr)
        return 2
    except LookupError as exc:     # a `$ref` to something that is not a mapping, met during the walk
        print(f"contract-test diff: {exc}", file=sys.stderr)
        return 2
    verdict = 1 if any(c.breaking for c in changes) else 0
    try:
        print(FORMATS[args.format](changes, args.old, args.new))
    except BrokenPipeError:     # `contract-test diff ... | head`: the verdict still stands
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return verdict


if __name__ == "__main__":
    raise SystemExit(main())
