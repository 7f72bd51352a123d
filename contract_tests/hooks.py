"""Schemathesis hooks that make the specs' own conventions work in any run: `contract-test`,
pytest, or the plain Schemathesis CLI (`st run` in this repository: `schemathesis.toml` loads this module).
"""

from __future__ import annotations

import schemathesis
from schemathesis.config import OperationConfig

from apispec.model import Operation, contract, slug_of

from . import identity as _identity  # the run's credentials: Schemathesis's auth provider for our schemas
from . import rules as _rules  # our rules, registered beside Schemathesis's own
from . import uniqueness as _uniqueness  # unique_rejection_is_real, registered after them
from .context import Credentials, run_for


def _context(case) -> tuple[Operation | None, Credentials | None]:
    run = run_for(case)
    if run is None:
        return None, None
    return run.contract.operations.get(case.operation.definition.raw.get("operationId")), run.credentials


@schemathesis.hook
def before_call(ctx, case, kwargs):
    """Body-borne credentials (Eventify's token + username) go into every JSON body that needs
    them; the rest of the run's credential handling is the auth provider's (identity.py)."""
    _identity.apply_body(case)  # Schemathesis re-validates the edited case


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    """Rejections of requests that were not really valid are not failures: a path parameter
    taken from a null field, or a unique value really taken (which `unique_rejection_is_real`
    proves by re-trying with fresh values, and reports when the re-try is refused too).
    A server error's report shows what the server answered."""
    code = getattr(failure, "code", "")
    if code == "ST101" and not failure.message:
        failure.message = f"Answered {_rules.helpers.shown(response, 500)}"
    if code != "ST202":
        return True
    if any(value is None or value == "None" for value in (case.path_parameters or {}).values()):
        # Schemathesis filled a path parameter from a null field of an earlier answer (a user's
        # organization_id, say) and still counts the request as valid: it is not
        return False
    if not _rule_enabled(case, "unique_rejection_is_real"):
        return True
    # a uniqueness refusal: excused if a re-try with fresh values is accepted; if that is refused
    # too, `unique_rejection_is_real` names the real problem and this failure would repeat it
    return _uniqueness.uniqueness_retry(case, response) is None


def _rule_enabled(case, name: str) -> bool:
    """Whether the run checks the rule `name` for this case's operation."""
    config = case.operation.schema.config.checks_config_for(operation=case.operation)
    return bool(config.get_by_name(name=name).enabled)


# --- what a valid request may be answered -------------------------------------------------------

# Documented statuses a valid request can get from the server's state rather than from its own
# form: no permission for this record (403), the record named is not there (404, 410), a state
# conflict (409), payment or a precondition the state sets (402, 412, 423), a rate limit (429).
STATE_STATUSES = {"402", "403", "404", "409", "410", "412", "423", "429"}


def accepted_statuses(op: Operation) -> list[str]:
    """The statuses `positive_data_acceptance` accepts for a valid request to `op`: any 2xx, the
    state statuses the operation documents, a documented 3xx, and a documented 401. Never a 400
    or 422: those say the request itself is wrong. A 401 says the credential the run sent was
    refused (a wrong key, one revoked mid-run, a login's wrong password): a verdict on the run's
    credentials, not on the server; the identity check before the run and the coverage guard
    (no 2xx, no evidence) speak to it. A 5xx is left to `not_a_server_error`, so a crash is
    reported once."""
    documented = [str(s) for s in op.spec.get("responses") or {}]
    statuses = ["2xx", *(s for s in documented if s in STATE_STATUSES or s.startswith("3") or s == "401")]
    return [*statuses, "5xx"]


def expect_documented_statuses(schema) -> None:
    """Per operation of one of our specs, `positive_data_acceptance` accepts what the spec
    documents for it (`accepted_statuses`), through Schemathesis's per-operation configuration:
    the same as an `[[operations]]` table with `include-operation-id` in schemathesis.toml."""
    slug = slug_of(schema.raw_schema)
    if not slug:
        return
    for op_id, op in contract(slug).operations.items():
        schema.config.operations.operations.append(OperationConfig.from_dict({
            "include-operation-id": op_id,
            "checks": {"positive_data_acceptance": {"expected-statuses": accepted_statuses(op)}},
        }))


@schemathesis.hook
def after_load_schema(context, schema):
    """Every schema of ours, however it is loaded (`contract-test`, pytest, plain `st run`),
    gets the per-operation statuses a valid request may be answered."""
    expect_documented_statuses(schema)
