"""Compatibility entry point: the segment aggregator is :mod:`services.aggregate` now.

``python -m ingest.aggregate [options]`` still runs it with the same options, and old
imports (``from ingest.aggregate import SegmentAggregator``) still resolve. Neither
imports :mod:`services` until used, so :mod:`ingest` does not depend on the layer
above it; new code uses :mod:`services.aggregate`.
"""

from __future__ import annotations

import importlib
import runpy
from typing import Any

_TARGET = "services.aggregate"


def __getattr__(name: str) -> Any:
    """Names of the old module, looked up in :mod:`services.aggregate` on first use."""
    return getattr(importlib.import_module(_TARGET), name)


if __name__ == "__main__":
    runpy.run_module(_TARGET, run_name="__main__", alter_sys=True)
