"""A value valid against an OpenAPI 3.0 schema, drawn from a seeded `random.Random`
(`Prefer: dynamic=true`, with `seed=N` for the same body every time).

hypothesis-jsonschema is not installed beside Schemathesis 4, and Hypothesis cannot be seeded
per call outside a test, so this is a small generator covering what the specs use: `type`,
`enum`, `nullable`, `allOf` (merged), `anyOf`/`oneOf` (one branch), `properties`/`required`/
`additionalProperties`/`minProperties`, `items`/`minItems`/`maxItems`, `minimum`/`maximum`
(and their `exclusive` forms), `minLength`/`maxLength`, `pattern` (drawn from the regex itself),
and the formats `date-time`, `date`, `email`, `uri`, `uuid`.
"""

from __future__ import annotations

import datetime
import random
import re
import uuid

try:  # Python 3.11+
    import re._constants as sre_constants
    import re._parser as sre_parse
except ImportError:  # pragma: no cover
    import sre_constants
    import sre_parse

_WORDS = ("aurora", "summit", "harbor", "meadow", "ember", "lumen", "cedar", "delta", "nova", "atlas",
          "willow", "quartz", "river", "orbit", "sierra", "maple", "comet", "echo", "pixel", "tidal")
_MAX_DEPTH = 8
_MAX_REPEAT = 4


def value(schema: dict, rng: random.Random, depth: int = 0):
    """A JSON value that validates against `schema`."""
    if not isinstance(schema, dict) or not schema:
        return _word(rng)
    if "allOf" in schema:
        return value(_merged(schema), rng, depth)
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            branch = rng.choice(schema[key])
            rest = {k: v for k, v in schema.items() if k != key}
            return value(_merged({"allOf": [rest, branch]}) if rest else branch, rng, depth)
    if "enum" in schema:
        choices = [v for v in schema["enum"] if v is not None or schema.get("nullable")]
        return rng.choice(choices or schema["enum"])
    if schema.get("nullable") and rng.random() < 0.1:
        return None
    kind = schema.get("type") or ("object" if "properties" in schema or "additionalProperties" in schema
                                  else "array" if "items" in schema else "string")
    return _BY_TYPE[kind](schema, rng, depth)


def _merged(schema: dict) -> dict:
    """An `allOf` as one schema: properties and required united, other keywords taken in order."""
    out: dict = {}
    for part in [{k: v for k, v in schema.items() if k != "allOf"}, *schema.get("allOf", [])]:
        if "allOf" in part:
            part = _merged(part)
        for key, item in part.items():
            if key == "properties":
                out["properties"] = {**out.get("properties", {}), **item}
            elif key == "required":
                out["required"] = [*out.get("required", []), *(r for r in item if r not in out.get("required", []))]
            else:
                out.setdefault(key, item)
    return out


def _object(schema, rng, depth):
    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    out = {}
    for name, sub in props.items():
        if name in required or (depth < _MAX_DEPTH and rng.random() < 0.7):
            out[name] = value(sub, rng, depth + 1)
    extra = schema.get("additionalProperties")
    if not props and isinstance(extra, dict) and depth < _MAX_DEPTH:
        for _ in range(rng.randint(1, 3)):
            out[_word(rng)] = value(extra, rng, depth + 1)
    missing = [name for name in props if name not in out]
    while len(out) < schema.get("minProperties", 0) and missing:
        name = missing.pop(0)
        out[name] = value(props[name], rng, depth + 1)
    return out


def _array(schema, rng, depth):
    low = schema.get("minItems", 0)
    high = schema.get("maxItems", max(low, 3))
    if depth >= _MAX_DEPTH:
        high = low
    count = rng.randint(max(low, min(1, high)), high)
    items = [value(schema.get("items") or {}, rng, depth + 1) for _ in range(count)]
    if schema.get("uniqueItems"):
        unique = []
        for item in items:
            if item not in unique:
                unique.append(item)
        items = unique
    return items


def _bounds(schema, default_low, default_high):
    low, high = schema.get("minimum", default_low), schema.get("maximum")
    if high is None:
        high = max(low, 0) + default_high
    return low, high


def _integer(schema, rng, depth):
    low, high = _bounds(schema, 0, 1000)
    low = int(low) + (1 if schema.get("exclusiveMinimum") and low == int(low) else 0)
    high = int(high) - (1 if schema.get("exclusiveMaximum") and high == int(high) else 0)
    return rng.randint(low, max(low, high))


