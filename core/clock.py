"""The wall clock, in the unit every event carries: UTC epoch milliseconds.

Code that needs "now" takes a clock parameter defaulting to :func:`now_ms`, so tests
can inject a fake one; nothing else reads :func:`time.time` to make a millisecond stamp.
"""

from __future__ import annotations

import time


def now_ms() -> int:
    """Current wall-clock time, UTC epoch milliseconds."""
    return int(time.time() * 1000)
