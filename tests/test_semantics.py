"""What each `x-filter` op means (apispec.ext.filters): the mock filters with it and the
contract suite judges any server's lists with it, so each op is pinned here record by record."""

from __future__ import annotations

import pytest

from apispec.ext.filters import matcher, matches

EVENT = {"id": 1, "status": "active", "title": "Green Summit", "description": "Solar and wind",
         "tags": ["Climate", "energy"], "online": False, "startDate": "2026-06-15T09:00:00Z",
         "endDate": "2026-06-17T18:00:00Z", "event": "https://x.test/api/events/abc-1/", "count": 3,
         "product": "https://x.test/api/products/p1/"}
PRODUCTS = {"https://x.test/api/products/p1/": {"id": "p1", "event": "https://x.test/api/events/abc-9/"}}


@pytest.mark.parametrize("rule, value, expected", [
    ({"op": "eq", "field": "status"}, "active", True),
    ({"op": "eq", "field": "status"}, "Active", False),
    ({"op": "eq", "field": "count"}, "3", True),                 # query values are text
    ({"op": "eq", "field": "count"}, 3, True),
    ({"op": "eq", "field": "online"}, "false", True),            # a boolean field against text
    ({"op": "eq", "field": "online"}, "true", False),
    ({"op": "eq", "field": "online"}, False, True),
    ({"op": "eq", "field": "missing"}, "x", False),
    ({"op": "eq", "field": "status", "all": "any"}, "any", True),  # the value meaning "no filter"
    ({"op": "ieq", "field": "status"}, "ACTIVE", True),
    ({"op": "ieq", "field": "status"}, "draft", False),
    ({"op": "url-id", "field": "event"}, "abc-1", True),
    ({"op": "url-id", "field": "event"}, "abc", False),
    ({"op": "url-id", "field": "missing"}, "abc-1", False),
    ({"op": "url-id", "field": "product.event"}, "abc-9", True),  # through the related record
    ({"op": "url-id", "field": "product.event"}, "abc-1", False),
    ({"op": "search", "fields": ["title", "description"]}, "WIND", True),
    ({"op": "search", "fields": ["title", "description"]}, "hydro", False),
    ({"op": "any", "field": "tags"}, "climate, music", True),
    ({"op": "any", "field": "tags"}, "music", False),
    ({"op": "gte", "field": "startDate"}, "2026-06-15", True),
    ({"op": "gte", "field": "startDate"}, "2026-06-16", False),
    ({"op": "lte", "field": "endDate"}, "2026-06-17T18:00:00Z", True),
    ({"op": "lte", "field": "endDate"}, "not a date", False),
    ({"op": "date-within", "fields": ["startDate", "endDate"]}, "2026-06-16", True),
    ({"op": "date-within", "fields": ["startDate", "endDate"]}, "2026-06-18", False),
])
def test_filter_ops(rule, value, expected):
    resolve = PRODUCTS.get
    assert matches(rule, EVENT, value, resolve) is expected
    keep = matcher(rule, value, resolve)  # built once, asked of record after record
    for record in (EVENT, {"id": 2}, EVENT):
        assert keep(record) is matches(rule, record, value, resolve)


def test_unknown_op_is_refused():
    with pytest.raises(ValueError, match="unknown x-filter op"):
        matcher({"op": "near", "field": "x"}, "1")
