"""The breaking-change rules: one declarative table, RULES, and the small predicates it uses.

Every change is classed by one entry of RULES: its kind (name), the scope it compares (what the walk
gives its check, see SCOPES), whether it breaks clients, and why. Schemas are compared with
direction: what a client sends (parameters, request bodies) may be loosened but not tightened; what
it receives (responses) may be tightened but not loosened.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any, NamedTuple

IN, OUT = "request", "response"     # the two directions a schema is read in
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


def type_relation(o: dict, n: dict) -> str | None:
    """How the types a schema admits changed: "widened", "narrowed", "changed" or None (the walk
    also reads it: under a changed type it looks no deeper)."""
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
        if type_relation(o, n) == relation:
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
