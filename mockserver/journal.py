"""What the request journal says about each request beyond its method, path and status: the
operation that served it and *why* it got its answer (the validation message, the missing
credential, the rate limit, a forced or injected answer, a fault), and for a request that matched
no operation, the nearest operations and what differed (WireMock's near misses).

The journal entry travels with the request in `scope["extensions"]` (a dict that copies of the
scope share), so the error renderer and the handler can note on it; so does the operation the
route stage found (`OPERATION`).
"""

from __future__ import annotations

import re

KEY = "mockserver.journal"
OPERATION = "mockserver.operation"


def note(scope, **fields) -> None:
    """Add `fields` to the journal entry of the request `scope` belongs to (if it is journaled)."""
    entry = (scope.get("extensions") or {}).get(KEY) if scope is not None else None
    if entry is not None:
        for name, value in fields.items():
            if name == "why" and entry.get("why"):
                continue  # the first reason given is the one that decided the answer
            entry[name] = value


def operation_of(scope) -> str | None:
    """The operationId of the operation serving the request (set by the pipeline's route stage)."""
    return (scope.get("extensions") or {}).get(OPERATION) if scope is not None else None


def near_misses(contract, method: str, path: str, limit: int = 3) -> list[dict]:
    """The operations nearest to `method path`, each with what differed."""
    segments = [s for s in path.split("/") if s]
    scored = []
    for op in contract.operations.values():
        template = [s for s in op.path.split("/") if s]
        differs = []
        same = 0
        for index in range(max(len(segments), len(template))):
            got = segments[index] if index < len(segments) else None
            want = template[index] if index < len(template) else None
            if got is not None and want is not None and (got == want or re.fullmatch(r"\{[^}]+\}", want)):
                same += 1
            elif want is None:
                differs.append(f"path: '{got}' after where {op.path} ends")
            elif got is None:
                differs.append(f"path: ends where {op.path} goes on with '{want}'")
            else:
                differs.append(f"path: '{got}' where {op.path} has '{want}'")
        if path.endswith("/") != op.path.endswith("/") and not differs:
            differs.append(f"path: trailing slash ({op.path})")
        if op.method.upper() != method.upper():
            differs.insert(0, f"method: {method.upper()}, the operation is {op.method.upper()}")
        score = same / max(len(segments), len(template), 1) + (0.3 if op.method.upper() == method.upper() else 0)
        scored.append((score, op, differs))
    scored.sort(key=lambda item: -item[0])
    return [{"operation": op.operation_id, "method": op.method.upper(), "path": op.path, "differs": differs}
            for score, op, differs in scored[:limit] if score > 0]
