"""core.speed: homography speeds, smoothing, plausibility bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.geometry import Homography
from core.speed import SpeedEstimator, SpeedParams, theil_sen_slope
from core.types import Track

# 10 px = 1 m, y up the image = +y on the ground (image y grows downward).
SRC = [(0, 1000), (1000, 1000), (1000, 0), (0, 0)]
DST = [(0, 0), (100, 0), (100, 100), (0, 100)]
H = Homography(SRC, DST)


def _track(tid: int, ground_y_m: float, x_px: float = 500.0, w: float = 40.0, h: float = 30.0) -> Track:
    bottom = 1000.0 - ground_y_m * 10.0
    return Track(tid, "car", 0.9, (x_px - w / 2, bottom - h, w, h))


def _drive(
    est: SpeedEstimator, speed_kmh: float, seconds: float, fps: float = 10.0, jitter_m: float = 0.0, seed: int = 0
):
    rng = np.random.default_rng(seed)
    out = None
    for k in range(int(seconds * fps)):
        t_ms = int(round(k * 1000 / fps))
        y = 5.0 + speed_kmh / 3.6 * k / fps + rng.normal(0, jitter_m)
        out = est.update(t_ms, [_track(1, y)], (1000, 1000))[1]
    return out


@pytest.mark.parametrize("speed_kmh", [10.0, 45.0, 90.0, 140.0])
def test_constant_speed_is_measured(speed_kmh: float) -> None:
    m = _drive(SpeedEstimator(H, SpeedParams(max_m_per_px=5)), speed_kmh, 2.0)
    assert m is not None and m.speed_kmh == pytest.approx(speed_kmh, rel=0.01)


@pytest.mark.parametrize("jitter_m", [0.2, 0.5])
def test_jitter_is_smoothed(jitter_m: float) -> None:
    m = _drive(SpeedEstimator(H, SpeedParams(max_m_per_px=5)), 60.0, 3.0, jitter_m=jitter_m, seed=3)
    assert m is not None and m.speed_kmh == pytest.approx(60.0, rel=0.08)


def test_no_speed_before_min_span() -> None:
    est = SpeedEstimator(H, SpeedParams(min_span_s=1.0, min_samples=4, max_m_per_px=5))
    m = _drive(est, 50.0, 0.5)
    assert m is not None and m.speed_kmh is None


def test_single_wild_box_is_rejected() -> None:
    est = SpeedEstimator(H, SpeedParams(max_m_per_px=5))
    speeds = []
    for k in range(30):
        y = 5.0 + 10.0 * k / 10.0  # 36 km/h
        if k == 15:
            y += 40.0  # one jump of 40 m: 1,440 km/h if believed
        m = est.update(k * 100, [_track(1, y)], (1000, 1000))[1]
        if m.speed_kmh is not None:
            speeds.append(m.speed_kmh)
    assert max(speeds) < 40.0
    assert speeds[-1] == pytest.approx(36.0, rel=0.02)


def test_implausible_speed_is_unknown_not_reported() -> None:
    est = SpeedEstimator(H, SpeedParams(max_kmh=150, max_m_per_px=5))
    m = _drive(est, 200.0, 1.5)  # consistently 200 km/h: beyond the 150 km/h bound
    assert m is not None and m.speed_kmh is None and m.implausible


def test_absurd_jumps_never_give_a_speed() -> None:
    est = SpeedEstimator(H, SpeedParams(max_kmh=200, max_m_per_px=5))
    for k in range(20):
        m = est.update(k * 100, [_track(1, 5.0 + (41.7 if k % 2 else 0.0))], (1000, 1000))[1]  # 1,500 km/h flicker
        assert m.speed_kmh is None or m.speed_kmh < 5.0


def test_clipped_boxes_are_not_used() -> None:
    est = SpeedEstimator(H, SpeedParams(max_m_per_px=5, edge_margin_px=3))
    m = est.update(0, [Track(1, "car", 0.9, (0.0, 500.0, 40.0, 30.0))], (1000, 1000))[1]  # touches the left edge
    assert not m.used and m.ground is not None


def test_far_positions_too_coarse_are_skipped() -> None:
    # A perspective view: the top rows cover many metres per pixel.
    h = Homography([(0, 100), (100, 100), (60, 0), (40, 0)], [(0, 0), (10, 0), (10, 200), (0, 200)])
    est = SpeedEstimator(h, SpeedParams(max_m_per_px=0.5))
    assert est.metres_per_pixel((50, 2)) > 0.5 > est.metres_per_pixel((50, 99))
    assert not est.update(0, [Track(1, "car", 0.9, (45, 0.5, 10, 1.5))])[1].used


def test_theil_sen_ignores_outliers() -> None:
    t = np.arange(10, dtype=float)
    x = 2.0 * t
    x[4] = 100.0
    assert theil_sen_slope(t, x) == pytest.approx(2.0)


def test_tracks_are_forgotten() -> None:
    est = SpeedEstimator(H, SpeedParams(forget_s=1.0, max_m_per_px=5))
    est.update(0, [_track(1, 5.0)])
    est.update(5000, [_track(2, 5.0)])
    assert est.tracked == 1


def test_direction_of_velocity() -> None:
    m = _drive(SpeedEstimator(H, SpeedParams(max_m_per_px=5)), 36.0, 2.0)
    assert m is not None and m.velocity is not None
    assert m.velocity[1] == pytest.approx(10.0, rel=0.01) and abs(m.velocity[0]) < 0.1
    assert math.isclose(m.speed_kmh or 0, 36.0, rel_tol=0.01)


@pytest.mark.parametrize(
    ("still_frames", "gap_frames", "jump_m"),
    [
        (4, 1, 7.5),  # a merged blob's bottom edge jumps to the car behind: 7.5 m in 0.1 s
        (5, 2, 7.5),  # ... after a frame the track was not usable
        (3, 3, 18.0),  # an id switch after 0.3 s unseen (200 km/h would reach 16.7 m)
        (6, 1, 5.0),  # one frame before the first speed
    ],
)
def test_jump_before_the_first_speed_does_not_become_one(still_frames: int, gap_frames: int, jump_m: float) -> None:
    """A crawling track (1.8 km/h) whose position jumps before it has a speed: the jump restarts the fit."""
    est = SpeedEstimator(H, SpeedParams(max_m_per_px=5))
    speeds, restarted = [], False
    for k in range(still_frames + gap_frames + 20):
        if still_frames <= k < still_frames + gap_frames - 1:
            continue  # not seen
        y = 30.0 + 0.05 * k - (jump_m if k >= still_frames else 0.0)
        m = est.update(k * 100, [_track(1, y)], (1000, 1000))[1]
        restarted |= m.restarted
        if m.speed_kmh is not None:
            speeds.append(m.speed_kmh)
    assert restarted
    assert speeds and max(speeds) < 5.0, speeds
