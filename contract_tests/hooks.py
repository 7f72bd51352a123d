"""Schemathesis hooks that make the specs' own conventions work in any run: `contract-test`,
pytest, or the plain Schemathesis CLI (`st run` in this repository: `schemathesis.toml` loads this module).
"""

from __future__ import annotations

import requests
import schemathesis

from . import checks as _checks  # noqa: F401  (our rules, registered beside Schemathesis's own)
from .context import Credentials, run_for
from .spec import Operation


def _context(case) -> tuple[Operation | None, Credentials | None]:
    run = run_for(case)
    if run is None:
        return None, None
    return run.contract.operations.get(case.operation.definition.raw.get("operationId")), run.credentials


@schemathesis.hook
def before_call(ctx, case, kwargs):
    """Body-borne credentials (Eventify's token + username) go into every JSON body that needs them."""
    op, credentials = _context(case)
    if op is None or not op.ext("body-auth") or not isinstance(case.body, dict) or not credentials.default.body:
        return
    case.body.update(credentials.default.body)  # Schemathesis re-validates the edited case


@schemathesis.hook
def after_call(ctx, case, response):
    """A run that logs its own credential out (Eventify's logout) logs in again for a new one."""
    op, credentials = _context(case)
    if op is None or not op.ext("revokes-credential") or not 200 <= response.status_code < 300:
        return
    identity = credentials.default
    login = next((o for o in run_for(case).contract.operations.values() if o.ext("issues-credential")), None)
    if login is None or not identity.login:
        return
    base = case.operation.base_url or ""
    answer = requests.post(base.rstrip("/") + login.path, json=identity.login, timeout=10)
    if answer.status_code == 200:
        fields = login.ext("issues-credential")
        identity.body.update({key: answer.json()[source] for key, source in fields.items()})


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
