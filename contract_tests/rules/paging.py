"""Paging (`x-pagination`): pages hold no more than asked, their metadata agrees with the data,
and a full page tells that more follow."""

from __future__ import annotations

import math

import requests

from apispec import ext

from .helpers import (
    answer_json,
    attempt,
    fail,
    is_success,
    items_of,
    judged,
    operation_for,
    probe_curl,
    query_text,
    requested,
    rule,
    settle,
    shown,
    valid_success,
)


@rule
def page_within_limit(ctx, response, case):
    """A page never holds more items than the page size asked for (or the default)."""
    run, op = judged(case)
    paging = ext.paging.of(op) if op else None
    if not paging or paging.get("style", "none") == "none" or not is_success(response):
        return True
    items = items_of(op, answer_json(response))
    size = requested(op, case, paging.get("size"))
    if items is None or size is None:
        return True
    if len(items) > size:
        fail(f"Expected at most {size} items ({paging.get('size')}={size}); got {len(items)}")
    return None


@rule
def page_metadata_consistent(ctx, response, case):
    """Page metadata agrees with the data: page, size, totals, page counts, next/previous flags
    (by the names the operation's `x-pagination.meta` gives them), and a `Link rel="next"` that
    leads to a further page."""
    run, op = judged(case)
    paging = ext.paging.of(op) if op else None
    if not paging or paging.get("style", "none") == "none" or not is_success(response):
        return True
    body = answer_json(response)
    items = items_of(op, body)
    if items is None:
        return True
    page = requested(op, case, paging.get("page")) or 1
    size = requested(op, case, paging.get("size"))
    if paging["style"] == "link":
        link = ",".join(response.headers.get("link", []))
        if 'rel="next"' in link:
            if not run.first_time("link", op.operation_id):
                return True  # the operation's next link has been followed once: nothing left to judge
            target = link.split('rel="next"')[0].rsplit("<", 1)[-1].split(">", 1)[0]
            try:
                follow = run.request("GET", target, run.credentials.default)
            except requests.RequestException as exc:
                fail(f'Link rel="next" <{target}> cannot be followed: {type(exc).__name__}')
            following = answer_json(follow)
            if follow.status_code != 200 or not isinstance(following, list) or not following:
                fail(f'Link rel="next" <{target}> should lead to a non-empty page; got {shown(follow)}')
        elif size and len(items) > size:
            fail(f"page holds {len(items)} items, more than page size {size}")
        return None
    meta = ext.paging.meta_in_body(op, body)
    if meta is None:
        fail("list response carries no pagination metadata object")
    names = ext.paging.meta_names(op)
    problems = []
    total = meta.get(names.get("total"))
    for meaning, asked in (("page", page), ("limit", size)):
        name = names.get(meaning)
        if asked is not None and name and meta.get(name) is not None and meta[name] != asked:
            problems.append(f"{name} is {meta[name]}, requested {asked}")
    if isinstance(total, int) and size:
        expected_count = max(0, min(size, total - (page - 1) * size))
        if len(items) != expected_count:
            problems.append(f"total {total} with page {page} of size {size} means {expected_count} "
                            f"items, got {len(items)}")
        pages = math.ceil(total / size)
        expected = ext.paging.meta_values(op, page, size, total)
        for meaning, why in (("pages", f", expected ceil({total}/{size}) = {pages}"),
                             ("has_next", f" on page {page} of {pages}"), ("has_prev", f" on page {page}")):
            name = names.get(meaning)
            if name in meta and meta[name] != expected[name]:
                problems.append(f"{name} is {meta[name]}{why}")
    if problems:
        fail("Pagination metadata disagrees with the data: " + "; ".join(problems))
    return None


def _announces_more(op, paging: dict, response, body, page: int, size: int) -> str | None:
    """None when the answer says more records follow page `page`; else what it says instead."""
    if paging["style"] == "link":
        link = ",".join(response.headers.get("link", []))
        return None if 'rel="next"' in link else f"no Link rel=\"next\" (Link: {link or 'absent'})"
    meta = ext.paging.meta_in_body(op, body)
    if meta is None:
        return "no pagination metadata"
    names = ext.paging.meta_names(op)
    said = []
    has_next, pages, total = (names.get(m) for m in ("has_next", "pages", "total"))
    if has_next in meta:
        said.append((has_next, meta[has_next], meta[has_next] is True))
    if isinstance(meta.get(pages), int):
        said.append((pages, meta[pages], meta[pages] > page))
    if isinstance(meta.get(total), int):
        said.append((total, meta[total], meta[total] > page * size))
    if not said:
        return "no next-page flag, page count or total in the metadata"
    wrong = [f"{name} is {value!r}" for name, value, ok in said if not ok]
    return "; ".join(wrong) or None


@rule
def next_page_announced(ctx, response, case):
    """A full page tells that more records follow whenever they do: a `Link rel="next"` (link
    paging), a next-page flag, a page count or a total (metadata paging, by the names its
    `x-pagination.meta` declares). Judged by fetching the
    page after a full one, until one such page has records (at most FILTER_TRIES per operation)."""
    run, op = operation_for(case)
    paging = ext.paging.of(op) if op else None
    if not paging or paging.get("style", "none") == "none" or not valid_success(case, response, op):
        return True
    items = items_of(op, answer_json(response))
    page = requested(op, case, paging.get("page")) or 1
    size = requested(op, case, paging.get("size"))
    if items is None or not size or len(items) != size or paging.get("page") not in {
            p["name"] for p in op.parameters if p.get("in") == "query"}:
        return True
    if not attempt(run, "next-page", op.operation_id):
        return True  # a full page with nothing after it tells nothing: up to FILTER_TRIES full pages
    query = {k: query_text(v) for k, v in (case.query or {}).items()}
    query[paging["page"]] = page + 1
    query[paging["size"]] = size
    following = run.request(op.method, case.formatted_path, run.credentials.default, params=query)
    more = items_of(op, answer_json(following)) if following.status_code == 200 else None
    if not more:
        return None  # no further records (or none readable): nothing had to be announced
    settle(run, "next-page", op.operation_id)
    problem = _announces_more(op, paging, response, answer_json(response), page, size)
    if problem:
        fail(f"page {page} is full ({size} items) and page {page + 1} holds {len(more)} more, "
             f"but the page does not say so: {problem}" + probe_curl(following))
    return None
