"""The rules: one declarative table, RULES. Each names a change under oasdiff's rule id (where oasdiff
has the rule; ours otherwise, see OURS in coverage.py), its level, the scope it compares (what the
walk gives its check, see SCOPES), and why it matters to clients.

Levels are oasdiff's: ERR (breaks clients of the old version), WARN (may break them), INFO (does not);
where we decided otherwise, coverage.LEVELS says why. Schemas are compared with direction: what a
client sends (parameters, request bodies) may be loosened but not tightened; what it receives
(responses) may be tightened but not loosened. A schema rule is written once for the places a schema
stands in (`request-body`: the body's own schema, `request-property`: anything inside it, and so on:
see CONTEXTS), under the id `<place>-<change>`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from . import checks as c
from .checks import BOUNDS, IN, OUT

ERR, WARN, INFO = "ERR", "WARN", "INFO"
LEVELS = (ERR, WARN, INFO)


@dataclasses.dataclass(frozen=True)
class Rule:
    id: str
    level: str                              # ERR, WARN or INFO
    scope: str                              # what `check` is given: see SCOPES
    check: Callable[[Any, Any], Any]        # (old, new) -> what changed (a short text), or falsy
    reason: str

    @property
    def breaking(self) -> bool:
        return self.level != INFO


# where a schema stands: the scopes "schema:<context>" (and "variant:", "property:") are given
# the schemas there; a rule's id starts with its context
CONTEXTS = {
    "request-body": "the schema of a request body (one media type)",
    "request-property": "a schema inside a request body (properties, items, branches)",
    "request-parameter": "the schema of a parameter",
    "request-parameter-property": "a schema inside a parameter's schema",
    "request-header-property": "a schema inside a header parameter's schema",
    "response-body": "the schema of a response body (one media type)",
    "response-property": "a schema inside a response body",
    "response-header": "the schema of a response header",
}

SCOPES = {
    "document": "the two documents",
    "path": "the two path templates of a path both versions have",
    "operation": "Slot(path item, operation) of each side; either may be None",
    "callback": "the two operations (both present), for their callbacks",
    "security": "Security of each side (operation security, else the document's)",
    "parameter": "Param(object, path_level) of each side (matched by location and name; path parameters by "
                 "position); either may be None",
    "request-body": "the requestBody objects; either may be None",
    "request-media": "the media type objects of one request media type; either may be None",
    "request-media-name": "(old, new) names of a request media type replaced by one that covers it or it covers",
    "response": "Resp(status, object) of one status code; either may be None",
    "response-media": "the media type objects of one response media type; either may be None",
    "response-media-name": "(old, new) names of a response media type replaced by one that covers it or it covers",
    "response-header": "the header objects of one response header; either may be None",
    **{f"schema:{ctx}": f"two schemas (allOf merged): {what}" for ctx, what in CONTEXTS.items()},
    **{f"property:{ctx}": f"Prop(schema, required, hidden) of one property: {what}; either may be None"
       for ctx, what in CONTEXTS.items() if ctx.endswith("-property")},
    **{f"variant:{ctx}": f"Variant(keyword, branch) of one anyOf/oneOf branch: {what}; either may be None"
       for ctx, what in CONTEXTS.items() if not ctx.startswith("request-parameter")},
    **{f"wrap:{ctx}": f"two schemas, the new one a oneOf where the old was none: {what}"
       for ctx in ("request-body", "response-body") for what in [CONTEXTS[ctx]]},
    "text": "any two objects both versions have (operation, parameter, body, media, response, schema)",
}

REQUEST = ("request-body", "request-property", "request-parameter")
RESPONSE = ("response-body", "response-property")

TIGHTER_IN = "values clients send today may be rejected"
LOOSER_IN = "everything clients send today is still accepted"
TIGHTER_OUT = "everything clients receive still fits what they were promised"
LOOSER_OUT = "clients may receive values outside what they were promised"
DOCS = "documentation only"


def family(change: str, check, reason: str, levels: dict[str, str]) -> list[Rule]:
    """One schema rule in several contexts: `levels` maps each context to the rule's level there;
    the id is `<context>-<change>`."""
    return [Rule(f"{ctx}-{change}", level, f"schema:{ctx}", check, reason) for ctx, level in levels.items()]


def each(contexts, level: str) -> dict[str, str]:
    return dict.fromkeys(contexts, level)


def bound_rules() -> list[Rule]:
    """Every bound keyword (BOUNDS), in every request and response context: a bound set, tightened,
    loosened or removed. Requests: tightened ERR, set WARN (a bound where there was none may or may
    not reject what clients send), loosened INFO; responses the other way round: loosened or removed
    ERR. A minLength is 0 when unset, so setting one is an increase."""
    rules = []
    for bound in BOUNDS:
        tighter, looser = ("decreased", "increased") if bound.upper else ("increased", "decreased")
        changes = {(IN, tighter): (ERR, TIGHTER_IN), (IN, looser): (INFO, LOOSER_IN),
                   (OUT, looser): (ERR, LOOSER_OUT), (OUT, tighter): (INFO, TIGHTER_OUT)}
        if not bound.zero:
            changes |= {(IN, "set"): (WARN, TIGHTER_IN), (IN, "unset"): (INFO, LOOSER_IN),
                        (OUT, "unset"): (ERR, LOOSER_OUT), (OUT, "set"): (INFO, TIGHTER_OUT)}
        for (direction, change), (level, reason) in changes.items():
            contexts = REQUEST if direction == IN else RESPONSE
            rules += family(f"{bound.name}-{change}", c.bound_is(bound, change), reason, each(contexts, level))
    return rules


# the lifecycle of an operation, parameter or property: (level, check, reason) by what happened to it
LIFECYCLE = {
    "deprecated": (INFO, c.deprecated_as("plain"), "clients' use of it still works"),
    "deprecated-with-sunset": (INFO, c.deprecated_as("with-sunset"), "clients' use of it works until its sunset"),
    "reactivated": (INFO, c.reactivated, "clients' use of it still works"),
    "sunset-parse": (ERR, c.deprecated_as("parse"), "its x-sunset is not a date: clients cannot tell until when"),
    "sunset-missing": (ERR, c.deprecated_as("missing"),
                       "the deprecation policy (--deprecation-days-*) asks for a sunset date"),
    "sunset-too-small": (ERR, c.deprecated_as("too-small"),
                         "clients get less notice than the deprecation policy promises"),
    "sunset-deleted": (ERR, c.sunset_deleted, "clients no longer know until when they may use it"),
    "sunset-earlier": (ERR, c.sunset_earlier, "clients planned for the old sunset date"),
    "stability-decreased": (ERR, c.stability_change(True), "clients relied on the stability it promised"),
    "stability-increased": (INFO, c.stability_change(False), "a stronger promise"),
    "stability-invalid": (ERR, c.stability_invalid, "the stability promised to clients cannot be read"),
}


def lifecycle(scope: str, wrap, ids: dict[str, str]) -> list[Rule]:
    """The LIFECYCLE rules `ids` names (what happened -> rule id), for one scope; `wrap` makes a
    check of two objects a check of what the scope gives."""
    return [Rule(rule_id, LIFECYCLE[key][0], scope, wrap(LIFECYCLE[key][1]), LIFECYCLE[key][2])
            for key, rule_id in ids.items()]


RULES: list[Rule] = [
    # --- paths and operations: removal as oasdiff reads deprecation (x-sunset, deprecated) ------
    Rule("api-path-removed-without-deprecation", ERR, "operation", c.op_removed(True, "without"),
         "clients calling it get 404; it was not deprecated first"),
    Rule("api-path-removed-before-sunset", ERR, "operation", c.op_removed(True, "before-sunset"),
         "clients were promised it until its sunset date"),
    Rule("api-path-removed-with-deprecation", INFO, "operation", c.op_removed(True, "with"),
         "it was deprecated and its sunset date, if any, has come"),
    Rule("api-removed-without-deprecation", ERR, "operation", c.op_removed(False, "without"),
         "clients calling it get 404 or 405; it was not deprecated first"),
    Rule("api-removed-before-sunset", ERR, "operation", c.op_removed(False, "before-sunset"),
         "clients were promised it until its sunset date"),
    Rule("api-removed-with-deprecation", INFO, "operation", c.op_removed(False, "with"),
         "it was deprecated and its sunset date, if any, has come"),
    Rule("api-path-sunset-parse", ERR, "operation", c.op_sunset_parse,
         "its x-sunset cannot be read, so whether its removal was announced cannot be told"),
    Rule("endpoint-added", INFO, "operation", c.op_added, "new operation; no client uses it yet"),
    Rule("api-operation-id-removed", INFO, "operation", c.on_ops(c.op_id_changed),
         "same request on the wire; generated client method names may change"),
    Rule("api-operation-id-added", INFO, "operation", c.on_ops(c.op_id_added), "same request on the wire"),
    Rule("api-tag-added", INFO, "operation", c.on_ops(c.tags("added")), DOCS),
    Rule("api-tag-removed", INFO, "operation", c.on_ops(c.tags("removed")), DOCS),
    Rule("path-parameter-renamed", INFO, "path", lambda o, n: o != n and f"{o} -> {n}",
         "same URLs; only the name of the placeholder changed"),
    # deprecation, sunset and stability of an operation
    *lifecycle("operation", c.on_ops, {
        "deprecated": "endpoint-deprecated", "deprecated-with-sunset": "endpoint-deprecated-with-sunset",
        "reactivated": "endpoint-reactivated", "sunset-parse": "api-deprecated-sunset-parse",
        "sunset-missing": "api-deprecated-sunset-missing", "sunset-too-small": "api-sunset-date-too-small",
        "sunset-deleted": "sunset-deleted", "sunset-earlier": "api-sunset-date-changed-too-small",
        "stability-decreased": "api-stability-decreased", "stability-increased": "api-stability-increased",
        "stability-invalid": "api-invalid-stability-level"}),
    # callbacks (oasdiff has no callback rules)
    Rule("callback-removed", ERR, "callback", c.callback("removed"),
         "clients that registered for it are no longer called back"),
    Rule("callback-added", INFO, "callback", c.callback("added"), "clients may register for it"),
    # --- security ------------------------------------------------------------------------------
    Rule("security-added", ERR, "security", c.security_required,
         "clients calling it without credentials are now refused"),
    Rule("security-changed", ERR, "security", c.security_changed,
         "credentials clients send today may no longer be accepted"),
    Rule("security-scheme-changed", ERR, "security", c.security_scheme_changed,
         "clients send credentials the old way, which may no longer be accepted"),
    Rule("api-security-added", INFO, "security", c.security_alternative_added,
         "every credential accepted before is still accepted"),
    Rule("api-security-removed", INFO, "security", c.security_dropped, "clients sending credentials still get through"),
    # the five specs' own x- extensions: who may call (x-access), how often (x-rate-limit), errors
    Rule("x-access-narrowed", ERR, "operation", c.on_ops(c.access_narrowed),
         "keys that may call it today may be refused"),
    Rule("x-access-widened", INFO, "operation", c.on_ops(c.access_widened), "every key admitted today still is"),
    Rule("x-rate-limit-tightened", ERR, "document", c.rate_limit(True),
         "clients calling at today's rate get 429"),
    Rule("x-rate-limit-loosened", INFO, "document", c.rate_limit(False), "clients may call more often"),
    Rule("x-error-body-field-removed", ERR, "document", c.error_body_fields("removed"),
         "clients reading that field of an error find it missing"),
    Rule("x-error-body-field-added", INFO, "document", c.error_body_fields("added"),
         "clients ignore fields they do not know"),
    Rule("x-operation-error-body-field-removed", ERR, "operation", c.on_ops(c.error_body_fields("removed")),
         "clients reading that field of an error find it missing"),
    # --- parameters ------------------------------------------------------------------------------
    Rule("request-parameter-removed", WARN, "parameter", c.on_params(c.removed_as("without", "parameter")),
         "clients sending it may have it ignored or rejected; deprecate it first"),
    Rule("request-parameter-removed-before-sunset", ERR, "parameter",
         c.on_params(c.removed_as("before-sunset", "parameter")), "clients were promised it until its sunset date"),
    Rule("request-parameter-removed-with-deprecation", INFO, "parameter",
         c.on_params(c.removed_as("with", "parameter")), "it was deprecated and its sunset date, if any, has come"),
    Rule("request-parameter-sunset-parse", ERR, "parameter", c.on_params(c.removed_as("sunset-parse", "parameter")),
         "its x-sunset cannot be read, so whether its removal was announced cannot be told"),
    Rule("new-request-path-parameter", ERR, "parameter", c.param_added("path"),
         "clients call the old URL, which no longer matches"),
    Rule("new-required-request-parameter", ERR, "parameter", c.param_added("required"),
         "clients do not send it, so their requests are rejected"),
    Rule("new-optional-request-parameter", INFO, "parameter", c.param_added("optional"), "clients may leave it out"),
    Rule("new-required-request-default-parameter-to-existing-path", ERR, "parameter",
         c.param_added("default-required"), "clients do not send it, so their requests are rejected"),
    Rule("new-optional-request-default-parameter-to-existing-path", INFO, "parameter",
         c.param_added("default-optional"), "clients may leave it out"),
    Rule("request-parameter-became-required", ERR, "parameter", c.on_params(c.made_required),
         "clients that leave it out are rejected"),
    Rule("request-parameter-became-optional", INFO, "parameter", c.on_params(c.made_optional),
         "clients sending it are still accepted"),
    Rule("request-parameter-style-changed", ERR, "parameter", c.on_params(c.style_changed),
         "clients serialise it the old way, which may no longer be understood"),
    *lifecycle("parameter", c.on_params, {
        "deprecated": "request-parameter-deprecated",
        "deprecated-with-sunset": "request-parameter-deprecated-with-sunset",
        "reactivated": "request-parameter-reactivated", "sunset-parse": "request-parameter-deprecated-sunset-parse",
        "sunset-missing": "request-parameter-deprecated-sunset-missing",
        "sunset-too-small": "request-parameter-sunset-date-too-small",
        "sunset-deleted": "request-parameter-sunset-deleted",
        "sunset-earlier": "request-parameter-sunset-date-changed-too-small"}),
    # --- request bodies and media types ---------------------------------------------------------
    Rule("request-body-added-required", ERR, "request-body", c.body_added(True),
         "clients send no body, so their requests are rejected"),
    Rule("request-body-added-optional", INFO, "request-body", c.body_added(False), "clients may leave it out"),
    Rule("request-body-removed", ERR, "request-body", c.gone("request body removed"),
         "what clients send is now ignored or rejected"),
    Rule("request-body-became-required", ERR, "request-body", c.made_required,
         "clients that send no body are rejected"),
    Rule("request-body-became-optional", INFO, "request-body", c.made_optional,
         "clients sending a body are still accepted"),
    Rule("request-body-media-type-removed", ERR, "request-media", c.gone("media type removed"),
         "clients sending it get 415"),
    Rule("request-body-media-type-added", INFO, "request-media", c.new("media type added"),
         "clients may keep sending the old ones"),
    Rule("request-body-media-type-schema-added", ERR, "request-media", c.media_schema("added"),
         "a body that could be anything must now fit a schema"),
    Rule("request-body-media-type-schema-removed", INFO, "request-media", c.media_schema("removed"), LOOSER_IN),
    Rule("request-body-media-type-name-generalized", INFO, "request-media-name", c.media_name(True),
         "everything clients send today is still accepted"),
    Rule("request-body-media-type-name-specialized", ERR, "request-media-name", c.media_name(False),
         "clients sending the other media types the old name covered get 415"),
    # --- responses ------------------------------------------------------------------------------
    Rule("response-success-status-removed", ERR, "response", c.status(True, "removed"),
         "clients expecting it no longer get it"),
    Rule("response-success-status-added", INFO, "response", c.status(True, "added"),
         "clients handle success statuses they know; a new one is documented"),
    Rule("response-non-success-status-added", INFO, "response", c.status(False, "added"),
         "clients already handle errors"),
    Rule("response-non-success-status-removed", INFO, "response", c.status(False, "removed"),
         "clients simply stop seeing it"),
    Rule("response-media-type-removed", ERR, "response-media", c.gone("media type removed"),
         "clients asking for it get 406 or a body they cannot read"),
    Rule("response-media-type-added", INFO, "response-media", c.new("media type added"),
         "clients keep getting the ones they ask for"),
    Rule("response-body-media-type-schema-removed", WARN, "response-media", c.media_schema("removed"),
         "clients are no longer promised a shape for the body"),
    Rule("response-body-media-type-schema-added", INFO, "response-media", c.media_schema("added"), TIGHTER_OUT),
    Rule("response-media-type-name-generalized", ERR, "response-media-name", c.media_name(True),
         "clients may receive media types they cannot read"),
    Rule("response-media-type-name-specialized", INFO, "response-media-name", c.media_name(False), TIGHTER_OUT),
    Rule("required-response-header-removed", ERR, "response-header", c.header_removed(True),
         "clients reading it find it missing"),
    Rule("optional-response-header-removed", WARN, "response-header", c.header_removed(False),
         "clients reading it when present stop finding it"),
    Rule("response-header-added", INFO, "response-header", c.new("header added"),
         "clients ignore headers they do not know"),
    Rule("response-header-became-optional", ERR, "response-header", c.made_optional,
         "clients relying on it being there may find it missing"),
    Rule("response-header-became-required", INFO, "response-header", c.made_required, "clients get it every time now"),
    # --- properties -------------------------------------------------------------------------------
    Rule("request-property-removed", WARN, "property:request-property", c.prop_removed(None),
         "what clients send in it may now be ignored or rejected"),
    Rule("new-required-request-property", ERR, "property:request-property", c.prop_added(True, False),
         "clients do not send it, so their requests are rejected"),
    Rule("new-required-request-property-with-default", ERR, "property:request-property", c.prop_added(True, True),
         "a request that leaves it out is invalid, default or not"),
    Rule("new-optional-request-property", INFO, "property:request-property", c.prop_added(False),
         "clients may leave it out"),
    Rule("request-property-became-required", ERR, "property:request-property", c.prop_became_required(False),
         "clients that leave it out are rejected"),
    Rule("request-property-became-required-with-default", ERR, "property:request-property",
         c.prop_became_required(True), "a request that leaves it out is invalid, default or not"),
    Rule("request-property-became-optional", INFO, "property:request-property", c.prop_became_optional,
         "clients sending it are still accepted"),
    Rule("request-required-property-became-read-only", INFO, "property:request-property", c.prop_hidden(True, True),
         "clients need not send it any more"),
    Rule("request-optional-property-became-read-only", INFO, "property:request-property", c.prop_hidden(False, True),
         "clients need not send it any more"),
    Rule("request-required-property-became-not-read-only", INFO, "property:request-property",
         c.prop_hidden(True, False), "clients may now send it"),
    Rule("request-optional-property-became-not-read-only", INFO, "property:request-property",
         c.prop_hidden(False, False), "clients may now send it"),
    Rule("new-required-request-header-property", ERR, "property:request-header-property", c.prop_added(True),
         "clients do not send it, so their requests are rejected"),
    Rule("request-header-property-became-required", ERR, "property:request-header-property",
         c.prop_became_required(), "clients that leave it out are rejected"),
    Rule("response-required-property-removed", ERR, "property:response-property", c.prop_removed(True),
         "clients reading it find it missing (a rename is a removal plus an addition)"),
    Rule("response-optional-property-removed", WARN, "property:response-property", c.prop_removed(False),
         "clients reading it when present stop finding it"),
    Rule("response-required-property-added", INFO, "property:response-property", c.prop_added(True),
         "clients ignore fields they do not know"),
    Rule("response-optional-property-added", INFO, "property:response-property", c.prop_added(False),
         "clients ignore fields they do not know"),
    Rule("response-property-became-optional", ERR, "property:response-property", c.prop_became_optional,
         "clients relying on it being there may find it missing"),
    Rule("response-property-became-required", INFO, "property:response-property", c.prop_became_required(),
         "clients get it every time now"),
    Rule("response-required-property-became-write-only", INFO, "property:response-property",
         c.prop_hidden(True, True), "no longer sent to clients; they were told it is required"),
    Rule("response-optional-property-became-write-only", INFO, "property:response-property",
         c.prop_hidden(False, True), "clients stop receiving an optional field"),
    Rule("response-required-property-became-not-write-only", WARN, "property:response-property",
         c.prop_hidden(True, False), "clients now receive a field that was only ever sent by them"),
    Rule("response-optional-property-became-not-write-only", INFO, "property:response-property",
         c.prop_hidden(False, False), "clients ignore fields they do not know"),
    # deprecation, sunset and stability of a property
    *(rule for d in (IN, OUT) for rule in lifecycle(f"schema:{d}-property", lambda check: check, {
        "deprecated": f"{d}-property-deprecated", "deprecated-with-sunset": f"{d}-property-deprecated-with-sunset",
        "reactivated": f"{d}-property-reactivated", "sunset-parse": f"{d}-property-deprecated-sunset-invalid",
        "sunset-missing": f"{d}-property-deprecated-sunset-missing",
        "sunset-too-small": f"{d}-property-sunset-date-too-small",
        "stability-decreased": f"{d}-property-stability-decreased",
        "stability-increased": f"{d}-property-stability-increased"})),
    # --- anyOf / oneOf / allOf --------------------------------------------------------------------
    *(Rule(f"{ctx}-{key.lower().replace('of', '-of')}-{which}", level, f"variant:{ctx}", c.variant(key, which), reason)
      for ctx, key, which, level, reason in (
          *((ctx, key, "removed", ERR, "clients sending that shape are rejected")
            for ctx in ("request-body", "request-property") for key in ("anyOf", "oneOf")),
          *((ctx, key, "added", INFO, LOOSER_IN)
            for ctx in ("request-body", "request-property") for key in ("anyOf", "oneOf")),
          *((ctx, key, "added", ERR, "clients may receive a shape they cannot read")
            for ctx in RESPONSE for key in ("anyOf", "oneOf")),
          *((ctx, key, "removed", INFO, TIGHTER_OUT) for ctx in RESPONSE for key in ("anyOf", "oneOf")))),
    *family("all-of-added", c.all_of("added"), "values must now also fit the added part",
            {"request-body": ERR, "request-property": ERR, **each(RESPONSE, INFO)}),
    *family("all-of-removed", c.all_of("removed"), "the values allowed may have changed",
            {"request-body": WARN, "request-property": WARN, **each(RESPONSE, INFO)}),
    Rule("request-body-wrapped-in-one-of", ERR, "wrap:request-body", c.wrapped_in_one_of,
         "a body that fits more than one branch is rejected"),
    Rule("response-body-wrapped-in-one-of", ERR, "wrap:response-body", c.wrapped_in_one_of,
         "clients may receive a shape they cannot read"),
    # --- types and formats ------------------------------------------------------------------------
    *family("type-changed", c.type_is("changed", "specialized"), "values of the old type are rejected",
            {"request-body": ERR, "request-property": ERR, "request-parameter": ERR}),
    *family("type-changed", c.type_is("changed"), "values of the old type may be rejected",
            {"request-parameter-property": WARN}),
    *family("type-specialized", c.type_is("specialized"), TIGHTER_IN, {"request-parameter-property": ERR}),
    *family("type-generalized", c.type_is("generalized"), LOOSER_IN,
            {**each(REQUEST, INFO), "request-parameter-property": INFO}),
    *family("type-changed", c.type_is("changed"), "clients parse the old type and fail",
            {**each(RESPONSE, ERR), "response-header": ERR}),
    *family("type-generalized", c.type_is("generalized"), LOOSER_OUT, {**each(RESPONSE, ERR), "response-header": ERR}),
    *family("type-specialized", c.type_is("specialized"), TIGHTER_OUT,
            {**each(RESPONSE, INFO), "response-header": INFO}),
    # --- nullability ------------------------------------------------------------------------------
    *family("became-not-nullable", c.became_not_nullable, "clients sending null are rejected",
            {**each(REQUEST, ERR), "request-parameter-property": ERR}),
    *family("became-nullable", c.became_nullable, LOOSER_IN,
            {**each(REQUEST, INFO), "request-parameter-property": INFO}),
    *family("became-nullable", c.became_nullable, "clients not expecting null may fail on it",
            {**each(RESPONSE, ERR), "response-header": ERR}),
    *family("became-not-nullable", c.became_not_nullable, TIGHTER_OUT,
            {**each(RESPONSE, INFO), "response-header": INFO}),
    # --- enums ------------------------------------------------------------------------------------
    *family("became-enum", c.became_enum, "clients sending other values are rejected",
            {**each(REQUEST, ERR), "request-header-property": ERR}),
    *family("enum-value-removed", c.enum_removed, "clients sending those values are rejected",
            {**each(REQUEST, ERR), "request-parameter-property": ERR}),
    *family("enum-value-added", c.enum_added, LOOSER_IN, {**each(REQUEST, INFO), "request-parameter-property": INFO}),
    *family("x-extensible-enum-value-removed", c.extensible_enum_removed, "clients sending those values are rejected",
            {"request-property": ERR, "request-parameter": ERR}),
    *family("enum-value-added", c.enum_added, "clients may receive values they do not know", each(RESPONSE, WARN)),
    Rule("response-property-enum-value-removed", INFO, "schema:response-property", c.enum_removed, TIGHTER_OUT),
    Rule("response-mediatype-enum-value-removed", INFO, "schema:response-body", c.enum_removed, TIGHTER_OUT),
    # --- bounds, patterns, defaults, other keywords -----------------------------------------------
    *bound_rules(),
    *family("pattern-added", c.keyword_added("pattern"), TIGHTER_IN, each(REQUEST, ERR)),
    *family("pattern-changed", c.keyword_changed("pattern"), "values clients send today may no longer match",
            each(REQUEST, WARN)),
    *family("pattern-removed", c.keyword_removed("pattern"), LOOSER_IN, each(REQUEST, INFO)),
    *family("pattern-added", c.keyword_added("pattern"), TIGHTER_OUT, each(RESPONSE, INFO)),
    *family("pattern-changed", c.keyword_changed("pattern"), "what clients receive is described anew",
            each(RESPONSE, INFO)),
    *family("pattern-removed", c.keyword_removed("pattern"), "what clients receive is described more loosely",
            each(RESPONSE, INFO)),
    *family("default-value-added", c.keyword_added("default"), "clients that leave it out get different behaviour",
            {"request-parameter": ERR, "request-body": INFO, "request-property": INFO, **each(RESPONSE, INFO)}),
    *family("default-value-removed", c.keyword_removed("default"),
            "clients that leave it out get different behaviour",
            {"request-parameter": ERR, "request-body": INFO, "request-property": INFO, **each(RESPONSE, INFO)}),
    *family("default-value-changed", c.keyword_changed("default"),
            "clients that leave it out get different behaviour",
            {"request-parameter": ERR, "request-body": INFO, "request-property": INFO, **each(RESPONSE, INFO)}),
    *family("additional-properties-restricted", c.restricted, "clients sending extra fields are rejected",
            each(REQUEST[:2], ERR)),
    *family("additional-properties-allowed", c.unrestricted, LOOSER_IN, each(REQUEST[:2], INFO)),
    *family("additional-properties-allowed", c.unrestricted, "clients ignore fields they do not know",
            each(RESPONSE, INFO)),
    *family("additional-properties-restricted", c.restricted, TIGHTER_OUT, each(RESPONSE, INFO)),
    # --- text -------------------------------------------------------------------------------------
    Rule("text-changed", INFO, "text", c.text_changed, DOCS),
    Rule("example-changed", INFO, "text", c.example_changed, DOCS),
]

BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
RULES_BY_SCOPE: dict[str, list[Rule]] = {scope: [r for r in RULES if r.scope == scope] for scope in SCOPES}
assert sum(map(len, RULES_BY_SCOPE.values())) == len(RULES), "a rule names an unknown scope"
assert len(BY_ID) == len(RULES), "two rules share an id"
assert all(r.level in LEVELS for r in RULES), "a rule has an unknown level"
