"""Honest implementations: the mock behind a middleware that makes a choice its document leaves
open, the way another team writing from the document alone might.

Each `Variant` names the API, the choice, the operations worth testing, and the rules whose
failures the contract suite must list as deviations, not violations (none when the spec
admits the choice outright). They reuse broken.py's `Broken` middleware and `Exchange`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import datetime

from apispec import ext
from apispec.model import contract

from .broken import Broken, Exchange

LARGEST_SAFE_INTEGER = 2**53
PAGE_RULES = ("page_within_limit", "page_metadata_consistent")


def _answer(ex: Exchange, status: int, body) -> None:
    ex.status = status
    ex.response_headers = [(k, v) for k, v in ex.response_headers if k.lower() != b"content-type"]
    ex.response_headers.append((b"content-type", b"application/json"))
    ex.set_json(body)


def _error_body(slug: str, status: int, message: str):
    """The API's own error body (its spec's `x-error-body` template, filled in)."""
    spec = contract(slug)
    code = (ext.errors.codes(spec) or {}).get(str(status), "error")

    def fill(node):
        if isinstance(node, dict):
            return {k: fill(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fill(v) for v in node]
        if node == "{code}":
            return code
        return message if node == "{message}" else node
    return fill(spec.error_template(status))


def _refuse(ex: Exchange, slug: str, message: str) -> None:
    """Refuse the request before the mock acts on it: it is sent on as a harmless read (so nothing
    changes in the store and the answer keeps the mock's headers), then answered 400."""
    ex.refusal = message
    ex.chosen = True
    ex.method = "GET"
    ex.body = b""
    ex.headers.pop("content-type", None)


def _refused(slug: str):
    def after(ex: Exchange, mock):
        if getattr(ex, "refusal", None):
            _answer(ex, 400, _error_body(slug, 400, ex.refusal))
    return after


def _each(*steps):
    def run(ex: Exchange, mock):
        for step in steps:
            step(ex, mock)
    return run


# --- the choices ---------------------------------------------------------------------------------

def delete_answers_200_with_the_resource(collection: str):
    """DELETE answers 200 and the deleted resource instead of 204."""
    def before(ex: Exchange, mock):
        ex.deleted = None
        if ex.method == "DELETE":
            key = ex.path.rstrip("/").rsplit("/", 1)[-1]
            ex.deleted = dict(mock.store.get(collection, key) or {}) or None

    def after(ex: Exchange, mock):
        if ex.method == "DELETE" and ex.status == 204 and getattr(ex, "deleted", None):
            _answer(ex, 200, {k: v for k, v in ex.deleted.items() if not k.startswith("_")})
            ex.chosen = True
    return before, after


def delete_answers_204(ex: Exchange, mock):
    """A DELETE that succeeds answers 204 with no body instead of 200 and a message."""
    if ex.method == "DELETE" and ex.status == 200:
        ex.status = 204
        ex.response_headers = [(k, v) for k, v in ex.response_headers if k.lower() != b"content-type"]
        ex.response_body = b""
        ex.chosen = True


def cap_page_size(name: str, maximum: int):
    """A page size past the maximum is served at the maximum (the page metadata says so)."""
    def before(ex: Exchange, mock):
        value = ex.query.get(name, "")
        if ex.method == "GET" and re.fullmatch(r"\d+", value) and int(value) > maximum:
            ex.query[name] = str(maximum)
            ex.chosen = True
    return before


def details_in_error_bodies(ex: Exchange, mock):
    """Every error body carries a `details` field beside what the API's template names."""
    body = ex.json()
    if ex.status >= 400 and isinstance(body, dict):
        target = body["error"] if isinstance(body.get("error"), dict) else body
        target["details"] = {"request_id": "req_0001", "path": ex.path}
        ex.set_json(body)
        ex.chosen = True


def null_when_absent(path_pattern: str, *fields: str):
    """Optional fields the resource does not have come back as `null` rather than left out."""
    pattern = re.compile(path_pattern)

    def after(ex: Exchange, mock):
        body = ex.json()
        if 200 <= ex.status < 300 and pattern.fullmatch(ex.path) and isinstance(body, dict):
            absent = [field for field in fields if field not in body]
            if absent:
                body.update(dict.fromkeys(absent))
                ex.set_json(body)
                ex.chosen = True
    return after


def empty_put_changes_nothing(ex: Exchange, mock):
    """A PUT with no body is taken as an update that changes nothing."""
    if ex.method == "PUT" and not ex.body.strip():
        ex.body = b"{}"
        ex.headers["content-type"] = "application/json"
        ex.chosen = True


def _big_integer(node, path=""):
    """The first field holding an integer JSON cannot carry exactly (past 2^53), if any."""
    if isinstance(node, dict):
        for key, value in node.items():
            found = _big_integer(value, f"{path}.{key}" if path else key)
            if found:
                return found
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found = _big_integer(value, f"{path}[{i}]")
            if found:
                return found
    elif isinstance(node, int) and not isinstance(node, bool) and abs(node) > LARGEST_SAFE_INTEGER:
        return path
    return None


def _instant(value):
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def ecoevents_business_rules(ex: Exchange, mock):
    """EcoEvents as its own team might write it: an event may not end before it starts, and
    integers past 2^53 are refused; both with the API's 400 naming the field."""
    if ex.method not in ("POST", "PUT") or not ex.path.startswith("/api/events"):
        return
    body = ex.request_json()
    if not isinstance(body, dict):
        return
    field = _big_integer(body)
    if field:
        _refuse(ex, "ecoevents", f"{field} is too large (at most {LARGEST_SAFE_INTEGER})")
        return
    stored = {}
    if ex.method == "PUT":
        stored = mock.store.get("events", ex.path.rstrip("/").rsplit("/", 1)[-1]) or {}
    start, end = (_instant(body.get(k, stored.get(k))) for k in ("startDate", "endDate"))
    if start and end and start.tzinfo and end.tzinfo and end < start:
        _refuse(ex, "ecoevents", "endDate must not be before startDate")


def namak_business_rules(ex: Exchange, mock):
    """Namak as its own team might write it: a booking's attendee details, when given, hold one
    entry per attendee; integers past 2^53 are refused; both with the API's 400 naming the field."""
    if ex.method != "POST" or ex.path not in ("/v1/events", "/v1/bookings"):
        return
    body = ex.request_json()
    if not isinstance(body, dict):
        return
    field = _big_integer(body)
    if field:
        _refuse(ex, "namak", f"{field} is too large (at most {LARGEST_SAFE_INTEGER})")
        return
    details = body.get("attendee_details")
    if ex.path == "/v1/bookings" and isinstance(details, list) and isinstance(body.get("attendees"), int) \
            and len(details) != body["attendees"]:
        _refuse(ex, "namak", f"attendee_details holds {len(details)} entries for {body['attendees']} attendees")


@dataclasses.dataclass
class Variant:
    name: str
    slug: str
    deviations: tuple[str, ...]    # rules whose failures must be listed as deviations (none: admitted outright)
    before: Callable | None = None
    after: Callable | None = None
    include: tuple[str, ...] = ()  # operationIds to test (speed)
    phases: tuple[str, ...] = ("examples", "coverage", "fuzzing")
    max_examples: int = 15
    may_also: tuple[str, ...] = ()  # rules that may also be listed (the page rules judge an out-of-range size)
    chosen: int = dataclasses.field(default=0, init=False)  # answers in which the variant made its choice

    def wrap(self, app):
        self.chosen = 0

        def after(ex: Exchange, mock):
            if self.after:
                self.after(ex, mock)
            self.chosen += bool(getattr(ex, "chosen", False))
        return Broken(app, self.before, after)


_namak_delete = delete_answers_200_with_the_resource("events")
_namak_delete_too = delete_answers_200_with_the_resource("events")

VARIANTS = [
    Variant("answers DELETE with 200 and the cancelled event", "namak", (),
            before=_namak_delete[0], after=_namak_delete[1], include=("deleteEvent", "createEvent", "getEvent"),
            phases=("examples", "stateful")),
    # the mock itself refuses a generated event whose deadline is after its date (a rule of the
    # document's meaning, specs/README.md): a deviation of the mock's, not of this variant's choice
    Variant("answers DELETE with 204 and no body", "amarevents", (),
            after=delete_answers_204, include=("createEvent", "deleteEvent"), phases=("examples", "stateful"),
            max_examples=5, may_also=("positive_data_acceptance",)),
    Variant("caps limit at 100", "namak", ("negative_data_rejection",),
            before=cap_page_size("limit", 100), include=("listEvents", "listBookings"), phases=("coverage",),
            may_also=PAGE_RULES),
    Variant("caps limit at 100", "ecoevents", ("negative_data_rejection",),
            before=cap_page_size("limit", 100), include=("listEvents",), phases=("coverage",),
            may_also=PAGE_RULES),
    Variant("puts a details field in every error body", "namak", (),
            after=details_in_error_bodies, include=("getEvent", "createEvent")),
    # the EcoEvents mock itself refuses an event that ends before it starts (specs/README.md): a
    # deviation of the mock's own, whatever this variant does to error bodies
    Variant("puts a details field in every error body", "ecoevents", (),
            after=details_in_error_bodies, include=("getEvent", "createEvent"), may_also=("positive_data_acceptance",)),
    Variant("answers null for a description it does not have", "namak", (),
            after=null_when_absent(r"/v1/events(/[^/]+)?", "description"),
            include=("createEvent", "getEvent", "updateEvent"), phases=("examples", "fuzzing")),
    Variant("refuses an event that ends before it starts, and integers past 2^53", "ecoevents",
            ("positive_data_acceptance",), before=ecoevents_business_rules, after=_refused("ecoevents"),
            include=("createEvent", "updateEvent"), phases=("examples", "fuzzing"), max_examples=25),
    Variant("refuses attendee details that do not match the attendees, and integers past 2^53", "namak",
            ("positive_data_acceptance",), before=namak_business_rules, after=_refused("namak"),
            include=("createBooking",), phases=("examples", "fuzzing"), max_examples=25),
    Variant("accepts a PUT with no body", "namak", ("negative_data_rejection",),
            before=empty_put_changes_nothing, include=("updateEvent",), phases=("coverage",)),
    # every choice at once: the servers of issue 11, written by another team from the documents alone
    Variant("makes every choice its document leaves open", "namak",
            ("negative_data_rejection", "positive_data_acceptance"),
            before=_each(_namak_delete_too[0], cap_page_size("limit", 100), empty_put_changes_nothing,
                         namak_business_rules),
            after=_each(_refused("namak"), _namak_delete_too[1], details_in_error_bodies,
                        null_when_absent(r"/v1/events(/[^/]+)?", "description")),
            phases=("examples", "coverage", "fuzzing"), max_examples=10, may_also=PAGE_RULES),
    Variant("makes every choice its document leaves open", "ecoevents",
            ("negative_data_rejection", "positive_data_acceptance"),
            before=_each(cap_page_size("limit", 100), empty_put_changes_nothing, ecoevents_business_rules),
            after=_each(_refused("ecoevents"), details_in_error_bodies,
                        null_when_absent(r"/api/events(/[^/]+)?", "description")),
            phases=("examples", "coverage", "fuzzing"), max_examples=10, may_also=PAGE_RULES),
]
