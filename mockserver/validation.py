"""Validation from the spec (the pipeline's params, body and response stages), reporting the
field at fault in the API's own words.

jsonschema's Draft 4 validator does the checking, extended for OpenAPI 3.0's `nullable` (a null
passes `type` and `enum` where the schema allows it) and, on responses, `writeOnly` (a property the
server must not send). The schemas are the spec's own, `$ref`s resolved, so a failure's schema
still carries `x-messages`: the document's own message for that check, used where the spec gives
one. (`to_json_schema`, which the contract suite validates with, drops `x-` keys and turns
`nullable` into a null type, which words a failure otherwise.) Validators are compiled once per
schema, not once per request.
"""

from __future__ import annotations

import fnmatch
import json
import typing as t

from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.validators import extend

from apispec import ext

from .errors import ApiError

JSON = "application/json"

# Draft 4's formats plus the OpenAPI ones Draft 4 lacks (an impossible date or a malformed
# uuid is a bad request, not an unknown value)
FORMAT_CHECKER = FormatChecker(formats=[*Draft4Validator.FORMAT_CHECKER.checkers, "date", "uuid"])


def _nullable(check):
    """A Draft 4 check that lets a null through where the schema is `nullable` (OpenAPI 3.0)."""

    def nullable_check(validator, value, instance, schema):
        if instance is None and schema.get("nullable"):
            return
        yield from check(validator, value, instance, schema)

    return nullable_check


def _write_only(validator, value, instance, schema):
    yield ValidationError("Property is write-only")


_NULLABLE = {"type": _nullable(Draft4Validator.VALIDATORS["type"]),
             "enum": _nullable(Draft4Validator.VALIDATORS["enum"])}
RequestValidator = extend(Draft4Validator, _NULLABLE)
ResponseValidator = extend(Draft4Validator, {**_NULLABLE, "writeOnly": _write_only})

_COMPILED: dict[tuple[int, type], tuple[dict, Draft4Validator]] = {}


def compiled(schema: dict, kind=RequestValidator, format_checker=FORMAT_CHECKER) -> Draft4Validator:
    """One validator per schema object (the pipeline holds the same resolved schemas for the
    process's life, so their identity is the cache key)."""
    key = (id(schema), kind)
    hit = _COMPILED.get(key)
    if hit is None or hit[0] is not schema:
        hit = (schema, kind(schema, format_checker=format_checker))
        _COMPILED[key] = hit
    return hit[1]


def is_nullable(definition: dict) -> bool:
    """A parameter or media type whose schema allows null."""
    return bool(definition.get("schema", definition).get("nullable", False))


def is_null(value) -> bool:
    """A null, or a parameter written `null` or `None`."""
    return value is None or (hasattr(value, "strip") and value.strip() in ("null", "None"))


def media_type_matches(mime: str, ranges: t.Iterable[str]) -> str | None:
    """The media type or range of `ranges` that `mime` falls under, the most specific first."""
    for candidate in sorted(ranges, key=lambda key: ("*" not in key, key), reverse=True):
        if fnmatch.fnmatchcase(mime, candidate):
            return candidate
    return None


def split_content_type(value: str | None) -> tuple[str | None, str | None]:
    """`application/json; charset=utf-8` -> (`application/json`, `utf-8`)."""
    if value is None:
        return None, None
    mime, _, parameters = value.partition(";")
    encoding = None
    for parameter in parameters.split(";"):
        if parameter.startswith("charset="):
            encoding = parameter[len("charset="):]
    return mime, encoding


# ---- messages ---------------------------------------------------------------------------------------

def _field_of(error: ValidationError) -> tuple[str | None, dict]:
    """The offending field's name (dotted path) and its schema."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = next((name for name in error.validator_value
                        if isinstance(error.instance, dict) and name not in error.instance),
                       None)
        if missing is not None:
            schema = error.schema.get("properties", {}).get(missing, {})
            return ".".join([*path, missing]), schema
    return (".".join(path) or None), error.schema


def explain(error: ValidationError, field: str | None, schema: dict, where: str = "") -> str:
    """A message naming the field: the document's own words when the spec has them."""
    own = ext.errors.message(schema, error.validator)
    if own is None and error.validator in ("format", "pattern"):
        own = ext.errors.message(schema, "pattern" if error.validator == "format" else "format")
    if own:
        return own.replace("{value}", str(error.instance))
    if error.validator == "required":
        return f"{field} is required"
    subject = f"{where}{field}" if field else (where.strip() or "request body")
    return f"{subject}: {error.message}"


