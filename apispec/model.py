"""One API's contract, read from its spec: what the mock and the contract suite are driven by."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from . import paths
from .ext import errors as error_ext
from .ext import inferred, resource
from .load import load_spec, operations, spec_path
from .refs import deref, resolve


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, with its `$ref`s resolved."""

    operation_id: str
    method: str
    path: str
    spec: dict = field(repr=False)

    @property
    def resource(self) -> dict | None:
        """The operation's `x-resource` (apispec.ext.resource), or None."""
        return resource.of(self)

    @functools.cached_property
    def parameters(self) -> list[dict]:
        return list(self.spec.get("parameters", []))

    def success_status(self) -> int:
        """The 2xx the operation answers with: the lowest, less any `x-alternative` (an answer the
        document allows that the mock does not give)."""
        return min(int(s) for s, r in self.spec["responses"].items()
                   if str(s).startswith("2") and not inferred.is_alternative(r))

    def response(self, status: int | str) -> dict | None:
        return self.spec["responses"].get(str(status))

    def response_schema(self, status: int | str | None = None) -> dict:
        response = self.response(status or self.success_status()) or {}
        media = response.get("content", {}).get("application/json", {})
        return media.get("schema", {})

    def response_example(self, status: int | str | None = None):
        """The documented example of a response: its `example`, else the first of its `examples`."""
        response = self.response(status or self.success_status()) or {}
        media = response.get("content", {}).get("application/json", {})
        if "example" in media:
            return media["example"]
        return next((e["value"] for e in (media.get("examples") or {}).values()
                     if isinstance(e, dict) and "value" in e), None)

    def body_schema(self) -> dict:
        body = self.spec.get("requestBody") or {}
        return body.get("content", {}).get("application/json", {}).get("schema", {})


class Contract:
    """A spec, loaded once, with lookups for what the mock reads from it."""

    def __init__(self, slug_or_path: str):
        self.path = spec_path(slug_or_path).resolve()
        self.raw = load_spec(str(self.path))
        self.slug = slug_of(self.raw) or self.path.stem
        self.operations: dict[str, Operation] = {}
        for method, path, op in operations(self.raw):
            resolved = deref(self.raw, op)
            resolved.setdefault("security", self.raw.get("security", []))
            # parameters declared on the path item apply to each of its operations
            shared = deref(self.raw, self.raw["paths"][path].get("parameters", []))
            own = {(p["name"], p["in"]) for p in resolved.get("parameters", [])}
            resolved["parameters"] = [*resolved.get("parameters", []),
                                      *(p for p in shared if (p["name"], p["in"]) not in own)]
            self.operations[op["operationId"]] = Operation(op["operationId"], method, path, resolved)

    @functools.cached_property
    def base_path(self) -> str:
        """The longest path prefix every operation shares (`/v1`, `/api`)."""
        parts = [p.strip("/").split("/") for p in (op.path for op in self.operations.values())]
        common = []
        for segments in zip(*parts, strict=False):
            if len(set(segments)) != 1 or segments[0].startswith("{"):
                break
            common.append(segments[0])
        return "/" + "/".join(common[:1]) if common else ""

    def default_port(self) -> int:
        for server in self.raw.get("servers", []):
            url = server["url"]
            if url.startswith("http://127.0.0.1:"):
                return int(url.rsplit(":", 1)[1].split("/")[0])
        raise LookupError(f"{self.slug}: no local server in spec")

    @functools.cached_property
    def _path_patterns(self) -> list[tuple[re.Pattern, str]]:
        return [(paths.pattern(path), path) for path in self.raw.get("paths", {})]

    def methods_at(self, url_path: str) -> list[str]:
        """The methods the spec defines on the path that `url_path` matches."""
        for pattern, path in self._path_patterns:
            if pattern.match(url_path):
                return [op.method for op in self.operations.values() if op.path == path]
        return []

    def operation_at(self, method: str, url_path: str) -> Operation | None:
        """The operation serving `method` on the path that `url_path` matches, if any."""
        for pattern, path in self._path_patterns:
            if pattern.match(url_path):
                return next((op for op in self.operations.values()
                             if op.path == path and op.method.upper() == method.upper()), None)
        return None

    def security_scheme(self, name: str) -> dict:
        return resolve(self.raw, self.raw["components"]["securitySchemes"][name])

    def error_template(self, status: int, operation: Operation | None = None):
        """The API's error body template for `status` (apispec.ext.errors)."""
        return error_ext.template(self, status, operation)


def slug_of(raw: dict) -> str | None:
    """The short name a spec gives itself (`info.x-slug`: namak, amarevents...)."""
    return (raw.get("info") or {}).get("x-slug")


@functools.cache
def contract(slug_or_path: str) -> Contract:
    return Contract(slug_or_path)

