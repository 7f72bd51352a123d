"""Our semantic rules: what a schema cannot say, each a plain function named after its rule and
registered with Schemathesis beside its own checks (`helpers.rule`), so a failure report names the
rule. Every rule reads the rule's details from the spec through apispec.ext and judges any server
by HTTP alone. Importing this package registers them all.

    helpers      the registry, which cases a rule judges, answers, probes, lists page by page
    paging       page_within_limit, page_metadata_consistent, next_page_announced
    filtering    filters_honoured, filters_complete, sorted_as_requested
    read_back    created_reads_back, updated_reads_back
    auth         missing_credential_rejected, wrong_credential_rejected, key_permissions_enforced,
                 credential_bound_to_identity
    rate_limits  rate_limit_headers
    errors       error_body_matches_api (and how an answer differs from the API's error body)

contract_tests/uniqueness.py adds unique_rejection_is_real with the same registry.
"""

from . import auth, errors, filtering, paging, rate_limits, read_back
from .helpers import CUSTOM_CHECKS, rule

__all__ = ["CUSTOM_CHECKS", "auth", "errors", "filtering", "paging", "rate_limits", "read_back", "rule"]