def raise_first(errors: t.Iterable[ValidationError], where: str = "") -> None:
    error = best_match(errors)
    if error is None:
        return
    # The shallowest failure is the one a client can act on; best_match prefers those.
    field, schema = _field_of(error)
    raise ApiError(400, explain(error, field, schema, where), field=field)


# ---- the body -----------------------------------------------------------------------------------------

class BodyValidator:
    """A JSON request body: read (a missing one is the schema's default, or 400 when the body is
    required), parsed (400 for what is not UTF-8 or not JSON) and validated (400 naming the field)."""

    def __init__(self, body: dict, media_type: dict):
        self.schema = media_type.get("schema", {})
        self.required = bool(body.get("required", False))
        self.nullable = is_nullable(media_type)
        self.default = self.schema.get("default")

    def missing(self, encoding: str) -> bytes | None:
        """A body sent without a stated length: the schema's default stands in for it (None: read
        what comes), or, with none and the body required, a 400."""
        if self.default is None:
            if self.required:
                raise ApiError(400, "RequestBody is required")
            return None
        try:
            return json.dumps(self.default).encode(encoding)
        except LookupError:
            raise ApiError(400, f"Unknown charset {encoding}") from None

    def parse(self, raw: bytes, encoding: str):
        """The body as JSON, or None for an empty one."""
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise ApiError(400, "Request body is not valid UTF-8") from None
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ApiError(400, f"Malformed JSON in request body: {exc}") from None
        except RecursionError:
            raise ApiError(400, "Malformed JSON in request body: nested too deeply") from None

    def validate(self, body) -> None:
        if body is None:
            if self.nullable:
                return
            if self.required:
                raise ApiError(400, "Request body is required")
            return
        try:
            raise_first(compiled(self.schema).iter_errors(body))
        except RecursionError:
            raise ApiError(400, "Request body nested too deeply") from None

    def argument(self, body):
        """What the handler gets: the body, or (none sent) a copy of the schema's default, else {}."""
        if body is None:
            return None if self.nullable else json.loads(json.dumps(self.schema.get("default", {})))
        return body


# ---- parameters ---------------------------------------------------------------------------------------

_TYPES = {"integer": int, "number": float, "string": str, "array": list, "object": dict}


def _boolean(value):
    if isinstance(value, bool):
        return value
    if not hasattr(value, "lower") or value.lower() not in ("true", "false"):
        raise ValueError("Invalid boolean value")
    return value.lower() == "true"


def typed(value, definition: dict):
    """A parameter's value as its schema's type (what a handler gets; validated before)."""
    schema = definition.get("schema", definition)
    if is_nullable(schema) and is_null(value):
        return None
    if schema.get("type") == "array":
        kind = (schema.get("items") or {}).get("type")
        return [_cast(part, kind) for part in value]
    return _cast(value, schema.get("type"))


def _cast(value, kind):
    if kind == "boolean":
        return _boolean(value)
    cast = _TYPES.get(kind)
    return cast(value) if cast is not None else value


