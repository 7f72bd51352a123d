"""specdiff: what changed between two versions of an OpenAPI spec, and does it break clients of the
old one? `compare(old, new)` lists every Change (breaking ones first); `load(path)` reads a document
or raises SpecError; the renderers turn a list of changes into a report.

Modules: rules (the table of breaking-change rules), walk (the comparison), load (reading an input),
render (text, markdown, json), cli (`specdiff`, `contract-test diff`, `python -m specdiff`).
"""

from .load import SpecError, load
from .render import FORMATS, render_json, render_markdown, render_text
from .rules import RULES, Rule
from .walk import Change, compare

__all__ = ["FORMATS", "RULES", "Change", "Rule", "SpecError", "compare", "load", "render_json",
           "render_markdown", "render_text"]
