"""The `Prefer` header (Prism's vocabulary): any documented answer on demand, so a frontend can
show its error states, an alternative example or varied data without breaking the mock's data.

    Prefer: code=NNN         the operation's documented answer for that status
    Prefer: example=NAME     a named example (the media type's `examples` map) of that status
                             (the `code=` one, else the success status)
    Prefer: dynamic=true     a body generated from that status's response schema
    Prefer: seed=N           with dynamic=true: the same N gives the same body
    Prefer: delay=MS         answer MS milliseconds late (at most 60000); see faults.py
    Prefer: fault=NAME       a connection fault instead of an answer; see faults.py

Preferences combine, separated by commas or semicolons (`Prefer: code=400, example=invalidMonth`).
The request is still authenticated, rate limited and validated first: a missing key is a 401
whatever it prefers. Then, instead of running the operation (nothing changes in the store):

    the success status, alone        the operation runs as usual (the header changes nothing)
    another documented status        its documented example, or for an error without one the
                                     API's own error body ("Forced by Prefer: code=503")
    example= / dynamic=              that example, or a generated body, for the status
    a status it does not document,   400 in the API's error body, naming what it does document
    an example it does not have

A malformed preference (an unknown name, a value of the wrong form, one given twice) is a 400
naming the accepted forms. The preferences RFC 7240 defines (`return`, `respond-async`, `wait`,
`handling`) are ignored, as that RFC asks of a server that does not act on them.
"""

from __future__ import annotations

import dataclasses
import math
import random
import re

from . import generate
from .errors import ApiError, fixed_headers

ACCEPTED = ("code=NNN (a documented status), example=NAME (a named example of it), dynamic=true|false, "
            "seed=N (with dynamic=true), delay=MS (0-60000), fault=NAME (CONNECTION_RESET_BY_PEER, "
            "EMPTY_RESPONSE, MALFORMED_RESPONSE_CHUNK, RANDOM_DATA_THEN_CLOSE)")
FAULTS = ("CONNECTION_RESET_BY_PEER", "EMPTY_RESPONSE", "MALFORMED_RESPONSE_CHUNK", "RANDOM_DATA_THEN_CLOSE")
MAX_DELAY_MS = 60_000
_IGNORED = frozenset({"return", "respond-async", "wait", "handling"})  # RFC 7240's own
_TOKEN = re.compile(r'^\s*([A-Za-z][A-Za-z0-9_-]*)\s*(?:=\s*("[^"]*"|[^\s"]*))?\s*$')
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


@dataclasses.dataclass(frozen=True)
class Preferences:
    code: int | None = None
    example: str | None = None
    dynamic: bool = False
    seed: int | None = None
    delay: int | None = None  # milliseconds
    fault: str | None = None

    def runs_operation(self, success: int) -> bool:
        """Whether the operation runs as usual (nothing asks for another answer)."""
        return (self.code is None or self.code == success) and self.example is None and not self.dynamic


NONE = Preferences()


class MalformedPrefer(ValueError):
    pass


def parse(value: str | None) -> Preferences:
    """The preferences of a `Prefer` header value; MalformedPrefer naming what was wrong."""
    if not value:
        return NONE
    found: dict = {}
    for token in re.split(r"[,;]", value):
        if not token.strip():
            continue
        match = _TOKEN.match(token)
        if not match:
            raise MalformedPrefer(f"'{token.strip()}' is not a preference (name=value)")
        name, raw = match.group(1).lower(), match.group(2)
        if name in _IGNORED:
            continue
        text = raw.strip('"') if raw is not None else None
        if name not in _PARSERS:
            raise MalformedPrefer(f"unknown preference '{token.strip()}'")
        if name in found:
            raise MalformedPrefer(f"{name}= given twice")
        if not text:
            raise MalformedPrefer(f"{name}= needs a value")
        found[name] = _PARSERS[name](text)
    if "seed" in found and not found.get("dynamic"):
        raise MalformedPrefer("seed= goes with dynamic=true")
    return Preferences(**found)


def _code(text):
    if not re.fullmatch(r"[1-5]\d\d", text):
        raise MalformedPrefer(f"code={text} is not an HTTP status")
    return int(text)


def _example(text):
    if not _NAME.match(text):
        raise MalformedPrefer(f"example={text} is not an example name")
    return text


def _dynamic(text):
    if text.lower() not in ("true", "false"):
        raise MalformedPrefer(f"dynamic={text}: true or false")
    return text.lower() == "true"


