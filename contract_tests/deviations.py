"""Which failures rest only on what a document does not state: deviations, not violations.

`classify` is called by the runner for every failure a run records. It answers None for a
violation of the document, or the reason the failure is only a deviation (an `x-inferred`
element, a bound whose breach the document does not say is refused, a business-rule refusal in
the API's own error body naming a field). Deviations are listed apart and fail a run only with
`--strict`.
"""

from __future__ import annotations


def classify(rule: str, failure, case, response, contract) -> str | None:
    """None: a violation. A string: why this failure is a deviation, not a violation."""
    return None
