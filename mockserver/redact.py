"""Secrets kept out of what the control surface shows (`GET /__admin/state`, `GET /__admin/requests`,
so the console too): each secret value is answered as `<redacted:HASH>`, HASH a keyed hash of the
value under a key drawn at start (the same secret reads the same within a run, so "is it the same
token?" can be answered; the value cannot be guessed from it).

What is a secret:

    fields     a property the spec marks `writeOnly` or `format: password`; the body credential the
               spec's `x-body-auth` names (Eventify's `token`); any field named as a credential
               (`password`, `*_password`, `token`, `*_token`, `secret`, `key`, `api_key`, `session`),
               the mock's own private ones included (`_password`, `_token`, `_key`)
    records    the string id of a record in a collection of credentials (`sessions`, `api_keys`,
               `tokens`): there the id is the credential itself (Amar's session ids, Namak's keys)
    headers    `Authorization` (its scheme word kept: `Bearer <redacted:...>`), every cookie value in
               `Cookie` and `Set-Cookie`, and the header of an `apiKey` security scheme
    query      a parameter an `apiKey` scheme names, or named as a credential

`PUT /__admin/state` takes a redacted download back: a `<redacted:HASH>` where the store now holds
that very secret, at the same collection, record and field, is that secret again (`restore`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import urllib.parse

from apispec import ext

_SECRET_NAME = re.compile(r"_*(password|passwd|secret|token|key|api_?key|session|session_?id|access_?key"
                          r"|[a-z0-9_]*_(password|token|secret))", re.IGNORECASE)
_CREDENTIAL_COLLECTION = re.compile(r"(sessions|api_keys|tokens)", re.IGNORECASE)
MARK = "<redacted:"
_JSON_PAIR = re.compile(r'("([A-Za-z0-9_]+)"\s*:\s*")((?:[^"\\]|\\.)*)(?:"|$)')
_FORM_PAIR = re.compile(r"((?:^|(?<=[&\s]))([A-Za-z0-9_]+)=)([^&\s]*)")


def is_marker(value) -> bool:
    return isinstance(value, str) and value.startswith(MARK) and value.endswith(">")


def spec_secret_fields(raw: dict) -> set[str]:
    """Property names the spec marks writeOnly or format: password, and its x-body-auth token field."""
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                for name, prop in props.items():
                    if isinstance(prop, dict) and (prop.get("writeOnly") or prop.get("format") == "password"):
                        found.add(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(raw)
    body_auth = ext.credentials.body_auth(raw)
    if isinstance(body_auth, dict) and isinstance(body_auth.get("token"), str):
        found.add(body_auth["token"])
    return found


class Redactor:
    def __init__(self, contract):
        self._key = os.urandom(32)
        self.fields = spec_secret_fields(contract.raw)
        schemes = ((contract.raw.get("components") or {}).get("securitySchemes") or {}).values()
        api_keys = [s for s in schemes if isinstance(s, dict) and s.get("type") == "apiKey"]
        self.headers = {"authorization", "proxy-authorization"} | {
            s["name"].lower() for s in api_keys if s.get("in") == "header" and s.get("name")}
        self.query_names = {s["name"] for s in api_keys if s.get("in") == "query" and s.get("name")}

    def marker(self, value) -> str:
        digest = hmac.new(self._key, str(value).encode("utf-8", "replace"), hashlib.sha256).hexdigest()
        return f"{MARK}{digest[:12]}>"

    def secret_field(self, name) -> bool:
        return isinstance(name, str) and (name in self.fields or _SECRET_NAME.fullmatch(name) is not None)

    def hide(self, value):
        return value if value is None or is_marker(value) else self.marker(value)

    def value(self, node):
        """A JSON value with every secret field's value redacted, at any depth; in text (a body cut short,
        a form), each `"name": "value"` and `name=value` of a secret field."""
        if isinstance(node, str):
            return self.text(node)
        if isinstance(node, dict):
            return {k: self.hide(v) if self.secret_field(k) and not isinstance(v, (dict, list)) else self.value(v)
                    for k, v in node.items()}
        if isinstance(node, list):
            return [self.value(v) for v in node]
        return node

    def text(self, text: str) -> str:
        if not text:
            return text

        def json_pair(match):
            return match.group(1) + self.marker(match.group(3)) + '"' if self.secret_field(match.group(2)) \
                else match.group(0)

        def form_pair(match):
            return match.group(1) + self.marker(match.group(3)) if self.secret_field(match.group(2)) \
                else match.group(0)

        text = _JSON_PAIR.sub(json_pair, text)
        return _FORM_PAIR.sub(form_pair, text)

    def record(self, collection: str, record):
        out = self.value(record)
        if (isinstance(out, dict) and _CREDENTIAL_COLLECTION.fullmatch(collection)
                and isinstance(out.get("id"), str)):
            out["id"] = self.hide(out["id"])
        return out

    def state(self, document: dict) -> dict:
        return {name: [self.record(name, r) for r in records] if isinstance(records, list) else records
                for name, records in document.items()}

    def header_list(self, raw) -> list[list[str]]:
        out = []
        for name, value in raw or ():
            name = name.decode("latin-1") if isinstance(name, bytes) else name
            value = value.decode("latin-1") if isinstance(value, bytes) else value
            lower = name.lower()
            if lower in self.headers:
                scheme, space, credential = value.partition(" ")
                value = f"{scheme} {self.marker(credential)}" if space and credential else self.marker(value)
            elif lower == "cookie":
                value = "; ".join(self._cookie(part) for part in value.split(";"))
            elif lower in ("set-cookie", "set-cookie2"):
                first, sep, attributes = value.partition(";")
                value = self._cookie(first) + sep + attributes
            out.append([name, value])
        return out

    def _cookie(self, pair: str) -> str:
        name, eq, value = pair.strip().partition("=")
        return f"{name}={self.marker(value)}" if eq else pair.strip()

    def query(self, query: str) -> str:
        if not query:
            return query
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        if not any(k in self.query_names or self.secret_field(k) for k, _ in pairs):
            return query
        return urllib.parse.urlencode([(k, self.marker(v) if k in self.query_names or self.secret_field(k) else v)
                                       for k, v in pairs], safe="<>:")

    # --- PUT /__admin/state: a redacted download loads back ------------------------------------------
    def _secrets_at(self, collection: str, redacted, plain, path=()):
        """(path, marker, value) for every secret of a record: where the redacted and plain copies differ."""
        if isinstance(redacted, dict) and isinstance(plain, dict):
            for key, value in redacted.items():
                yield from self._secrets_at(collection, value, plain.get(key), (*path, key))
        elif isinstance(redacted, list) and isinstance(plain, list):
            for index, (value, original) in enumerate(zip(redacted, plain, strict=False)):
                yield from self._secrets_at(collection, value, original, (*path, index))
        elif is_marker(redacted) and redacted != plain:
            yield path, redacted, plain

    def restore(self, collections: dict, current: dict) -> tuple[dict, list[str]]:
        """`collections` (a PUT's) with every `<redacted:...>` the store holds now at the same place (collection,
        record id as downloaded, field) put back; and a problem for each one it does not hold."""
        known = {}
        for name, records in current.items():
            for record in records:
                shown = self.record(name, record)
                for path, marker, value in self._secrets_at(name, shown, record):
                    known[(name, repr(shown.get("id")), path, marker)] = value
        problems: list[str] = []

        def put_back(name, index, node, record_id, path=()):
            if isinstance(node, dict):
                return {k: put_back(name, index, v, record_id, (*path, k)) for k, v in node.items()}
            if isinstance(node, list):
                return [put_back(name, index, v, record_id, (*path, i)) for i, v in enumerate(node)]
            if is_marker(node):
                key = (name, repr(record_id), path, node)
                if key in known:
                    return known[key]
                problems.append(f"collection {name!r}, record {index + 1} (id {record_id!r}): field "
                                f"{'.'.join(map(str, path))!r}: {node} is a redacted secret this mock does not "
                                f"hold now; download the state with ?secrets=include (it needs --admin-token) "
                                f"to keep it")
            return node

        restored = {}
        for name, records in collections.items():
            if not isinstance(records, list):
                restored[name] = records
                continue
            restored[name] = [put_back(name, i, r, r.get("id") if isinstance(r, dict) else None)
                              for i, r in enumerate(records)]
        return restored, problems
