"""`Prefer: code=NNN`: answer with the operation's documented response for that status (Prism's
convention), so a frontend can show its error states without breaking the mock's data.

The request is still authenticated, rate limited and validated first: a missing key is a 401
whatever it prefers. Then, instead of running the operation (nothing changes in the store):

    the operation's success status   the operation runs as usual (the header changes nothing)
    another documented status        its documented example, or for an error without one the
                                     API's own error body ("Forced by Prefer: code=503")
    a status it does not document    400 in the API's error body, naming the ones it does
"""

from __future__ import annotations

import math
import re

from .errors import ApiError, fixed_headers

_CODE = re.compile(r"(?:^|[\s,;])code\s*=\s*\"?(\d{3})\"?", re.IGNORECASE)


def preferred_code(request) -> int | None:
    """The status a `Prefer` header asks for, if it asks for one."""
    headers = getattr(request, "headers", None)
    value = headers.get("prefer") if headers is not None else None
    match = _CODE.search(value) if value else None
    return int(match.group(1)) if match else None


def forced(operation, status: int, window=None):
    """The documented answer for `status`, as (body, status, headers); raises the API's error."""
    response = operation.response(status)
    if response is None:
        documented = ", ".join(sorted(str(s) for s in operation.spec["responses"]))
        raise ApiError(400, f"Prefer: code={status}: {operation.method.upper()} {operation.path} documents no "
                            f"{status} answer (it documents {documented})", field="Prefer")
    headers = fixed_headers(response)
    if "Retry-After" in (response.get("headers") or {}):
        headers["Retry-After"] = str(math.ceil(window.window) if window is not None else 60)
    if status == 204:
        return None, status, headers
    example = operation.response_example(status)
    if example is not None:
        return example, status, headers
    if status >= 400:
        raise ApiError(status, f"Forced by Prefer: code={status}", headers=headers)
    raise ApiError(400, f"Prefer: code={status}: the {status} answer of {operation.method.upper()} "
                        f"{operation.path} has no documented example to answer with", field="Prefer")

