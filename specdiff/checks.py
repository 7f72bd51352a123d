"""The predicates the rule table (rules.RULES) is written with: each takes the old and the new side
of one thing the walk pairs (see rules.SCOPES) and returns a short text of what changed, or
something falsy. Deprecation and sunset checks read the policy (`--deprecation-days-*`) and today's
date from POLICY, which `walk.compare` sets for one comparison.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime
import json
from typing import Any, NamedTuple

from apispec import ext
from apispec.ext.lifecycle import STABILITY

IN, OUT = "request", "response"     # the two directions a schema is read in
TEXT_KEYS = ("summary", "description", "title")
EXAMPLE_KEYS = ("example", "examples")


# --- what the rules compare -------------------------------------------------------------------

class Slot(NamedTuple):
    """One side of an operation pairing: the path item (None: no such path) and the operation."""

    item: dict | None
    op: dict | None


class Param(NamedTuple):
    """One side of a parameter pairing: the parameter object and whether the path item (not the
    operation) declares it."""

    obj: dict
    path_level: bool


class Resp(NamedTuple):
    """One side of a response pairing: its status code and the response object."""

    status: str
    obj: dict


class Prop(NamedTuple):
    """One side of a property pairing: its schema (allOf merged), whether the object requires it,
    and whether it does not travel in this direction (readOnly in requests, writeOnly in responses)."""

    schema: dict
    required: bool
    hidden: bool = False


class Variant(NamedTuple):
    """One side of an anyOf/oneOf branch pairing: the keyword and the branch."""

    keyword: str
    branch: Any


class Security(NamedTuple):
    """An operation's effective security: the alternatives (each a set of (scheme, scopes)) and
    the definitions of the schemes they name."""

    alternatives: frozenset
    schemes: dict

    @property
    def public(self) -> bool:
        return not self.alternatives or frozenset() in self.alternatives


@dataclasses.dataclass(frozen=True)
class Policy:
    """How long a deprecation must announce a removal (oasdiff's --deprecation-days-stable and
    --deprecation-days-beta; 0: no minimum, a sunset date is optional), and what day it is."""

    stable_days: int = 0
    beta_days: int = 0
    today: datetime.date = dataclasses.field(default_factory=datetime.date.today)

    def days(self, obj: dict | None) -> int:
        level = ext.lifecycle.stability_level(obj or {})
        return {"draft": 0, "alpha": 0, "beta": self.beta_days}.get(level, self.stable_days)


POLICY: contextvars.ContextVar[Policy] = contextvars.ContextVar("POLICY", default=Policy())  # noqa: B039 (frozen)


# --- small helpers ----------------------------------------------------------------------------

def show(value) -> str:
    if isinstance(value, str):
        return repr(value)
    return json.dumps(value, default=str) if isinstance(value, (list, dict)) else str(value)


def values(items) -> str:
    return ", ".join(show(v) for v in items)


def removed(o, n):
    return o is not None and n is None


def added(o, n):
    return o is None and n is not None


def both(o, n):
    return o is not None and n is not None


def is_required(x) -> bool:
    return bool(x and x.get("required"))


def gone(text: str):
    return lambda o, n: removed(o, n) and text


def new(text: str):
    return lambda o, n: added(o, n) and text


# --- deprecation and sunset -------------------------------------------------------------------

def sunset(obj: dict | None) -> tuple[datetime.date | None, str | None]:
    """The sunset date of an object (None: none) and, when it cannot be read, why."""
    return ext.lifecycle.sunset(obj or {})


def removal(obj: dict | None) -> str:
    """How the removal of an operation or parameter stands against its deprecation: "without" (not
    deprecated), "with" (deprecated, and its sunset date, if any, has come), "before-sunset" or
    "sunset-parse" (an x-sunset that is not a date)."""
    if not (obj or {}).get("deprecated"):
        return "with" if ext.lifecycle.stability_level(obj or {}) in ("draft", "alpha") else "without"
    date, error = sunset(obj)
    if error:
        return "sunset-parse"
    if date is not None and POLICY.get().today < date:
        return "before-sunset"
    return "with"


def removed_as(outcome: str, label: str):
    def check(o, n):
        if removed(o, n) and removal(o) == outcome:
            date, error = sunset(o)
            return error or (f"{label} removed" + (f" (sunset {date})" if date else ""))
    return check


def deprecation(o: dict | None, n: dict | None) -> str | None:
    """How a newly deprecated object stands: "plain" (no sunset, none required), "with-sunset",
    "missing" (no sunset though the policy asks for one), "parse" (an x-sunset that is not a date)
    or "too-small" (a sunset sooner than the policy's days); None: not newly deprecated."""
    if o is None or n is None or o.get("deprecated") or not n.get("deprecated"):
        return None
    policy = POLICY.get()
    date, error = sunset(n)
    if error:
        return "parse"
    if date is None:
        return "missing" if policy.days(n) > 0 else "plain"
    if (date - policy.today).days < policy.days(n):
        return "too-small"
    return "with-sunset"


def deprecated_as(outcome: str):
    def check(o, n):
        if deprecation(o, n) == outcome:
            date, error = sunset(n)
            if outcome == "parse":
                return error
            if outcome == "too-small":
                return f"sunset {date} is sooner than {POLICY.get().days(n)} days from {POLICY.get().today}"
            return "deprecated" + (f" with sunset {date}" if date else "")
    return check


def reactivated(o, n):
    return both(o, n) and o.get("deprecated") and not n.get("deprecated") and "no longer deprecated"


def sunset_deleted(o, n):
    return (both(o, n) and n.get("deprecated") and ext.lifecycle.sunset_given(o)
            and not ext.lifecycle.sunset_given(n)
            and f"sunset {show(ext.lifecycle.sunset_text(o))} deleted, deprecated kept")


def sunset_earlier(o, n):
    """A deprecated object's sunset moved earlier, to a date closer than the policy allows."""
    if not (both(o, n) and n.get("deprecated")):
        return None
    (old, old_error), (date, error) = sunset(o), sunset(n)
    policy = POLICY.get()
    if old and date and not old_error and not error and date < old and (date - policy.today).days < policy.days(n):
        return f"sunset {old} -> {date}"


def stability(obj: dict | None) -> tuple[int | None, str | None]:
    """The rank of an object's x-stability-level in STABILITY (None: not stated), and an error for
    a level that is not one of them."""
    level = ext.lifecycle.stability_level(obj or {})
    if level is None:
        return None, None
    if level not in STABILITY:
        return None, f"stability level {show(level)} is not one of {', '.join(STABILITY)}"
    return STABILITY.index(level), None


def stability_change(decreased: bool):
    def check(o, n):
        if both(o, n):
            (old, _), (rank, _) = stability(o), stability(n)
            if old is not None and rank is not None and (rank < old if decreased else rank > old):
                return f"stability level {STABILITY[old]} -> {STABILITY[rank]}"
    return check


def stability_invalid(o, n):
    return n is not None and stability(n)[1] != stability(o)[1] and stability(n)[1]


# --- operations -------------------------------------------------------------------------------

def op_removed(path_gone: bool, outcome: str):
    """An operation (path_gone: with its whole path) removed, standing as `outcome` (see removal)."""
    def check(o: Slot, n: Slot):
        if o.op is not None and n.op is None and (n.item is None) == path_gone and removal(o.op) == outcome:
            date, error = sunset(o.op)
            what = "path removed" if path_gone else "operation removed"
            return error or what + (f" (sunset {date})" if date else "")
    return check


def op_sunset_parse(o: Slot, n: Slot):
    return o.op is not None and n.op is None and removal(o.op) == "sunset-parse" and sunset(o.op)[1]


def op_added(o: Slot, n: Slot):
    if n.op is not None and o.op is None:
        return "path added" if o.item is None else "operation added"


def on_ops(check):
    """A check of two objects made a check of two operation slots (both sides present)."""
    return lambda o, n: o.op is not None and n.op is not None and check(o.op, n.op)


def op_id_changed(o, n):
    if o.get("operationId") and o.get("operationId") != n.get("operationId"):
        return f"operationId {show(o.get('operationId'))} -> {show(n.get('operationId'))}"


def op_id_added(o, n):
    return not o.get("operationId") and n.get("operationId") and f"operationId {show(n['operationId'])} added"


def tags(which: str):
    def check(o, n):
        old, new_ = o.get("tags") or [], n.get("tags") or []
        found = [t for t in old if t not in new_] if which == "removed" else [t for t in new_ if t not in old]
        return found and f"tag(s) {values(found)} {which}"
    return check


def callback(which: str):
    def check(o, n):
        old, new_ = o.get("callbacks") or {}, n.get("callbacks") or {}
        found = sorted(set(old) - set(new_)) if which == "removed" else sorted(set(new_) - set(old))
        return found and f"callback(s) {values(found)} {which}"
    return check


# --- security ---------------------------------------------------------------------------------

def _show_security(alternatives) -> str:
    if not alternatives:
        return "none"
    shown = []
    for alt in sorted(alternatives, key=sorted):
        parts = [name + (f"[{' '.join(scopes)}]" if scopes else "") for name, scopes in sorted(alt)]
        shown.append(" + ".join(parts) or "anonymous")
    return " or ".join(shown)


def security_required(o: Security, n: Security):
    return o.public and not n.public and f"now requires {_show_security(n.alternatives)}"


def security_dropped(o: Security, n: Security):
    return not o.public and n.public and f"{_show_security(o.alternatives)} no longer required"


def security_changed(o: Security, n: Security):
    if not o.public and not n.public and not o.alternatives <= n.alternatives:
        return f"{_show_security(o.alternatives)} -> {_show_security(n.alternatives)}"


def security_alternative_added(o: Security, n: Security):
    if not o.public and not n.public and o.alternatives < n.alternatives:
        return f"also accepts {_show_security(n.alternatives - o.alternatives)}"


def security_scheme_changed(o: Security, n: Security):
    if o.public or n.public:
        return None
    names = {name for alt in o.alternatives for name, _ in alt} & {name for alt in n.alternatives for name, _ in alt}
    changed = []
    for name in sorted(names):
        old, new_ = o.schemes.get(name) or {}, n.schemes.get(name) or {}
        keys = sorted(k for k in set(old) | set(new_) if k != "description" and old.get(k) != new_.get(k))
        if keys:
            changed.append(f"{name} ({', '.join(keys)})")
    return changed and "scheme " + "; ".join(changed) + " changed"


# --- x- extensions of the five specs ----------------------------------------------------------

def _access(op: dict) -> dict:
    return ext.access.of(op) or {}


def access_narrowed(o, n):
    """x-access admits fewer callers: a key type dropped (or a list where any was admitted), a
    permission required or changed, sessions no longer admitted."""
    old, new_ = _access(o), _access(n)
    found = []
    old_types, new_types = old.get("key_types") or [], new_.get("key_types") or []
    lost = [t for t in old_types if t not in new_types] if new_types else []
    if lost or (new_types and not old_types):
        found.append(f"key types {values(old_types) or 'any'} -> {values(new_types)}")
    if new_.get("permission") and new_.get("permission") != old.get("permission"):
        found.append(f"permission {show(old.get('permission'))} -> {show(new_.get('permission'))}")
    if old.get("session") and not new_.get("session"):
        found.append("sessions no longer admitted")
    return found and "; ".join(found)


def access_widened(o, n):
    old, new_ = _access(o), _access(n)
    if old != new_ and not access_narrowed(o, n):
        return f"access {show(old)} -> {show(new_)}"


def _rate(limit: dict | None) -> dict[str, float]:
    """Calls a second each key type may make (key "*": the flat limit)."""
    if not isinstance(limit, dict) or not limit.get("window_seconds"):
        return {}
    window = float(limit["window_seconds"])
    rates = {str(k): float(v) / window for k, v in (limit.get("limits_by_key_type") or {}).items()}
    if limit.get("limit") is not None:
        rates["*"] = float(limit["limit"]) / window
    return rates


def rate_limit(tightened: bool):
    def check(o, n):
        old, new_ = _rate(ext.rate_limit.of(o)), _rate(ext.rate_limit.of(n))
        if tightened:
            found = [k for k in new_ if (k in old and new_[k] < old[k]) or (k not in old and not old)]
        else:
            found = [k for k in old if (k in new_ and new_[k] > old[k]) or (k not in new_ and not new_)]
        if found:
            return f"rate limit {show(ext.rate_limit.of(o))} -> {show(ext.rate_limit.of(n))}"
    return check


def _leaves(node, prefix="") -> set[str]:
    if isinstance(node, dict):
        found = set()
        for key, value in node.items():
            found |= _leaves(value, f"{prefix}.{key}" if prefix else str(key))
        return found
    return {prefix} if prefix else set()


def error_body_fields(which: str):
    """Fields of the x-error-body templates (per status) removed or added."""
    def check(o, n):
        old, new_ = ext.errors.bodies(o), ext.errors.bodies(n)
        if not isinstance(old, dict) or not isinstance(new_, dict):
            return None
        found = []
        for status in sorted(set(old) & set(new_), key=str):
            a, b = _leaves(old[status]), _leaves(new_[status])
            diff = sorted(a - b) if which == "removed" else sorted(b - a)
            found += [f"{status}: {field}" for field in diff]
        return found and f"error body field(s) {', '.join(found)} {which}"
    return check


# --- parameters, bodies, media types, responses -----------------------------------------------

def param_added(kind: str):
    """A parameter added: kind "path", "required" or "optional" (query, header, cookie), declared
    on the operation, or on an existing path item ("default-required", "default-optional")."""
    def check(o: Param | None, n: Param | None):
        if not added(o, n):
            return None
        p = n.obj
        where = p.get("in")
        if where == "path":
            found = "path"
        else:
            found = ("default-" if n.path_level else "") + ("required" if is_required(p) else "optional")
        return found == kind and f"{where} parameter added"
    return check


def on_params(check):
    return lambda o, n: check(o.obj if o else None, n.obj if n else None)


def made_required(o, n):
    return both(o, n) and is_required(n) and not is_required(o) and "now required"


def made_optional(o, n):
    return both(o, n) and is_required(o) and not is_required(n) and "now optional"


def style_changed(o, n):
    if both(o, n):
        keys = [k for k in ("style", "explode", "allowReserved") if o.get(k) != n.get(k)]
        return keys and ", ".join(f"{k} {show(o.get(k))} -> {show(n.get(k))}" for k in keys)


def body_added(required: bool):
    return lambda o, n: added(o, n) and is_required(n) == required and "request body added"


def media_schema(which: str):
    def check(o, n):
        if both(o, n) and ("schema" in o) != ("schema" in n):
            return ("schema added" if "schema" in n else "schema removed") if which == (
                "added" if "schema" in n else "removed") else None
    return check


def media_name(generalized: bool):
    """(old media type, new media type) paired because one covers the other: `application/*`
    generalizes `application/json`."""
    def check(o: str, n: str):
        return _covers(n, o) if generalized else _covers(o, n) and f"{o} -> {n}"
    return lambda o, n: check(o, n) and f"{o} -> {n}"


def _covers(general: str, specific: str) -> bool:
    if general == specific or "*" not in general:
        return False
    g_type, _, g_sub = general.partition("/")
    s_type, _, s_sub = specific.partition("/")
    return (g_type in ("*", s_type)) and (g_sub in ("*", s_sub))


def status(success: bool, which: str):
    def check(o: Resp | None, n: Resp | None):
        found = o if which == "removed" else n
        if (removed(o, n) if which == "removed" else added(o, n)) and found.status.startswith("2") == success:
            return f"{found.status} {which}"
    return check


def header_removed(required: bool):
    return lambda o, n: removed(o, n) and is_required(o) == required and "header removed"


# --- schemas ----------------------------------------------------------------------------------

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
    """How the values a schema's type and format admit changed: "generalized" (more values),
    "specialized" (fewer), "changed" (others), or None (the walk also reads it: under a changed type
    it looks no deeper). A format added specializes, removed generalizes, changed changes."""
    if any(k in s for s in (o, n) for k in ("anyOf", "oneOf")):
        return None     # the branches carry the types
    old, new_ = _types(o), _types(n)
    if old != new_:
        if new_ is None or (old is not None and old < new_):
            return "generalized"
        if old is None or new_ < old:
            return "specialized"
        return "changed"
    of, nf = o.get("format"), n.get("format")
    if of == nf:
        return None
    return "specialized" if of is None else "generalized" if nf is None else "changed"


def type_is(*relations: str):
    def check(o, n):
        if type_relation(o, n) in relations:
            return (f"type {o.get('type', 'any')}{'/' + o['format'] if o.get('format') else ''} -> "
                    f"{n.get('type', 'any')}{'/' + n['format'] if n.get('format') else ''}")
    return check


def became_nullable(o, n):
    return not o.get("nullable") and n.get("nullable") and "now nullable"


def became_not_nullable(o, n):
    return o.get("nullable") and not n.get("nullable") and "no longer nullable"


def became_enum(o, n):
    return "enum" not in o and "enum" in n and f"restricted to {values(n['enum'])}"


def _lost(old, new, what: str):
    if isinstance(old, list) and isinstance(new, list):
        lost = [v for v in old if v not in new]
        return lost and f"{what} value(s) {values(lost)} removed"


def enum_removed(o, n):
    return _lost(o.get("enum"), n.get("enum"), "enum")


def extensible_enum_removed(o, n):
    return _lost(ext.lifecycle.extensible_enum(o), ext.lifecycle.extensible_enum(n), "extensible enum")


def enum_added(o, n):
    if "enum" not in o:
        return None
    if "enum" not in n:
        return "enum dropped: any value allowed"
    more = [v for v in n["enum"] if v not in o["enum"]]
    return more and f"enum value(s) {values(more)} added"


class Bound(NamedTuple):
    keyword: str            # maximum, minLength, ...
    name: str               # its part of a rule id: max, min-length, ...
    upper: bool             # an upper bound (a lower value is stricter)
    exclusive: str | None   # the keyword that makes it exclusive
    zero: bool              # unset means 0 (minLength): setting it is an increase, removing it a decrease


BOUNDS = (
    Bound("maximum", "max", True, "exclusiveMaximum", False),
    Bound("minimum", "min", False, "exclusiveMinimum", False),
    Bound("maxLength", "max-length", True, None, False),
    Bound("minLength", "min-length", False, None, True),
    Bound("maxItems", "max-items", True, None, False),
    Bound("minItems", "min-items", False, None, False),
    Bound("maxProperties", "max-properties", True, None, False),
    Bound("minProperties", "min-properties", False, None, False),
)


def _limit(schema: dict, bound: Bound) -> tuple[float | None, bool]:
    value, exclusive = schema.get(bound.keyword), False
    flag = schema.get(bound.exclusive) if bound.exclusive else None
    if isinstance(flag, bool):                      # OpenAPI 3.0: a flag on the bound
        exclusive = flag and value is not None
    elif isinstance(flag, (int, float)):            # OpenAPI 3.1: a bound of its own
        if value is None or (flag <= value if bound.upper else flag >= value):
            value, exclusive = flag, True
    if value is None and bound.zero:
        value = 0
    return value, exclusive


def _show_limit(limit) -> str:
    value, exclusive = limit
    return "none" if value is None else f"{value}{' (exclusive)' if exclusive else ''}"


def bound_change(bound: Bound, o: dict, n: dict) -> str | None:
    """How a bound changed: "decreased", "increased", "set" (none before), "unset" (none now)."""
    old, new_ = _limit(o, bound), _limit(n, bound)
    if old == new_:
        return None
    if old[0] is None:
        return "set"
    if new_[0] is None:
        return "unset"
    if old[0] == new_[0]:       # the same value made exclusive (stricter) or inclusive
        stricter = new_[1]
    else:
        stricter = new_[0] < old[0] if bound.upper else new_[0] > old[0]
    return "decreased" if stricter == bound.upper else "increased"


def bound_is(bound: Bound, change: str):
    def check(o, n):
        if bound_change(bound, o, n) == change:
            return f"{bound.keyword} {_show_limit(_limit(o, bound))} -> {_show_limit(_limit(n, bound))}"
    return check


def keyword_added(key: str):
    return lambda o, n: key not in o and key in n and f"{key} {show(n[key])} added"


def keyword_removed(key: str):
    return lambda o, n: key in o and key not in n and f"{key} {show(o[key])} removed"


def keyword_changed(key: str):
    return lambda o, n: key in o and key in n and o[key] != n[key] and f"{key} {show(o[key])} -> {show(n[key])}"


def _closed(schema: dict) -> bool:
    return schema.get("additionalProperties", True) is False


def restricted(o, n):
    return not _closed(o) and _closed(n) and "additionalProperties now false"


def unrestricted(o, n):
    return _closed(o) and not _closed(n) and "additionalProperties no longer false"


ALL_OF = "x-specdiff-all-of"     # the walk notes the allOf parts (by key) it merged under this key


def all_of(which: str):
    def check(o, n):
        old, new_ = o.get(ALL_OF) or [], n.get(ALL_OF) or []
        if len(old) <= 1 and len(new_) <= 1:
            return None         # `allOf: [$ref]` is the way to put keywords beside a $ref, not a composition
        found = [p for p in new_ if p not in old] if which == "added" else [p for p in old if p not in new_]
        return found and f"allOf part(s) {', '.join(found)} {which}"
    return check


# --- properties, variants ---------------------------------------------------------------------

def prop_added(required: bool, default: bool | None = None):
    def check(o: Prop | None, n: Prop | None):
        if o is None and n is not None and not n.hidden and n.required == required:
            if default is None or ("default" in n.schema) == default:
                return "added"
    return check


def prop_removed(required: bool | None):
    def check(o: Prop | None, n: Prop | None):
        if o is not None and n is None and not o.hidden and (required is None or o.required == required):
            return "removed"
    return check


def prop_became_required(default: bool | None = None):
    def check(o, n):
        if both(o, n) and not o.hidden and not n.hidden and n.required and not o.required:
            if default is None or ("default" in n.schema) == default:
                return "now required"
    return check


def prop_became_optional(o, n):
    return both(o, n) and not o.hidden and not n.hidden and o.required and not n.required and "no longer required"


def prop_hidden(required: bool, hidden: bool):
    """A property that became hidden (hidden=True) or visible in this direction; `required`: as
    it is on the side where it is visible."""
    def check(o, n):
        if both(o, n) and o.hidden != n.hidden and n.hidden == hidden:
            visible = o if hidden else n
            return visible.required == required and ("no longer travels" if hidden else "now travels")
    return check


def variant(keyword: str, which: str):
    def check(o: Variant | None, n: Variant | None):
        found = n if which == "added" else o
        if (added(o, n) if which == "added" else removed(o, n)) and found.keyword == keyword:
            return f"{keyword} branch {which}"
    return check


def wrapped_in_one_of(o, n):
    return "oneOf" in n and "oneOf" not in o and "anyOf" not in o and "now wrapped in oneOf"


# --- text -------------------------------------------------------------------------------------

def text_changed(o, n):
    keys = [k for k in TEXT_KEYS if o.get(k) != n.get(k)]
    return keys and " and ".join(keys) + " changed"


def example_changed(o, n):
    keys = [k for k in EXAMPLE_KEYS if o.get(k) != n.get(k)]
    return keys and " and ".join(keys) + " changed"
