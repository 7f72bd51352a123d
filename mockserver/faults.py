"""Latency and faults (WireMock's delays and fault names are the model), so a frontend can try its
loading spinner and its retry logic:

    GET    /__admin/faults                  the rules in force, and the operations a rule may name
    POST   /__admin/faults                  set one rule (it replaces the rule of the same scope)
    DELETE /__admin/faults[?operation=ID]   clear every rule, or the one of that scope
    POST   /__admin/reset                   clears them too

A rule, as JSON (every field optional but one of the delay, `status` or `fault`):

    {"operation": "listEvents",               an operationId; "*" (the default) is every operation
     "fixedDelayMilliseconds": 500,           every answer that late, or one drawn per request from
     "delayDistribution": {"type": "uniform", "lower": 100, "upper": 900}
                        | {"type": "lognormal", "median": 300, "sigma": 0.4},   (ms; a long tail)
     "status": [503, 429],                    a documented error status answered instead (one drawn),
                                              in the API's own body, after authentication, rate
                                              limiting and validation, as `Prefer: code=` does
     "fault": "CONNECTION_RESET_BY_PEER",     or a broken connection instead of any answer
     "probability": 0.03,                     how often the status or fault happens (default 1)
     "seed": 7}                               the draws (delays, probability, status) repeat exactly

A request takes its operation's rule, else the "*" rule. Per request, `Prefer: delay=MS` and
`Prefer: fault=NAME` do the same for that request alone (in place of the rule's delay or fault).
Delays are at most 60 s (a lognormal draw is cut there). The faults act on the connection itself:
ASGI has no message for "no answer", so they reach uvicorn's transport through the `send` it
hands the app (the one place this leans on uvicorn rather than on ASGI):

    CONNECTION_RESET_BY_PEER    the connection is reset (RST) with no answer
    EMPTY_RESPONSE              the connection is closed with no answer
    MALFORMED_RESPONSE_CHUNK    a 200 status line and headers, then a broken chunk, then closed
    RANDOM_DATA_THEN_CLOSE      bytes that are not HTTP, then closed

Under another ASGI server (no transport to reach) every fault is a 200 cut off mid-body.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import math
import random
import socket
import struct

from starlette.requests import Request
from starlette.responses import JSONResponse

from .prefer import FAULTS, MAX_DELAY_MS, MalformedPrefer, header_value, parse

_FIELDS = ("operation", "fixedDelayMilliseconds", "delayDistribution", "status", "fault", "probability", "seed")


SNAPSHOT = "mockserver.faults"  # the rules a request took at the connection, in its scope's extensions


class BadRule(ValueError):
    pass


class Rule:
    def __init__(self, spec: dict, contract):
        if not isinstance(spec, dict):
            raise BadRule("a rule is a JSON object")
        unknown = sorted(set(spec) - set(_FIELDS))
        if unknown:
            raise BadRule(f"unknown field {', '.join(unknown)} (fields: {', '.join(_FIELDS)})")
        self.operation = spec.get("operation", "*")
        if self.operation != "*" and self.operation not in contract.operations:
            raise BadRule(f"operation {self.operation!r} is not an operationId of {contract.slug} "
                          f"(nor \"*\", every operation)")
        self.fixed = _milliseconds(spec, "fixedDelayMilliseconds")
        self.distribution = _distribution(spec.get("delayDistribution"))
        if self.fixed is not None and self.distribution is not None:
            raise BadRule("fixedDelayMilliseconds or delayDistribution, not both")
        self.statuses = _statuses(spec.get("status"), self.operation, contract)
        self.fault = spec.get("fault")
        if self.fault is not None and self.fault not in FAULTS:
            raise BadRule(f"fault {self.fault!r} is not one of {', '.join(FAULTS)}")
        if self.fault is not None and self.statuses:
            raise BadRule("status or fault, not both: a rule answers one way")
        self.probability = spec.get("probability", 1)
        if isinstance(self.probability, bool) or not isinstance(self.probability, int | float) \
                or not 0 <= self.probability <= 1:
            raise BadRule(f"probability {self.probability!r}: a number from 0 to 1")
        if "probability" in spec and not (self.fault or self.statuses):
            raise BadRule("probability is how often status or fault happens: give one of them")
        self.seed = spec.get("seed")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise BadRule(f"seed {self.seed!r}: a whole number")
        if self.fixed is None and self.distribution is None and not self.statuses and self.fault is None:
            raise BadRule("a rule needs fixedDelayMilliseconds, delayDistribution, status or fault")
        self.rng = random.Random(self.seed)
        self.spec = {key: spec[key] for key in _FIELDS if key in spec} | {"operation": self.operation}

    def delay(self) -> float:
        """Seconds to wait before answering (drawn per request for a distribution)."""
        if self.fixed is not None:
            return self.fixed / 1000
        if self.distribution is None:
            return 0.0
        kind = self.distribution["type"]
        if kind == "uniform":
            ms = self.rng.uniform(self.distribution["lower"], self.distribution["upper"])
        else:
            ms = self.distribution["median"] * math.exp(self.distribution["sigma"] * self.rng.gauss(0, 1))
        return min(ms, MAX_DELAY_MS) / 1000

    def happens(self) -> bool:
        return self.probability >= 1 or self.rng.random() < self.probability


def _milliseconds(spec, name, where=""):
    value = spec.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_DELAY_MS:
        raise BadRule(f"{where}{name} {value!r}: milliseconds from 0 to {MAX_DELAY_MS}")
    return value


def _distribution(spec):
    if spec is None:
        return None
    if not isinstance(spec, dict) or spec.get("type") not in ("uniform", "lognormal"):
        raise BadRule('delayDistribution: {"type": "uniform", "lower": MS, "upper": MS} or '
                      '{"type": "lognormal", "median": MS, "sigma": S}')
    keys = ("lower", "upper") if spec["type"] == "uniform" else ("median", "sigma")
    extra = sorted(set(spec) - {"type", *keys})
    if extra or any(key not in spec for key in keys):
        raise BadRule(f"delayDistribution of type {spec['type']} takes {' and '.join(keys)}"
                      + (f" (not {', '.join(extra)})" if extra else ""))
    if spec["type"] == "uniform":
        lower = _milliseconds(spec, "lower", "delayDistribution.")
        upper = _milliseconds(spec, "upper", "delayDistribution.")
        if lower > upper:
            raise BadRule("delayDistribution: lower is above upper")
    else:
        _milliseconds(spec, "median", "delayDistribution.")
        sigma = spec["sigma"]
        if isinstance(sigma, bool) or not isinstance(sigma, int | float) or not 0 <= sigma <= 3:
            raise BadRule(f"delayDistribution.sigma {sigma!r}: a number from 0 to 3")
    return dict(spec)


def _statuses(value, operation_id, contract) -> list[int]:
    if value is None:
        return []
    statuses = value if isinstance(value, list) else [value]
    if not statuses or not all(isinstance(s, int) and not isinstance(s, bool) and 400 <= s <= 599
                               for s in statuses):
        raise BadRule(f"status {value!r}: an error status (400-599) or a list of them")
    if operation_id != "*":
        documented = _documented(contract.operations[operation_id])
        missing = [s for s in statuses if s not in documented]
        if missing:
            raise BadRule(f"{operation_id} documents no {', '.join(map(str, missing))} answer (it documents "
                          f"{', '.join(map(str, sorted(documented)))})")
    elif not any(set(statuses) & _documented(op) for op in contract.operations.values()):
        raise BadRule(f"no operation of {contract.slug} documents {', '.join(map(str, statuses))}")
    return statuses


def _documented(operation) -> set[int]:
    return {int(s) for s in operation.spec["responses"] if str(s).isdigit()}


class Faults:
    """The rules in force for one API, in this process (shared.RedisFaults: in the shared store).
    A request takes one `snapshot()` of them, at the connection, and uses it throughout
    (`SNAPSHOT` in its scope's extensions)."""

    def __init__(self, contract):
        self.contract = contract
        self._rules: dict[str, Rule] = {}

    def snapshot(self) -> dict[str, Rule]:
        return self._rules

    @property
    def rules(self) -> dict[str, Rule]:
        return self.snapshot()

    def set(self, spec) -> Rule:
        rule = Rule(spec, self.contract)
        self._rules[rule.operation] = rule
        return rule

    def clear(self, operation: str | None = None) -> int:
        if operation is None:
            count = len(self._rules)
            self._rules.clear()
            return count
        return 1 if self._rules.pop(operation, None) is not None else 0

    def listing(self) -> list[dict]:
        return [rule.spec for rule in self.snapshot().values()]

    def rule_for(self, operation_id: str | None, rules: dict | None = None) -> Rule | None:
        rules = self.snapshot() if rules is None else rules
        return rules.get(operation_id) or rules.get("*")

    def injected_status(self, operation, rules: dict | None = None) -> tuple[int, Rule] | None:
        """An error status to answer `operation` with instead of running it, when a rule says so."""
        rule = self.rule_for(operation.operation_id, rules)
        if rule is None or not rule.statuses:
            return None
        documented = [s for s in rule.statuses if s in _documented(operation)]
        if not documented or not rule.happens():
            return None
        return rule.rng.choice(documented), rule

    # ---- at the connection: delays and faults, before the API sees the request -------------------

    async def before(self, scope, operation_id, entry: dict, rules: dict | None = None) -> str | None:
        """Wait as the rules and `Prefer` say; the fault to answer with instead of an answer, if any
        (`break_connection` does it)."""
        prefs = None
        value = header_value(scope["headers"])
        if value:
            with contextlib.suppress(MalformedPrefer):  # the handler answers it with the API's 400
                prefs = parse(value)
        rules = self.snapshot() if rules is None else rules
        rule = self.rule_for(operation_id, rules) if rules else None
        delay = prefs.delay / 1000 if prefs is not None and prefs.delay is not None else (
            rule.delay() if rule is not None else 0.0)
        fault = prefs.fault if prefs is not None and prefs.fault else None
        source = "Prefer"
        if fault is None and rule is not None and rule.fault is not None and rule.happens():
            fault, source = rule.fault, f"/__admin/faults rule for {rule.operation}"
        if delay:
            entry["delay_ms"] = round(delay * 1000)
            await asyncio.sleep(delay)
        if fault is not None:
            entry["fault"] = fault
            entry["why"] = f"fault {fault} (from {source})"
        return fault


async def break_connection(fault: str, send) -> None:
    raw = send
    while isinstance(raw, functools.partial) and "send" in raw.keywords:  # Starlette's CORSMiddleware wraps so
        raw = raw.keywords["send"]
    owner = getattr(raw, "__self__", None)
    transport = getattr(owner, "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        # not uvicorn's own send: what any ASGI server can do is cut an answer off mid-body
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"data": [', "more_body": True})
        raise ConnectionAbortedError(f"fault {fault}")
    if fault == "CONNECTION_RESET_BY_PEER":
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
        transport.abort()
    elif fault == "EMPTY_RESPONSE":
        transport.close()
    elif fault == "MALFORMED_RESPONSE_CHUNK":
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                        b"a\r\n{\"data\": [\r\nlskdu018973t09sylgasjkfg1][]'./.sdlv\r\n")
        transport.close()
    else:  # RANDOM_DATA_THEN_CLOSE
        transport.write(bytes(random.Random().getrandbits(8) for _ in range(64)).replace(b"H", b"h"))
        transport.close()
    # let the server see the connection go (bounded), so it neither answers nor logs a missing answer
    for _ in range(100):
        if getattr(owner, "disconnected", True):
            break
        await asyncio.sleep(0.001)


# ---- the control surface: /__admin/faults -----------------------------------------------------------

async def admin(faults: Faults, scope, receive, method: str) -> JSONResponse:
    if method == "GET":
        operations = [{"operationId": op.operation_id, "method": op.method.upper(), "path": op.path}
                      for op in faults.contract.operations.values()]
        return JSONResponse({"faults": faults.listing(), "operations": operations})
    if method == "DELETE":
        operation = Request(scope).query_params.get("operation")
        return JSONResponse({"status": "cleared", "cleared": faults.clear(operation)})
    if method == "POST":
        raw = await Request(scope, receive).body()
        try:
            spec = json.loads(raw or b"null")
        except ValueError as exc:
            return JSONResponse({"error": f"the body is not JSON: {exc}"}, status_code=400)
        try:
            rule = faults.set(spec)
        except BadRule as exc:
            return JSONResponse({"error": f"bad fault rule: {exc}"}, status_code=400)
        return JSONResponse(rule.spec, status_code=201)
    return JSONResponse({"error": f"no admin route {method} {scope['path']} (GET, POST, DELETE)"}, status_code=405,
                        headers={"Allow": "GET, POST, DELETE"})
