"""The walk: compares two OpenAPI documents and reports each Change the rules find.

It pairs operations by METHOD + path (path-parameter names do not count: `{id}` and `{eventId}` are
the same path), then their security, parameters, request bodies and responses, then (recursively)
their schemas, following local `$ref`s, so a change inside a shared component is reported at every
operation that uses it. Schemas are compared written one way: allOf parts merged, a null-only
anyOf/oneOf branch read as `nullable`. Each change carries the JSON pointer of what changed (in the
new document, or the old one for what is gone), so a renderer can name its line.
"""

from __future__ import annotations

import dataclasses
import re
from typing import NamedTuple

from apispec.load import METHODS

from . import checks
from .checks import ALL_OF, EXAMPLE_KEYS, IN, OUT, TEXT_KEYS, Param, Policy, Prop, Resp, Security, Slot, Variant
from .rules import RULES_BY_SCOPE

JSON_MEDIA = "application/json"
Pointer = tuple


@dataclasses.dataclass(frozen=True)
class Change:
    """One change a rule found: the rule's id and level, where (operation and field), what changed
    and why it matters; `method` and `path` name the operation (empty for document-wide changes),
    `pointer` the JSON pointer of the changed node in the `side` ("new" or "old") document."""

    id: str
    level: str
    location: str
    text: str
    reason: str
    method: str = ""
    path: str = ""
    pointer: str = ""
    side: str = "new"

    @property
    def breaking(self) -> bool:
        return self.level != "INFO"

    def as_dict(self) -> dict:
        return {"id": self.id, "level": self.level, "text": self.text, "reason": self.reason,
                "operation": self.method, "path": self.path, "location": self.location,
                "pointer": self.pointer, "side": self.side}


class Where(NamedTuple):
    """Where a pair sits: the operation (method, path), and the pointers of the two sides."""

    method: str
    path: str
    old: Pointer | None
    new: Pointer | None

    def to(self, old_part, new_part=None) -> Where:
        new_part = old_part if new_part is None else new_part
        return self._replace(old=None if self.old is None else (*self.old, *_parts(old_part)),
                             new=None if self.new is None else (*self.new, *_parts(new_part)))


def _parts(part) -> tuple:
    return part if isinstance(part, tuple) else (part,)


class Place(NamedTuple):
    """The contexts (rules.CONTEXTS) of a schema: the one at its top and those inside it."""

    top: str
    inside: tuple[str, ...]

    @property
    def direction(self) -> str:
        return IN if self.top.startswith("request") else OUT


