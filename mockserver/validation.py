"""Request validation from the spec, reporting the field at fault in the API's own words.

Connexion's validators report a flat text; these subclasses raise `ApiError` with the field
name, and use the document's own message where the spec gives one (`x-messages`).
Validators are compiled once per schema, not once per request.
"""

from __future__ import annotations

import json
import typing as t

from connexion.datastructures import MediaTypeDict
from connexion.json_schema import Draft4RequestValidator
from connexion.utils import is_null, is_nullable
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from .errors import ApiError

# Draft 4's formats plus the OpenAPI ones Draft 4 lacks (an impossible date or a malformed
# uuid is a bad request, not an unknown value)
FORMAT_CHECKER = FormatChecker(formats=[*Draft4Validator.FORMAT_CHECKER.checkers, "date", "uuid"])


_VALIDATORS: dict[int, tuple[dict, Draft4RequestValidator]] = {}


def compiled(schema: dict):
    """One validator per schema object, built on first use. Connexion hands the validators the
    same (resolved) schema objects on every request, so their identity is the cache key."""
    hit = _VALIDATORS.get(id(schema))
    if hit is None or hit[0] is not schema:
        hit = (schema, Draft4RequestValidator(schema, format_checker=FORMAT_CHECKER))
        _VALIDATORS[id(schema)] = hit
    return hit[1]


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
    own = (schema.get("x-messages") or {}).get(error.validator)
    if own is None and error.validator in ("format", "pattern"):
        own = (schema.get("x-messages") or {}).get("pattern" if error.validator == "format" else "format")
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


class BodyValidator(JSONRequestBodyValidator):
    @property
    def _validator(self):
        return compiled(self._schema)

    async def _parse(self, stream, scope):
        raw = b"".join([message async for message in stream])
        try:
            text = raw.decode(self._encoding)
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

    def _validate(self, body):
        if body is None:
            if self._required and not self._nullable:
                raise ApiError(400, "Request body is required")
            return None
        raise_first(self._validator.iter_errors(body))
        return None

    async def wrap_receive(self, receive, *, scope):
        try:
            return await super().wrap_receive(receive, scope=scope)
        except RecursionError:
            raise ApiError(400, "Request body nested too deeply") from None


# where each kind of parameter is read from; a location is only read when the operation has one
_SOURCES = {
    "path": lambda request: (lambda name: request.path_params.get(name.replace("-", "_"))),
    "query": lambda request: request.query_params.get,
    "header": lambda request: request.headers.get,
    "cookie": lambda request: request.cookies.get,
}


class ParamsValidator(ParameterValidator):
    def validate_request(self, request):
        for location, source in _SOURCES.items():
            params = self.parameters.get(location)
            if params:
                value_of = source(request)
                for param in params:
                    self._check(location, param, value_of(param["name"]))

    def _check(self, location, param, value):
        name = param["name"]
        schema = param.get("schema", {})
        if value is None:
            if param.get("required"):
                message = (schema.get("x-messages") or {}).get("required") or f"{name} is required"
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
            own = (schema.get("x-messages") or {}).get(error.validator)
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


VALIDATORS = {**VALIDATOR_MAP, "parameter": ParamsValidator,
              "body": MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": BodyValidator})}
