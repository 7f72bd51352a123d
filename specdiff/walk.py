"""The walk: compares two OpenAPI documents and reports each Change the rules find.

It pairs operations by METHOD + path (path-parameter names do not count: `{id}` and `{eventId}` are
the same path), then their security, parameters, request bodies and responses, then (recursively)
their schemas, following local `$ref`s, so a change inside a shared component is reported at every
operation that uses it. Schemas are compared written one way: allOf parts merged, a null-only
anyOf/oneOf branch read as `nullable`.
"""

from __future__ import annotations

import dataclasses
import re

from apispec.load import METHODS
from apispec.refs import resolve

from .rules import EXAMPLE_KEYS, IN, OUT, RULES_BY_SCOPE, TEXT_KEYS, Prop, Security, Slot, type_relation

JSON_MEDIA = "application/json"


@dataclasses.dataclass(frozen=True)
class Change:
    """One change a rule found: the rule's kind, where (operation and field), whether it breaks
    clients of the old version, and why (what changed, then the rule's reason)."""

    kind: str
    location: str
    breaking: bool
    reason: str

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


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
        if type_relation(o, n) == "changed":
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