def pointer(parts: Pointer) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _normalised(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def _field(parent: str, child: str) -> str:
    return f"{parent}.{child}" if parent and not child.startswith(("[", "<", "{")) else parent + child


class Differ:
    def __init__(self, old: dict, new: dict):
        self.old, self.new = old, new
        self.changes: list[Change] = []

    # helpers ----------------------------------------------------------------------------------

    def apply(self, scope: str, o, n, location: str, where: Where) -> None:
        for rule in RULES_BY_SCOPE[scope]:
            detail = rule.check(o, n)
            if detail:
                side = "new" if where.new is not None and n is not None else "old"
                at = where.new if side == "new" else where.old
                self.changes.append(Change(rule.id, rule.level, location, str(detail), rule.reason,
                                           where.method, where.path, pointer(at or ()), side))

    def text(self, o, n, location: str, where: Where) -> None:
        if isinstance(o, dict) and isinstance(n, dict):
            self.apply("text", o, n, location, where)

    def res(self, side: str, node, at: Pointer | None = None):
        """`node` with `$ref`s followed, and its pointer (a `$ref` leads to its target's)."""
        spec = self.old if side == "old" else self.new
        seen = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            ref = node["$ref"]
            if ref in seen:
                raise LookupError(f"cannot resolve {ref}")
            seen.add(ref)
            parts = tuple(p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/"))
            target = spec
            for part in parts:
                if not isinstance(target, dict) or part not in target:
                    raise LookupError(f"unresolved $ref {ref}")
                target = target[part]
            node, at = target, parts
        return node, at

    def node(self, side: str, node):
        return self.res(side, node)[0]

    def flat(self, side: str, node, depth: int = 0) -> dict:
        """A schema with the `$ref` at its top resolved and written the one way: allOf parts merged
        into it (their names noted under ALL_OF), a null-only anyOf/oneOf branch turned into
        `nullable`, and a lone remaining branch merged into it too (`anyOf: [$ref: X, enum: [null]]`
        is X, nullable)."""
        node = self.node(side, node)
        if not isinstance(node, dict):
            return {}
        if depth > 32 or not any(k in node for k in ("allOf", "anyOf", "oneOf")):
            return node
        merged = {k: v for k, v in node.items() if k != "allOf"}
        parts = list(node.get("allOf") or [])
        if parts:
            merged[ALL_OF] = [_variant_key(p, i + 1) for i, p in enumerate(parts)]
        for key in ("anyOf", "oneOf"):
            if key not in merged:
                continue
            branches = [b for b in merged[key] if not _null_only(self.node(side, b))]
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

    # the document and its operations ----------------------------------------------------------

    def run(self) -> list[Change]:
        self.apply("document", self.old, self.new, "(document)", Where("", "", (), ()))
        old_paths = {_normalised(p): p for p in self.old.get("paths") or {}}
        new_paths = {_normalised(p): p for p in self.new.get("paths") or {}}
        for key in [*old_paths, *(k for k in new_paths if k not in old_paths)]:
            old_path, new_path = old_paths.get(key), new_paths.get(key)
            old_item, old_at = self.res("old", self.old["paths"][old_path], ("paths", old_path)) \
                if old_path else (None, None)
            new_item, new_at = self.res("new", self.new["paths"][new_path], ("paths", new_path)) \
                if new_path else (None, None)
            if old_path and new_path:
                self.apply("path", old_path, new_path, new_path, Where("", new_path, old_at, new_at))
            for method in METHODS:
                o = Slot(old_item, (old_item or {}).get(method))
                n = Slot(new_item, (new_item or {}).get(method))
                if o.op is None and n.op is None:
                    continue
                shown = new_path if n.op is not None else old_path
                label = f"{method.upper()} {shown}"
                where = Where(method.upper(), shown, old_at and (*old_at, method), new_at and (*new_at, method))
                self.apply("operation", o, n, label, where)
                if o.op is not None and n.op is not None:
                    self.operation(label, where, (old_path, old_item, o.op), (new_path, new_item, n.op))
        return self.changes

    def operation(self, label: str, where: Where, old: tuple, new: tuple) -> None:
        (old_path, old_item, old_op), (new_path, new_item, new_op) = old, new
        self.text(old_op, new_op, label, where)
        self.apply("callback", old_op, new_op, f"{label} callbacks", where.to("callbacks"))
        self.apply("security", self.security("old", old_op), self.security("new", new_op), f"{label} security",
                   where.to("security"))
        old_params = self.parameters("old", old_path, old_item, old_op, where.old)
        new_params = self.parameters("new", new_path, new_item, new_op, where.new)
        for key in [*old_params, *(k for k in new_params if k not in old_params)]:
            (o, o_at), (n, n_at) = old_params.get(key, (None, None)), new_params.get(key, (None, None))
            param = (n or o).obj
            here = where._replace(old=o_at, new=n_at)
            text = f"{label} {param.get('in')} parameter {param.get('name')}"
            self.apply("parameter", o, n, text, here)
            if o is not None and n is not None:
                self.text(o.obj, n.obj, text, here)
                if "schema" in o.obj and "schema" in n.obj:
                    inside = ("request-parameter-property",)
                    if param.get("in") == "header":
                        inside += ("request-header-property",)
                    self.schema(o.obj["schema"], n.obj["schema"], Place("request-parameter", inside), text, "",
                                here.to("schema"), (), True)
        self.body(label, where, old_op.get("requestBody"), new_op.get("requestBody"))
        self.responses(label, where.to("responses"), old_op.get("responses") or {}, new_op.get("responses") or {})

    def security(self, side: str, op: dict) -> Security:
        spec = self.old if side == "old" else self.new
        requirements = op["security"] if "security" in op else spec.get("security") or []
        alternatives = frozenset(
            frozenset((name, tuple(sorted(scopes or []))) for name, scopes in (alt or {}).items())
            for alt in requirements or [])
        defined = (spec.get("components") or {}).get("securitySchemes") or {}
        return Security(alternatives, {name: self.node(side, scheme) for name, scheme in defined.items()})

    def parameters(self, side: str, path: str, item: dict, op: dict, at: Pointer) -> dict:
        """The operation's parameters (path-item ones included) by a key that survives renaming
        path placeholders: ("path", position) for path parameters, (in, name) for the others; each
        with its pointer."""
        placeholders = re.findall(r"\{([^}]*)\}", path)
        found = {}
        sources = [(raw, (*at, "parameters", i), False) for i, raw in enumerate(op.get("parameters") or [])]
        sources += [(raw, (*at[:-1], "parameters", i), True) for i, raw in enumerate(item.get("parameters") or [])]
        for raw, here, path_level in sources:
            param, here = self.res(side, raw, here)
            where, name = param.get("in"), str(param.get("name"))
            if where == "path" and name in placeholders:
                key = ("path", placeholders.index(name))
            else:
                key = (where, name.lower() if where == "header" else name)
            found.setdefault(key, (Param(param, path_level), here))      # the operation's own win
        return found

    def body(self, label: str, where: Where, old, new) -> None:
        o, o_at = self.res("old", old, (*where.old, "requestBody")) if old is not None else (None, None)
        n, n_at = self.res("new", new, (*where.new, "requestBody")) if new is not None else (None, None)
        text, here = f"{label} request body", where._replace(old=o_at, new=n_at)
        self.apply("request-body", o, n, text, here)
        if o is not None and n is not None:
            self.text(o, n, text, here)
            self.content(Place("request-body", ("request-property",)), text, here.to("content"),
                         o.get("content") or {}, n.get("content") or {})

    def responses(self, label: str, where: Where, old: dict, new: dict) -> None:
        old = {str(k).upper(): (k, v) for k, v in old.items()}
        new = {str(k).upper(): (k, v) for k, v in new.items()}
        for status in [*old, *(s for s in new if s not in old)]:
            o, o_at = self.res("old", old[status][1], (*where.old, old[status][0])) if status in old else (None, None)
            n, n_at = self.res("new", new[status][1], (*where.new, new[status][0])) if status in new else (None, None)
            text = f"{label} {status.lower()} response"
            here = where._replace(old=o_at, new=n_at)
            if o is None or n is None:
                here = here._replace(old=o_at or where.old, new=n_at or where.new)
            self.apply("response", o and Resp(status, o), n and Resp(status, n), text, here)
            if o is None or n is None:
                continue
            self.text(o, n, text, here)
            self.content(Place("response-body", ("response-property",)), text, here.to("content"),
                         o.get("content") or {}, n.get("content") or {})
            old_headers = {k.lower(): (k, v) for k, v in (o.get("headers") or {}).items()}
            new_headers = {k.lower(): (k, v) for k, v in (n.get("headers") or {}).items()}
            for name in [*old_headers, *(h for h in new_headers if h not in old_headers)]:
                oh, oh_at = self.res("old", old_headers[name][1], (*o_at, "headers", old_headers[name][0])) \
                    if name in old_headers else (None, (*o_at, "headers"))
                nh, nh_at = self.res("new", new_headers[name][1], (*n_at, "headers", new_headers[name][0])) \
                    if name in new_headers else (None, (*n_at, "headers"))
                header, at = f"{text} header {name}", where._replace(old=oh_at, new=nh_at)
                self.apply("response-header", oh, nh, header, at)
                if oh is not None and nh is not None:
                    self.text(oh, nh, header, at)
                    if "schema" in oh and "schema" in nh:
                        self.schema(oh["schema"], nh["schema"], Place("response-header", ()), header, "",
                                    at.to("schema"), (), True)

    def content(self, place: Place, text: str, where: Where, old: dict, new: dict) -> None:
        old = {k.lower(): (k, v) for k, v in old.items()}
        new = {k.lower(): (k, v) for k, v in new.items()}
        gone = [m for m in old if m not in new]
        renamed = {}
        for media in gone:          # a media type replaced by one that covers it, or that it covers
            match = next((m for m in new if m not in old and m not in renamed.values()
                          and (checks._covers(m, media) or checks._covers(media, m))), None)
            if match:
                renamed[media] = match
        for media in [*old, *(m for m in new if m not in old and m not in renamed.values())]:
            new_media = renamed.get(media, media)
            o, o_at = self.res("old", old[media][1], (*where.old, old[media][0])) if media in old else (None, None)
            n, n_at = self.res("new", new[new_media][1], (*where.new, new[new_media][0])) \
                if new_media in new else (None, None)
            shown = new_media if n is not None else media
            place_text = text if shown == JSON_MEDIA else f"{text} ({shown})"
            here = where._replace(old=o_at or where.old, new=n_at or where.new)
            if media in renamed:
                self.apply(f"{place.direction}-media-name", media, new_media, place_text, here)
            else:
                self.apply(f"{place.direction}-media", o, n, place_text, here)
            if o is not None and n is not None:
                self.text(o, n, place_text, here)
                if "schema" in o and "schema" in n:
                    self.schema(o["schema"], n["schema"], place, place_text, "", here.to("schema"), (), True)

    # schemas ----------------------------------------------------------------------------------

    def schema(self, old_raw, new_raw, place: Place, text: str, field: str, where: Where, stack: tuple,
               top: bool) -> None:
        refs = (_ref(old_raw), _ref(new_raw))
        if refs != (None, None):
            if refs in stack:
                return          # a recursive schema: this pair is being compared further up
            stack = (*stack, refs)
        where = where._replace(old=self.res("old", old_raw, where.old)[1], new=self.res("new", new_raw, where.new)[1])
        o, n = self.flat("old", old_raw), self.flat("new", new_raw)
        location = f"{text}: {field}" if field else text
        contexts = (place.top,) if top else place.inside
        old_variants, new_variants = _variants(o), _variants(n)
        if bool(old_variants) != bool(new_variants):
            # one side is one schema, the other a choice: compare what sits around the choice here,
            # and the one schema with its own branch of the choice below
            if top and f"wrap:{place.top}" in RULES_BY_SCOPE:
                self.apply(f"wrap:{place.top}", o, n, location, where)
            if old_variants:
                n, new_variants = _shell(n), {_lone_key(new_raw): ("oneOf" if "oneOf" in o else "anyOf", new_raw)}
            else:
                o, old_variants = _shell(o), {_lone_key(old_raw): ("oneOf" if "oneOf" in n else "anyOf", old_raw)}
        for ctx in contexts:
            self.apply(f"schema:{ctx}", o, n, location, where)
        self.text(o, n, location, where)
        if checks.type_relation(o, n) == "changed" and _types_differ(o, n):
            return              # reported; what is under a different type is not worth listing
        self.properties(o, n, place, text, field, where, stack)
        if "items" in o and "items" in n:
            self.schema(o["items"], n["items"], place, text, _field(field, "[]"), where.to("items"), stack, False)
        if isinstance(o.get("additionalProperties"), dict) and isinstance(n.get("additionalProperties"), dict):
            self.schema(o["additionalProperties"], n["additionalProperties"], place, text, _field(field, "{}"),
                        where.to("additionalProperties"), stack, False)
        for key in [*old_variants, *(k for k in new_variants if k not in old_variants)]:
            ov, nv = old_variants.get(key), new_variants.get(key)
            branch = _field(field, f"<{key}>")
            at = where.to(ov[0] if ov else nv[0], nv[0] if nv else ov[0])
            for ctx in contexts:
                if f"variant:{ctx}" in RULES_BY_SCOPE:
                    self.apply(f"variant:{ctx}", ov and Variant(*ov), nv and Variant(*nv), f"{text}: {branch}", at)
            if ov is not None and nv is not None:
                self.schema(ov[1], nv[1], place, text, branch, at, stack, top)

    def properties(self, o: dict, n: dict, place: Place, text: str, field: str, where: Where, stack: tuple) -> None:
        old_props, new_props = o.get("properties") or {}, n.get("properties") or {}
        if not old_props and not new_props:
            return
        hidden = "readOnly" if place.direction == IN else "writeOnly"
        old_required, new_required = set(o.get("required") or []), set(n.get("required") or [])
        for name in [*old_props, *(p for p in new_props if p not in old_props)]:
            op = self.prop("old", old_props, name, old_required, hidden)
            np = self.prop("new", new_props, name, new_required, hidden)
            if (op is None and np.hidden) or (np is None and op.hidden):
                continue        # it never travels this way
            at = where.to(("properties", name))
            for ctx in place.inside:
                if f"property:{ctx}" in RULES_BY_SCOPE:
                    self.apply(f"property:{ctx}", op, np, f"{text}: {_field(field, name)}", at)
            if op is not None and np is not None and not (op.hidden or np.hidden):
                self.schema(old_props[name], new_props[name], place, text, _field(field, name), at, stack, False)

    def prop(self, side: str, props: dict, name: str, required: set, hidden: str) -> Prop | None:
        if name not in props:
            return None
        schema = self.flat(side, props[name])
        return Prop(schema, name in required, bool(schema.get(hidden)))


def _types_differ(o: dict, n: dict) -> bool:
    return checks._types(o) != checks._types(n)


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
        elif key != ALL_OF:
            merged.setdefault(key, value)


def _null_only(schema) -> bool:
    return isinstance(schema, dict) and (schema.get("enum") == [None] or schema.get("type") == "null")


def _ref(node) -> str | None:
    return node.get("$ref") if isinstance(node, dict) else None


def _variants(schema: dict) -> dict:
    """anyOf/oneOf branches (keyword, branch) by a key that survives reordering where it can: the
    component name of a `$ref` branch, else the position among the inline ones."""
    found, inline = {}, 0
    for keyword in ("oneOf", "anyOf"):
        for branch in schema.get(keyword) or []:
            inline += _ref(branch) is None
            found[_variant_key(branch, inline)] = (keyword, branch)
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


LEVEL_ORDER = {"ERR": 0, "WARN": 1, "INFO": 2}


def compare(old: dict, new: dict, policy: Policy | None = None) -> list[Change]:
    """Every change from `old` to `new` (two OpenAPI documents), ERR first, then WARN, then INFO.
    `policy`: the deprecation policy and today's date (default: no minimum notice, today)."""
    token = checks.POLICY.set(policy or Policy())
    try:
        changes = Differ(old, new).run()
    finally:
        checks.POLICY.reset(token)
    return sorted(changes, key=lambda c: LEVEL_ORDER[c.level])
