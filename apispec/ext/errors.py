"""Each API's own error body and words: `x-error-body` (the template per status, on the spec and
per operation), `x-error-codes` (the code word per status) and `x-messages` (the document's own
message per validation keyword, on a schema)."""

from __future__ import annotations

from . import value


def template(contract, status: int, operation=None):
    """The `x-error-body` template for `status`: the operation's, else the spec's; a status
    without its own entry takes `default`."""
    sources = [value(operation, "error-body") if operation is not None else None, value(contract, "error-body")]
    for source in sources:
        if source and str(status) in source:
            return source[str(status)]
    for source in sources:
        if source and "default" in source:
            return source["default"]
    raise LookupError(f"{contract.slug}: no x-error-body")


def default_template(contract, operation=None):
    """The `default` error body template (the operation's, else the spec's), or None."""
    for source in (value(operation, "error-body") if operation is not None else None, value(contract, "error-body")):
        if source and "default" in source:
            return source["default"]
    return None


def bodies(node) -> dict | None:
    """The `x-error-body` templates (by status) of a spec or operation, as written."""
    return value(node, "error-body")


def declared(spec: dict) -> bool:
    """Whether a spec (raw) declares its error body."""
    return value(spec, "error-body") is not None


def codes(contract) -> dict:
    """{status: code word} (`x-error-codes`), empty when the API has none."""
    return value(contract, "error-codes", {})


def messages(schema) -> dict:
    """{keyword: the document's message} a schema carries (`x-messages`)."""
    return value(schema, "messages", {}) if isinstance(schema, dict) else {}


def message(schema, keyword: str) -> str | None:
    """The document's own message for a failed `keyword` (`required`, `pattern`, `unique`...)."""
    return messages(schema).get(keyword)
