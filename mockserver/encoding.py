"""JSON out (the pipeline's respond stage): orjson (a fifth of a list answer's time went to the
standard library's encoder), and the standard library for what orjson refuses (integers past 64
bits). Types JSON lacks are written as the mock has always written them: a datetime in ISO 8601
(a naive one taken as UTC, with a "Z"), a date in ISO 8601, a Decimal as a number, a UUID as text;
keys that are not strings as text. Every answer ends in a newline."""

from __future__ import annotations

import datetime
import decimal
import json
import uuid

import orjson

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def _default(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat("T") if value.tzinfo else value.isoformat("T") + "Z"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class _Encoder(json.JSONEncoder):
    def default(self, o):
        return _default(o)


def dumps(data) -> str:
    try:
        return orjson.dumps(data, default=_default, option=_OPTIONS).decode() + "\n"
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(data, cls=_Encoder) + "\n"