def _number(schema, rng, depth):
    low, high = _bounds(schema, 0, 1000)
    for _ in range(10):
        number = round(rng.uniform(low, high), 2)
        if (low < number or not schema.get("exclusiveMinimum")) and (number < high or not schema.get(
                "exclusiveMaximum")) and low <= number <= high:
            return number
    return (low + high) / 2


def _boolean(schema, rng, depth):
    return rng.random() < 0.5


def _string(schema, rng, depth):
    pattern = schema.get("pattern")
    text = _FORMATS[schema["format"]](rng) if schema.get("format") in _FORMATS else None
    if text is None or (pattern and not re.search(pattern, text)):
        text = from_regex(pattern, rng) if pattern else _sentence(rng, schema)
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if len(text) < low and not pattern:
        text = (text + " " + _sentence(rng, {"minLength": low})).strip()
    if high is not None and len(text) > high and not pattern:
        text = text[:high]
    return text


def _sentence(rng, schema):
    text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 3))).capitalize()
    while len(text) < schema.get("minLength", 0):
        text += " " + rng.choice(_WORDS)
    return text


def _word(rng):
    return rng.choice(_WORDS)


def _datetime(rng) -> datetime.datetime:
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    return start + datetime.timedelta(seconds=rng.randint(0, 3 * 365 * 86400))


_FORMATS = {
    "date-time": lambda rng: _datetime(rng).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "date": lambda rng: _datetime(rng).date().isoformat(),
    "email": lambda rng: f"{_word(rng)}.{_word(rng)}@example.com",
    "uri": lambda rng: f"https://example.com/{_word(rng)}/{rng.randint(1, 999)}",
    "url": lambda rng: f"https://example.com/{_word(rng)}/{rng.randint(1, 999)}",
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
}
_BY_TYPE = {"object": _object, "array": _array, "integer": _integer, "number": _number, "boolean": _boolean,
            "string": _string}


# ---- strings from a regular expression ---------------------------------------------------------

_CATEGORIES = {
    sre_constants.CATEGORY_DIGIT: "0123456789",
    sre_constants.CATEGORY_WORD: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
    sre_constants.CATEGORY_SPACE: " ",
    sre_constants.CATEGORY_NOT_DIGIT: "abcxyz",
    sre_constants.CATEGORY_NOT_WORD: "-.",
    sre_constants.CATEGORY_NOT_SPACE: "abc123",
}
_PRINTABLE = [chr(c) for c in range(0x21, 0x7f)]


def from_regex(pattern: str, rng: random.Random) -> str:
    """A string that `re.search(pattern, ...)` matches (anchors are honoured by construction)."""
    return "".join(_emit(sre_parse.parse(pattern), rng))


def _emit(parsed, rng):
    out = []
    for op, arg in parsed:
        if op == sre_constants.LITERAL:
            out.append(chr(arg))
        elif op == sre_constants.NOT_LITERAL:
            out.append(rng.choice([c for c in "abcxyz0" if ord(c) != arg]))
        elif op == sre_constants.ANY:
            out.append(rng.choice(_PRINTABLE))
        elif op == sre_constants.IN:
            out.append(_in(arg, rng))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            low, high, sub = arg
            high = low + _MAX_REPEAT if high == sre_constants.MAXREPEAT else min(high, low + _MAX_REPEAT)
            for _ in range(rng.randint(low, high)):
                out.extend(_emit(sub, rng))
        elif op == sre_constants.SUBPATTERN:
            out.extend(_emit(arg[-1], rng))
        elif op == sre_constants.BRANCH:
            out.extend(_emit(rng.choice(arg[1]), rng))
        elif op == sre_constants.CATEGORY:
            out.append(rng.choice(_CATEGORIES.get(arg, "a")))
        # AT (anchors) emit nothing; back-references and look-arounds do not occur in the specs
    return out


def _in(items, rng):
    chars: list[str] = []
    negate = False
    for op, arg in items:
        if op == sre_constants.NEGATE:
            negate = True
        elif op == sre_constants.LITERAL:
            chars.append(chr(arg))
        elif op == sre_constants.RANGE:
            chars.extend(chr(c) for c in range(arg[0], min(arg[1], arg[0] + 200) + 1))
        elif op == sre_constants.CATEGORY:
            chars.extend(_CATEGORIES.get(arg, "a"))
    if negate:
        chars = [c for c in _PRINTABLE if c not in chars]
    return rng.choice(chars)
