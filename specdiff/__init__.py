"""specdiff: what changed between two versions of an OpenAPI spec, and does it break clients of the
old one? `compare(old, new)` lists every Change (ERR first, then WARN, then INFO), each under
oasdiff's rule id where oasdiff has the rule; `load(path)` reads a document (a file, `-`, a URL or a
git revision `REV:path`) or raises SpecError; the renderers turn a list of changes into a report.

Modules: rules (the table of rules), checks (the predicates it is written with), walk (the
comparison), load (reading an input), render (the output formats), gate (ignore files, severity
overrides, --fail-on), coverage (our rules against oasdiff's), cli (`specdiff`, `contract-test diff`,
`python -m specdiff`).
"""

from .load import SpecError, load
from .rules import RULES, Rule
from .walk import Change, compare

__all__ = ["RULES", "Change", "Rule", "SpecError", "compare", "load"]
