"""Path templates (`/events/{id}`): as regular expressions, and normalised for comparison."""

from __future__ import annotations

import re

_PARAMETER = re.compile(r"\{([^}]+)\}")


def pattern(template: str, *, named: bool = False) -> re.Pattern:
    """A regex matching the URL paths `template` serves; with `named`, each parameter is a named
    group (`{id}` -> `(?P<id>[^/]+)`), which needs parameter names that are Python identifiers."""
    segment = r"(?P<\1>[^/]+)" if named else "[^/]+"
    return re.compile("^" + _PARAMETER.sub(segment, template) + "$")


def normalised(template: str) -> str:
    """The template with its parameter names left out (`/events/{}`): two templates differing only
    in parameter names serve the same paths."""
    return _PARAMETER.sub("{}", template)