def _seed(text):
    if not re.fullmatch(r"\d{1,18}", text):
        raise MalformedPrefer(f"seed={text} is not a whole number")
    return int(text)


def _delay(text):
    if not re.fullmatch(r"\d{1,6}", text) or int(text) > MAX_DELAY_MS:
        raise MalformedPrefer(f"delay={text}: milliseconds from 0 to {MAX_DELAY_MS}")
    return int(text)


def _fault(text):
    if text.upper() not in FAULTS:
        raise MalformedPrefer(f"fault={text} is not one of {', '.join(FAULTS)}")
    return text.upper()


_PARSERS = {"code": _code, "example": _example, "dynamic": _dynamic, "seed": _seed, "delay": _delay,
            "fault": _fault}


def header_value(headers) -> str | None:
    """The `Prefer` header of a request's headers (Starlette's or an ASGI list), all of its lines."""
    if isinstance(headers, list):
        values = [v.decode("latin-1") for k, v in headers if k.lower() == b"prefer"]
    else:
        values = headers.getlist("prefer") if hasattr(headers, "getlist") else [headers.get("prefer")]
        values = [v for v in values if v]
    return ", ".join(values) if values else None


def preferences(request) -> Preferences:
    """The request's preferences; a malformed header is the API's 400 naming the accepted forms."""
    headers = getattr(request, "headers", None)
    value = header_value(headers) if headers is not None else None
    if not value:
        return NONE
    try:
        return parse(value)
    except MalformedPrefer as exc:
        raise ApiError(400, f"Malformed Prefer header: {exc}. Accepted: {ACCEPTED}", field="Prefer") from None


def preferred_code(request) -> int | None:
    """The status a `Prefer` header asks for, if it asks for one."""
    return preferences(request).code


def answer(operation, prefs: Preferences, window=None, reason: str | None = None):
    """The answer `prefs` ask for, as (body, status, headers); raises the API's error (saying `reason`
    where a forced error has no example)."""
    status = prefs.code or operation.success_status()
    response = operation.response(status)
    where = f"{operation.method.upper()} {operation.path}"
    if response is None:
        documented = ", ".join(sorted(str(s) for s in operation.spec["responses"]))
        raise ApiError(400, f"Prefer: code={status}: {where} documents no {status} answer "
                            f"(it documents {documented})", field="Prefer")
    headers = fixed_headers(response)
    if "Retry-After" in (response.get("headers") or {}):
        headers["Retry-After"] = str(math.ceil(window.window) if window is not None else 60)
    media = (response.get("content") or {}).get("application/json")
    if prefs.example is not None:
        examples = (media or {}).get("examples") or {}
        if prefs.example not in examples:
            names = ", ".join(sorted(examples)) or "none: its example, if any, is answered without example="
            raise ApiError(400, f"Prefer: example={prefs.example}: the {status} answer of {where} has no example "
                                f"of that name (named examples: {names})", field="Prefer")
        return _with_required_headers(examples[prefs.example].get("value"), status, headers, response, prefs)
    if status == 204 or media is None:
        return None, status, _with_required_headers(None, status, headers, response, prefs)[2]
    if prefs.dynamic:
        rng = random.Random(prefs.seed)
        return _with_required_headers(generate.value(media.get("schema") or {}, rng), status, headers, response,
                                      prefs, rng)
    example = operation.response_example(status)
    if example is not None:
        return _with_required_headers(example, status, headers, response, prefs)
    if status >= 400:
        raise ApiError(status, reason or f"Forced by Prefer: code={status}", headers=headers)
    raise ApiError(400, f"Prefer: code={status}: the {status} answer of {where} has no documented example "
                        f"to answer with (Prefer: dynamic=true generates one)", field="Prefer")


def forced(operation, status: int, window=None):
    """The documented answer for `status` (Prefer: code=NNN), as (body, status, headers)."""
    return answer(operation, Preferences(code=status), window)


def _with_required_headers(body, status, headers, response, prefs, rng=None):
    """(body, status, headers) with every header the response requires: its example, else a
    value generated from its schema (rate-limit headers come from the request's own count)."""
    rng = rng or random.Random(prefs.seed or 0)
    for name, header in (response.get("headers") or {}).items():
        if header.get("required") and name not in headers and not name.lower().startswith("x-ratelimit"):
            example = header.get("example", (header.get("schema") or {}).get("example"))
            headers[name] = str(example if example is not None else generate.value(header.get("schema") or {}, rng))
    return body, status, headers
