"""Congestion follows a noisy jam without flapping; the aggregator raises one incident per spell."""

from __future__ import annotations

import math

import numpy as np

from config.settings import DEFAULT_CONFIG, load_config
from core.congestion import CongestionTracker, LevelThresholds
from core.types import CongestionLevel as L
from core.types import DensityReport, IncidentKind, Priority
from services.aggregate import SegmentAggregator


def jam(t: float) -> float:
    """True occupancy of a jam that builds up to 0.55 at t = 150 s and clears by 300 s."""
    return 0.05 + 0.5 * (0.5 - 0.5 * math.cos(2 * math.pi * t / 300.0))


def test_noisy_jam_levels_follow_without_flapping() -> None:
    rng = np.random.default_rng(1)
    tr = CongestionTracker(LevelThresholds(min_dwell_s=10, smooth_s=20), speed_limit_kmh=60)
    levels = []
    for s in range(300):
        occ = max(0.0, jam(s) + rng.normal(0, 0.12))  # a detector's noisy occupancy
        levels.append(tr.update(occ, ts_ms=s * 1000))
    changes = [levels[0]] + [b for a, b in zip(levels, levels[1:], strict=False) if a != b]
    assert changes == [L.FREE, L.MODERATE, L.HEAVY, L.JAMMED, L.HEAVY, L.MODERATE, L.FREE]
    assert L.JAMMED in levels[140:200] and levels[-1] is L.FREE


def test_without_smoothing_noise_blocks_the_dwell() -> None:
    rng = np.random.default_rng(1)
    tr = CongestionTracker(LevelThresholds(min_dwell_s=10, smooth_s=0), speed_limit_kmh=60)
    levels = {tr.update(max(0.0, jam(s) + rng.normal(0, 0.12)), ts_ms=s * 1000) for s in range(300)}
    assert L.JAMMED not in levels  # why smoothing is on by default


def _report(cam: str, seg: str, ts: int, occ: float, speed: float | None = None) -> DensityReport:
    return DensityReport(cam, seg, ts, vehicles=occ * 20, occupancy=occ, mean_speed_kmh=speed)


def test_one_congestion_incident_per_spell() -> None:
    cfg = load_config(DEFAULT_CONFIG)
    cam = next(c for c in cfg.cameras if c.segment == "gt-rd")
    agg = SegmentAggregator(cfg)
    incidents = []
    occupancy = [0.05] * 40 + [0.7] * 80 + [0.05] * 80 + [0.7] * 80
    for s, occ in enumerate(occupancy):
        seg = agg.add(_report(cam.id, "gt-rd", 1_000_000 + s * 1000, occ))
        assert seg is not None
        inc = agg.congestion_incident(seg)
        if inc is not None:
            incidents.append(inc)
    assert len(incidents) == 2 and incidents[0].incident_id != incidents[1].incident_id
    first = incidents[0]
    assert (
        first.kind is IncidentKind.CONGESTION
        and first.segment_id == "gt-rd"
        and first.priority in (Priority.MEDIUM, Priority.HIGH)
    )
    assert first.location is not None and "GT Road" in first.summary
