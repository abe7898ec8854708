"""Compatibility entry point: the scenario runner is :mod:`bench.scenario` now.

``python -m ingest.simulate --scenario FILE [--json] ...`` still runs it with the same
options (the README, the tests and the scenario files name this path). The runner drives
workers, the aggregator and the services, so it lives above them in :mod:`bench`; this
module imports it only when run (or when an old name is looked up), so :mod:`ingest`
does not depend on the layers above it.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

_MODULES = (
    "bench.scenario.cli",
    "bench.scenario.model",
    "bench.scenario.source",
    "bench.scenario.expected",
    "bench.scenario.runner",
    "bench.scenario.report",
)


def __getattr__(name: str) -> Any:
    """Names of the old module (``Scenario``, ``Runner``, ``expectations``, ...), found in :mod:`bench.scenario`."""
    for mod in _MODULES:
        m = importlib.import_module(mod)
        if hasattr(m, name):
            return getattr(m, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    sys.exit(importlib.import_module("bench.scenario.cli").main(prog="python -m ingest.simulate"))
