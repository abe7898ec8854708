"""Speeds measured through the real pipeline on the synthetic camera agree with its ground truth."""

from __future__ import annotations

from bench.speed import measure


def test_speed_within_5_percent_of_ground_truth() -> None:
    f = measure(seconds=30.0, vpm=16.0, fps=10.0, seed=5)
    assert f.vehicles >= 5 and f.samples >= 150
    assert f.median_abs_error < 0.03
    assert f.within_5pct >= 0.9
    assert f.vehicles_within_5pct >= 0.9, f
