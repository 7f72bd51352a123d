"""The coverage guard: no verdict without evidence.

Per operation, what the run sent and what came back: cases, positive cases, positive cases
answered 2xx, statuses by class, and the statuses the spec documents that the run never saw.
An operation whose positive cases never got a 2xx is *not tested*, and `why()` says so in one
line from what came back (a wrong key, a wrong base path, pacing under a rate limit, ...).

Read from Schemathesis's recorder (`ScenarioFinished.recorder`): stateful scenarios count toward
the operations they call. Requests a check derives on its own (an auth probe without the
credential) are not cases: they are counted only as statuses seen.
"""

from __future__ import annotations

import collections
import dataclasses


def positive(case) -> bool:
    """Whether Schemathesis generated `case` as a valid request (no metadata: an explicit case)."""
    mode = getattr(getattr(case.meta, "generation", None), "mode", None)
    return mode is None or str(getattr(mode, "value", mode)) == "positive"


def derived(node) -> bool:
    """A request a check made from a case (its parent), not one the run generated: it has a
    parent but no stateful transition leading to it."""
    return node.parent_id is not None and node.transition is None


@dataclasses.dataclass
class OperationCoverage:
    label: str                       # "GET /api/events"
    operation_id: str
    documented: tuple[str, ...] = ()  # response statuses the spec documents ("200", "4XX"; not "default")
    cases: int = 0
    positive: int = 0
    positive_2xx: int = 0
    positive_statuses: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    classes: collections.Counter = dataclasses.field(default_factory=collections.Counter)  # "2xx" -> n
    seen: set = dataclasses.field(default_factory=set)   # every status the server answered, probes included
    no_answer: int = 0               # cases whose request got no response (connection error, timeout)
    admits: tuple[str, ...] = ()     # key types the operation admits (`x-access`), when it says

    @property
    def tested(self) -> bool:
        return self.positive_2xx > 0

    @property
    def never_seen(self) -> list[str]:
        classes = {f"{str(s)[0]}XX" for s in self.seen}
        return [s for s in self.documented
                if not (s.upper() in classes if s.upper().endswith("XX") else int(s) in self.seen)]

    def why(self, everything_404: bool = False) -> str:
        """One line: why this operation is not tested, from what came back."""
        if not self.cases:
            return "no case was generated for it in the phases run (try more --phases or --max-examples)"
        if not self.positive:
            return f"none of its {self.cases} cases was a valid request"
        statuses = self.positive_statuses
        answered = sum(statuses.values())
        if not answered:
            return f"none of its {self.positive} valid requests got an answer (connection failed or timed out)"
        if len(statuses) == 1:
            status = next(iter(statuses))
            if status == 401:
                return f"every request was answered 401 ({answered} of {answered}): are the credentials right?"
            if status == 403 and self.admits:
                return (f"every request was answered 403 ({answered} of {answered}): it admits only "
                        f"{', '.join(self.admits)} keys; is the run's identity (-H) one of them?")
            if status == 403:
                return (f"every request was answered 403 ({answered} of {answered}): does the identity "
                        f"have the permission it needs?")
            if status == 404 and everything_404:
                return f"every request was answered 404 ({answered} of {answered}): is --base-url right?"
            if status == 404:
                return (f"every request was answered 404 ({answered} of {answered}): no request named a "
                        f"resource that exists")
        if statuses.get(429):
            return (f"answered 429 to {statuses[429]} of {answered} valid requests: the run is pacing to the "
                    f"documented limit; give it more time or fewer --max-examples")
        spread = ", ".join(f"{s} ×{n}" for s, n in sorted(statuses.items()))
        return f"its {answered} valid requests were answered {spread}: none succeeded"

    def row(self) -> dict:
        return {"operation": self.label, "operation_id": self.operation_id, "cases": self.cases,
                "positive": self.positive, "positive_2xx": self.positive_2xx,
                "2xx": self.classes.get("2xx", 0), "4xx": self.classes.get("4xx", 0),
                "5xx": self.classes.get("5xx", 0), "never_seen": self.never_seen}


class Coverage:
    """Accumulates what every scenario recorded, per operation."""

    def __init__(self, operations: dict[str, str], documented: dict[str, tuple[str, ...]],
                 admits: dict[str, tuple[str, ...]] | None = None, accepted_on_retry=None):
        # accepted_on_retry(case id) -> bool: the valid request was refused as taking a unique
        # value, and accepted once sent again with fresh ones (uniqueness.py): it is evidence that
        # the operation serves a valid request, as a 2xx to it would be
        self.accepted_on_retry = accepted_on_retry or (lambda case_id: False)
        # operations: label -> operationId, in the order of the spec
        self.operations = {label: OperationCoverage(label, op_id, documented.get(label, ()),
                                                    admits=(admits or {}).get(label, ()))
                           for label, op_id in operations.items()}

    def _for(self, case) -> OperationCoverage:
        label = case.operation.label
        if label not in self.operations:
            op_id = case.operation.definition.raw.get("operationId") or label
            self.operations[label] = OperationCoverage(label, op_id)
        return self.operations[label]

    def add(self, recorder) -> None:
        for case_id, node in recorder.cases.items():
            case = node.value
            entry = self._for(case)
            interaction = recorder.interactions.get(case_id)
            response = interaction.response if interaction is not None else None
            if response is not None:
                entry.seen.add(response.status_code)
            if derived(node):
                continue
            entry.cases += 1
            status = response.status_code if response is not None else None
            if status is None:
                entry.no_answer += 1
            else:
                entry.classes[f"{status // 100}xx"] += 1
            if positive(case):
                entry.positive += 1
                if status is not None:
                    entry.positive_statuses[status] += 1
                    if 200 <= status < 300 or self.accepted_on_retry(case_id):
                        entry.positive_2xx += 1

    def untested(self) -> list[OperationCoverage]:
        return [c for c in self.operations.values() if not c.tested]

    def reasons(self) -> dict[str, str]:
        """operationId -> why it is not tested."""
        # every answer a 404, a path without parameters among them (a collection, not a missing
        # record): the requests go to the wrong place
        answered = [c for c in self.operations.values() if c.positive_statuses]
        everything_404 = (bool(answered) and all(set(c.positive_statuses) == {404} for c in answered)
                          and any("{" not in c.label for c in answered))
        return {c.operation_id: c.why(everything_404) for c in self.untested()}

    def rows(self) -> list[dict]:
        return [c.row() for c in self.operations.values()]


def documented_statuses(op_spec: dict) -> tuple[str, ...]:
    return tuple(str(s) for s in (op_spec.get("responses") or {}) if str(s) != "default")