class ParamsValidator:
    """Path, query, header and cookie parameters, each against its schema, in that order."""

    def __init__(self, parameters: list[dict]):
        self.parameters: dict[str, list[dict]] = {}
        for param in parameters:
            self.parameters.setdefault(param["in"], []).append(param)

    def validate(self, path: dict, query: dict, headers, cookies) -> None:
        """`path` and `query`: the values as the URI parser resolved them; `headers`, `cookies`:
        mappings (read only for a location the operation has parameters in)."""
        for location, values in (("path", path), ("query", query), ("header", headers), ("cookie", cookies)):
            params = self.parameters.get(location)
            if params:
                for param in params:
                    name = param["name"]
                    key = name.replace("-", "_") if location == "path" else name
                    self._check(location, param, values.get(key))

    def _check(self, location, param, value):
        name = param["name"]
        schema = param.get("schema", {})
        if value is None:
            if param.get("required"):
                message = ext.errors.message(schema, "required") or f"{name} is required"
                raise ApiError(400, message, field=name)
            return
        # a parameter's verdict depends on its definition and value alone: a value seen before
        # (the same page, filter or id asked again) is not validated again
        key = (id(param), location, type(value), value) if isinstance(value, str | int | float | bool) else None
        seen = _VERDICTS.get(key) if key is not None else None
        if seen is not None and seen[0] is param:
            if seen[1] is not None:
                raise ApiError(400, seen[1], field=name)
            return
        try:
            self._judge(location, param, value)
        except ApiError as exc:
            if key is not None:
                _remember(key, param, exc.message)
            raise
        if key is not None:
            _remember(key, param, None)

    def _judge(self, location, param, value):
        name = param["name"]
        schema = param.get("schema", {})
        if is_nullable(param) and is_null(value):
            return
        try:
            value = _coerce(schema, value)
        except ValueError:
            raise ApiError(400, f"{location} parameter {name}: {value!r} is not of type "
                                f"'{schema.get('type')}'", field=name) from None
        errors = list(compiled(schema).iter_errors(value))
        if errors:
            error = best_match(errors)
            own = ext.errors.message(schema, error.validator)
            message = own.replace("{value}", str(value)) if own else \
                f"{location} parameter {name}: {error.message}"
            raise ApiError(400, message, field=name)


_VERDICTS: dict[tuple, tuple[dict, str | None]] = {}
_VERDICTS_KEPT = 50_000


def _remember(key: tuple, param: dict, message: str | None) -> None:
    if len(_VERDICTS) >= _VERDICTS_KEPT:
        _VERDICTS.clear()
    _VERDICTS[key] = (param, message)


def _coerce(schema: dict, value):
    kind = schema.get("type")
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if kind == "boolean":
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
        raise ValueError(value)
    return value


# ---- responses ----------------------------------------------------------------------------------------

class ResponseCheck:
    """An answer against the operation's documented responses: its content type (below 400), the
    headers a response requires, its body against the schema. A failure is the API's 500."""

    def __init__(self, operation_spec: dict, produces: list[str]):
        self.responses = {str(status): response for status, response in operation_spec.get("responses", {}).items()}
        self.produces = produces

    def check(self, status: int, headers: dict[str, str], body: bytes | None) -> None:
        for _kind, message in self.problems(status, headers, body):
            raise ApiError(500, message)

    def problems(self, status: int, headers: dict[str, str], body: bytes | None):
        """What is off in the answer, each as (kind, message): kind `content_type`, `headers` or
        `schema` (the mock's check stops at the first; the proxy reports each)."""
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        mime, encoding = split_content_type(content_type)
        if mime is None:
            mime = self.produces[0] if self.produces else "application/octet-stream"
        encoding = encoding or "utf-8"
        produced = [p.lower() for p in self.produces]
        if status < 400 and produced and media_type_matches(mime.lower(), produced) is None:
            yield "content_type", f"Invalid Response Content-type ({mime}), expected {self.produces}"
            return
        definition = self.responses.get(str(status), self.responses.get("default", {}))
        required = {name.lower() for name, header in (definition.get("headers") or {}).items()
                    if header.get("required", False)}
        missing = sorted(required - {name.lower() for name in headers})
        if missing:
            yield "headers", ("Keys in response header don't match response specification. Difference: "
                              + ", ".join(missing))
        is_json = fnmatch.fnmatchcase(mime, "*/*json")
        if not is_json and mime != "text/plain":
            return
        content = definition.get("content") or {}
        media = content.get(mime, {}) if isinstance(content, dict) else {}
        schema = media.get("schema", {})
        try:
            text = (body or b"").decode(encoding)
            instance = json.loads(text) if text else None
        except UnicodeDecodeError as exc:
            yield "schema", str(exc)
            return
        except json.JSONDecodeError as exc:
            if is_json:
                yield "schema", str(exc)
                return
            instance = text
        if instance is None and is_nullable(definition):
            return
        for error in compiled(schema, ResponseValidator, Draft4Validator.FORMAT_CHECKER).iter_errors(instance):
            path = ".".join(str(item) for item in error.path)
            yield "schema", (f"Response body does not conform to specification. {error.message}"
                             + (f" - '{path}'" if path else ""))
            return
