"""The route stage: which operation of the spec a request is for.

The spec's paths are tried in the order the document writes them, each of its methods a route (a
GET route answers HEAD too); a path template's `{name}` matches one segment (`[^/]+`, whatever the
parameter's type: a typed parameter is checked by validation, after authentication, as a 400
naming it, not by routing as a bare 404). The first route whose path and method match serves the
request; a path that matches with another method is a 405; a path that matches nothing but would
with its trailing slash added or removed is redirected there (307, as Starlette's router does);
anything else is a 404. The 404s and 405s are the API's own error bodies (errors.py), journaled
with their near misses (journal.py). Where the spec writes trailing slashes, a slashless path is
redirected (301) by the control surface first (admin.py).
"""

from __future__ import annotations

import dataclasses
import re

from starlette.datastructures import URL

FOUND, NOT_ALLOWED, REDIRECT, NOT_FOUND = "found", "not allowed", "redirect", "not found"


@dataclasses.dataclass(frozen=True)
class Match:
    kind: str
    target: object = None           # FOUND: what the route was added with
    path_params: dict | None = None  # FOUND: the template's names (`-` written `_`) and their segments
    location: str | None = None     # REDIRECT: where


def template_pattern(path: str) -> re.Pattern:
    """`/events/{id}` -> a regex with a named group per parameter (one segment each)."""
    parts = re.split(r"(\{[^}]+\})", path)
    pattern = "".join(f"(?P<{part[1:-1].replace('-', '_')}>[^/]+)" if part.startswith("{") else re.escape(part)
                      for part in parts)
    return re.compile("^" + pattern + "$")


class Router:
    def __init__(self):
        self.routes: list[tuple[re.Pattern, frozenset[str], object]] = []

    def add(self, path: str, method: str, target) -> None:
        methods = {method.upper()}
        if "GET" in methods:
            methods.add("HEAD")
        self.routes.append((template_pattern(path), frozenset(methods), target))

    def match(self, scope) -> Match:
        method, path = scope["method"], scope["path"]
        partial = False
        for pattern, methods, target in self.routes:
            found = pattern.match(path)
            if found is not None:
                if method in methods:
                    return Match(FOUND, target, found.groupdict())
                partial = True
        if partial:
            return Match(NOT_ALLOWED)
        if path != "/":
            other = path.rstrip("/") if path.endswith("/") else path + "/"
            if any(pattern.match(other) for pattern, _, _ in self.routes):
                return Match(REDIRECT, location=str(URL(scope={**scope, "path": other})))
        return Match(NOT_FOUND)
