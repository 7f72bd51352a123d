"""Paging (`x-pagination`): pages hold no more than asked, their metadata agrees with the data,
and a full page tells that more follow."""

from __future__ import annotations

import requests

from apispec import exchange, ext

from .helpers import (
    answer_json,
    attempt,
    exchange_of,
    fail,
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
    """A page never holds more items than the page size asked for (or the default): judged by
    apispec.exchange, as the validating proxy judges live traffic."""
    run, op = judged(case)
    if not op or (paging := exchange.paging_of(answer := exchange_of(op, response, case))) is None:
        return True
    if exchange.items_of(op, answer.body) is None or answer.requested(paging.get("size")) is None:
        return True
    errors = exchange.page_within_limit_errors(answer)
    if errors:
        fail(errors[0])
    return None


@rule
def page_metadata_consistent(ctx, response, case):
    """Page metadata agrees with the data: page, size, totals, page counts, hasNext/hasPrev
    (apispec.exchange, shared with the proxy), and a `Link rel="next"` that leads to a further page."""
    run, op = judged(case)
    if not op or (paging := exchange.paging_of(answer := exchange_of(op, response, case))) is None:
        return True
    if exchange.items_of(op, answer.body) is None:
        return True
    errors = exchange.page_metadata_errors(answer)
    if errors:
        fail(errors[0])
    link = exchange.link_header(answer)
    if paging["style"] == "link" and 'rel="next"' in link:
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
