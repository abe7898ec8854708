"""Congestion levels: thresholds, hysteresis, dwell, slow-speed bump."""

from __future__ import annotations

import pytest

from core.congestion import CongestionTracker, LevelThresholds, raw_level
from core.types import CongestionLevel as L

T = LevelThresholds(moderate=0.15, heavy=0.30, jammed=0.50, hysteresis=0.05, min_dwell_s=0.0)


@pytest.mark.parametrize(
    ("occupancy", "level"),
    [(0.0, L.FREE), (0.149, L.FREE), (0.15, L.MODERATE), (0.31, L.HEAVY), (0.5, L.JAMMED), (1.0, L.JAMMED)],
)
def test_raw_level(occupancy: float, level: L) -> None:
    assert raw_level(occupancy, T) is level


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        # rises at once, falls only below threshold - hysteresis
        ([0.32, 0.28], L.HEAVY),
        ([0.32, 0.26], L.HEAVY),
        ([0.32, 0.24], L.MODERATE),
        ([0.60, 0.46], L.JAMMED),
        ([0.60, 0.44], L.HEAVY),
        ([0.60, 0.02], L.FREE),
        ([0.10, 0.16], L.MODERATE),
    ],
)
def test_hysteresis(sequence: list[float], expected: L) -> None:
    tr = CongestionTracker(T)
    for i, occ in enumerate(sequence):
        level = tr.update(occ, ts_ms=i * 1000)
    assert level is expected


def test_no_flapping_at_boundary() -> None:
    tr = CongestionTracker(T)
    levels = [tr.update(0.30 + (0.03 if i % 2 else -0.03), ts_ms=i * 1000) for i in range(40)]
    assert levels[0] is L.MODERATE  # 0.27 at the start
    assert set(levels[1:]) == {L.HEAVY}  # once heavy, the +-0.03 wobble never drops it


def test_min_dwell_delays_change() -> None:
    tr = CongestionTracker(LevelThresholds(min_dwell_s=10.0))
    assert tr.update(0.0, ts_ms=0) is L.FREE
    assert tr.update(0.6, ts_ms=1_000) is L.FREE  # candidate jammed seen for 0 s
    assert tr.update(0.6, ts_ms=6_000) is L.FREE  # 5 s
    assert tr.update(0.6, ts_ms=11_000) is L.JAMMED  # 10 s
    # a brief dip resets the candidate
    assert tr.update(0.0, ts_ms=12_000) is L.JAMMED
    assert tr.update(0.6, ts_ms=13_000) is L.JAMMED
    assert tr.update(0.0, ts_ms=14_000) is L.JAMMED


def test_slow_traffic_raises_one_step() -> None:
    tr = CongestionTracker(T, speed_limit_kmh=60)
    assert tr.update(0.2, ts_ms=0, mean_speed_kmh=50) is L.MODERATE
    tr2 = CongestionTracker(T, speed_limit_kmh=60)
    assert tr2.update(0.2, ts_ms=0, mean_speed_kmh=10) is L.HEAVY
    tr3 = CongestionTracker(T, speed_limit_kmh=60)
    assert tr3.update(0.05, ts_ms=0, mean_speed_kmh=5) is L.FREE  # empty road, slow lone car
