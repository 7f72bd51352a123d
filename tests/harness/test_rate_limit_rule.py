"""The countdown half of `rate_limit_headers`: X-RateLimit-Remaining must fall from one request to
the next, unless the first answer's reset time had come by the second (a sliding window frees a
slot whenever an old request leaves it; a long run against one saw the count rise and was
wrongly failed). A server that never counts down is caught in broken.py."""

from __future__ import annotations

import time

import pytest

from contract_tests.rules.rate_limits import _slot_freed

NOW = object()  # a Unix time, given as an offset from the moment the test runs (not collection)


@pytest.mark.parametrize("reset, sent_ago, freed", [
    ((NOW, 60), 0, False),                      # a Unix time a minute away: no slot has freed
    ((NOW, -5), 0, True),                       # one already past
    ((NOW, 0), 0, True),                        # this second (rounded up: may come a second early)
    ("60", 0, False),                           # seconds from the request
    ("2", 5, True),                             # two seconds after a request sent five seconds ago
    (None, 0, False),                           # no reset header: the count must fall
    ("soon", 0, False),
])
def test_a_count_may_rise_only_once_the_reset_time_has_come(reset, sent_ago, freed):
    if isinstance(reset, tuple):
        reset = str(int(time.time()) + reset[1])
    assert _slot_freed(reset, time.time() - sent_ago) is freed
