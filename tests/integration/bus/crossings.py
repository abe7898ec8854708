"""Test events for the bus tests: numbered line crossings (also imported by a child process in test_spool.py)."""

from __future__ import annotations

from core.types import Direction, LineCrossing


def crossing(i: int, cam: str = "cam-a") -> LineCrossing:
    """The ``i``-th forward crossing of line ``main`` by a car on camera ``cam`` (``ts_ms`` grows with ``i``)."""
    return LineCrossing(
        camera_id=cam, line_id="main", track_id=i, label="car", direction=Direction.FORWARD, ts_ms=1_700_000_000_000 + i
    )
