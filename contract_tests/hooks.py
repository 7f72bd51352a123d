"""Schemathesis hooks that make the specs' own conventions work in any run: `contract-test`,
pytest, or the plain Schemathesis CLI (`st run` in this repository: `schemathesis.toml` loads this module).
"""

from __future__ import annotations

import schemathesis

from . import checks as _checks  # noqa: F401  (our rules, registered beside Schemathesis's own)
from . import identity as _identity  # the run's credentials: Schemathesis's auth provider for our schemas
from .context import Credentials, run_for
from .spec import Operation


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
    """Rejections of requests that were not really valid are not failures: a unique value
    already taken (Eventify's documented 'Email is already registered.'), or a path parameter
    taken from a null field."""
    if getattr(failure, "code", "") != "ST202":
        return True
    if any(value is None or value == "None" for value in (case.path_parameters or {}).values()):
        # Schemathesis filled a path parameter from a null field of an earlier answer (a user's
        # organization_id, say) and still counts the request as valid: it is not
        return False
    op, _ = _context(case)
    unique = [name for name, prop in ((op.body_schema().get("properties") or {}).items() if op else [])
              if prop.get("x-unique")]
    documented = op is not None and op.response(response.status_code) is not None
    text = response.text if hasattr(response, "text") else ""
    return not (unique and documented and any(f'"{name}"' in text for name in unique))
