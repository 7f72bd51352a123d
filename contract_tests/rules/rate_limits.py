"""Rate limits (`x-rate-limit`): the documented headers are on every authenticated answer and
count down."""

from __future__ import annotations

import time

from apispec import exchange

from .helpers import exchange_of, fail, is_success, operation_for, resend, rule


@rule
def rate_limit_headers(ctx, response, case):
    """Rate-limit headers are on every authenticated response and count down."""
    run, op = operation_for(case)
    if not run or not op:
        return True
    answer = exchange_of(op, response)
    if not exchange.rate_limit_applies(run.contract, answer):
        return True
    errors = exchange.rate_limit_header_errors(run.contract, answer)
    if errors:
        fail(errors[0])
    names = exchange.rate_limit_header_names(run.contract)
    remaining = names.get("remaining")
    if op.method == "GET" and remaining and is_success(response) and run.first_time("countdown", op.operation_id):
        sent = time.time()
        first = resend(run, case, run.credentials.default)
        second = resend(run, case, run.credentials.default)
        try:
            a, b = int(first.headers[remaining]), int(second.headers[remaining])
        except (KeyError, ValueError):
            fail(f"{remaining} missing or not a number on repeated requests")
        if b >= a and b != 0 and not _slot_freed(first.headers.get(names.get("reset", "")), sent):
            fail(f"{remaining} should count down: {a} then {b}")
    return None


def _slot_freed(reset: str | None, sent: float) -> bool:
    """Whether the time the first answer gave as its reset had come by the second answer: then a
    window (a sliding one frees a slot whenever an old request leaves it) may count up again.
    A reset is a Unix time, or seconds from the request; one rounded up may arrive a second early."""
    try:
        value = float(reset)
    except (TypeError, ValueError):
        return False
    at = value if value > 1e9 else sent + value
    return time.time() >= at - 1
