"""Per-track ground speed from a camera calibration: pure, numpy only.

Each track's bottom-centre (where the vehicle touches the road) is mapped to the
ground with the camera's homography (:class:`core.geometry.Homography`, pixels ->
metres). A track's velocity is a robust straight-line fit (Theil-Sen: the median of
pairwise slopes) of its ground positions over the last ``window_s`` seconds, so a
jittery or briefly wrong box moves the estimate little.

Plausibility:

* boxes touching the image edge (the vehicle is only partly in view, so its
  bottom-centre is wrong) are not used for the fit;
* positions where one pixel covers more than ``max_m_per_px`` metres of road (far
  away, near the horizon) are not used either;
* a position that would need more than ``max_accel_mps2`` (plus a jitter allowance)
  to reach from the current fit is an outlier and is skipped; two in a row mean the
  track really moved (e.g. an id switch) and the fit restarts from there. Before the
  fit has enough positions for a speed, a provisional fit of the positions so far
  (with the slack their short span leaves) is the reference, so a jump (a blob
  merging with a neighbour in dense traffic) cannot become the first speed;
* no speed until the fit spans ``min_span_s`` with ``min_samples`` positions, and a
  fitted speed above ``max_kmh`` is reported as unknown (``implausible``), never as a
  1,500 km/h reading.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.geometry import Homography
from core.types import Point, Track, box_bottom_center

#: Metres of position jitter always allowed between two samples before a sample is an outlier.
JITTER_ALLOWANCE_M = 2.5


@dataclass(frozen=True, slots=True)
class SpeedParams:
    """Tuning of :class:`SpeedEstimator` (mirrors ``config.settings.SpeedConfig``)."""

    window_s: float = 1.5
    min_span_s: float = 0.6
    min_samples: int = 4
    max_kmh: float = 200.0
    max_accel_mps2: float = 15.0
    edge_margin_px: float = 3.0
    max_m_per_px: float = 0.5
    forget_s: float = 5.0


@dataclass(frozen=True, slots=True)
class Motion:
    """Where a track is on the ground and how fast it moves.

    Attributes:
        track_id: Track id.
        ground: Ground position (metres) of the bottom-centre in this frame, or None when
            it maps to infinity (above the horizon).
        velocity: Fitted ground velocity (m/s), or None while unknown.
        speed_kmh: ``|velocity|`` in km/h when known and plausible, else None.
        implausible: The fit gave a speed above the plausibility bound.
        used: This frame's position went into the fit (unclipped, resolvable, no outlier).
        samples: Positions in the current fit.
        restarted: The fit restarted this frame: the track's positions jumped and stayed
            away (often an identity switch between two vehicles).
    """

    track_id: int
    ground: Point | None
    velocity: tuple[float, float] | None
    speed_kmh: float | None
    implausible: bool = False
    used: bool = False
    samples: int = 0
    restarted: bool = False


def theil_sen_slope(t: np.ndarray, x: np.ndarray) -> float:
    """Median of the pairwise slopes ``(x_j - x_i) / (t_j - t_i)`` (robust line fit).

    Args:
        t: Times, strictly increasing.
        x: Values.

    Returns:
        The slope (0 for fewer than 2 points).
    """
    n = len(t)
    if n < 2:
        return 0.0
    i, j = np.triu_indices(n, k=1)
    dt = t[j] - t[i]
    ok = dt > 1e-9
    if not ok.any():
        return 0.0
    return float(np.median((x[j] - x[i])[ok] / dt[ok]))


@dataclass
class _History:
    t: deque[float]
    x: deque[float]
    y: deque[float]
    last_seen_s: float
    rejected: int = 0
    velocity: tuple[float, float] | None = None


class SpeedEstimator:
    """Smoothed ground speed per track for one camera. Not thread-safe.

    Example:
        >>> from core.geometry import Homography
        >>> h = Homography([(0, 0), (100, 0), (100, 100), (0, 100)], [(0, 0), (10, 0), (10, 10), (0, 10)])
        >>> est = SpeedEstimator(h, SpeedParams(min_samples=2, min_span_s=0.1))
        >>> from core.types import Track
        >>> _ = est.update(0, [Track(1, "car", 1.0, (10, 10, 10, 10))])
        >>> round(est.update(500, [Track(1, "car", 1.0, (10, 20, 10, 10))])[1].speed_kmh, 1)
        7.2
    """

    def __init__(self, homography: Homography, params: SpeedParams | None = None) -> None:
        """Create an estimator.

        Args:
            homography: Pixels -> ground metres.
            params: Tuning; defaults when None.
        """
        self.h = homography
        self.p = params or SpeedParams()
        self._tracks: dict[int, _History] = {}

    def metres_per_pixel(self, p: Point) -> float:
        """Ground distance covered by one pixel at image point ``p`` (worst of x/y)."""
        g = self.h.to_ground([p, (p[0] + 1.0, p[1]), (p[0], p[1] + 1.0)])
        if not np.all(np.isfinite(g)):
            return math.inf
        return float(max(np.hypot(*(g[1] - g[0])), np.hypot(*(g[2] - g[0]))))

    def _clipped(self, track: Track, image_size: tuple[int, int] | None) -> bool:
        if image_size is None:
            return False
        w, h = image_size
        m = self.p.edge_margin_px
        x, y, bw, bh = track.box
        return x <= m or y + bh >= h - m or x + bw >= w - m

    def update(
        self, ts_ms: int, tracks: Sequence[Track], image_size: tuple[int, int] | None = None
    ) -> dict[int, Motion]:
        """Feed one frame's tracks.

        Args:
            ts_ms: Frame time (ms); frames must come in time order.
            tracks: Tracks of the frame.
            image_size: ``(width, height)`` of the frame, to skip boxes clipped by its edges.

        Returns:
            Motion of every given track, by track id.
        """
        t = ts_ms / 1000.0
        out: dict[int, Motion] = {}
        for tr in tracks:
            bc = box_bottom_center(tr.box)
            g = self.h.to_ground([bc])[0]
            ground: Point | None = (float(g[0]), float(g[1])) if np.all(np.isfinite(g)) else None
            hist = self._tracks.get(tr.track_id)
            if hist is None:
                hist = self._tracks[tr.track_id] = _History(deque(), deque(), deque(), t)
            hist.last_seen_s = t
            used = restarted = False
            usable = (
                ground is not None
                and not self._clipped(tr, image_size)
                and self.metres_per_pixel(bc) <= self.p.max_m_per_px
                and (not hist.t or t > hist.t[-1])
            )
            if usable and ground is not None:
                if self._outlier(hist, t, ground):
                    hist.rejected += 1
                    if hist.rejected >= 2:  # it really moved: restart the fit here
                        for q in (hist.t, hist.x, hist.y):
                            q.clear()
                        hist.velocity, hist.rejected = None, 0
                        used = restarted = True
                else:
                    hist.rejected = 0
                    used = True
                if used:
                    hist.t.append(t)
                    hist.x.append(ground[0])
                    hist.y.append(ground[1])
                    while hist.t and hist.t[0] < t - self.p.window_s - 1e-9:
                        for q in (hist.t, hist.x, hist.y):
                            q.popleft()
                    hist.velocity = self._fit(hist)
            out[tr.track_id] = self._motion(tr.track_id, ground, hist, used, restarted)
        self._forget(t)
        return out

    def _outlier(self, hist: _History, t: float, g: Point) -> bool:
        if not hist.t:
            return False
        dt = t - hist.t[-1]
        reach = self.p.max_kmh / 3.6 * dt + JITTER_ALLOWANCE_M  # anywhere a plausible vehicle gets to
        velocity, slack_mps = hist.velocity, 0.0
        if velocity is None and len(hist.t) >= 2:
            # No speed yet, but the positions so far already say how the track moves (within
            # the jitter over their span): judge the new one against that, never more loosely
            # than by ``reach``.
            span = hist.t[-1] - hist.t[0]
            velocity, slack_mps = self._slopes(hist), 2 * JITTER_ALLOWANCE_M / span
        if velocity is None:
            return math.hypot(g[0] - hist.x[-1], g[1] - hist.y[-1]) > reach
        vx, vy = velocity
        px, py = hist.x[-1] + vx * dt, hist.y[-1] + vy * dt
        err = math.hypot(g[0] - px, g[1] - py)
        allowed = (
            0.5 * self.p.max_accel_mps2 * dt * dt + JITTER_ALLOWANCE_M + (0.1 * math.hypot(vx, vy) + slack_mps) * dt
        )
        return err > (allowed if hist.velocity is not None else min(allowed, reach))

    def _fit(self, hist: _History) -> tuple[float, float] | None:
        n = len(hist.t)
        if n < self.p.min_samples or hist.t[-1] - hist.t[0] < self.p.min_span_s - 1e-9:
            return None
        return self._slopes(hist)

    @staticmethod
    def _slopes(hist: _History) -> tuple[float, float]:
        """Theil-Sen ground velocity of the positions in ``hist`` (at least two)."""
        n = len(hist.t)
        tt = np.fromiter(hist.t, float, n)
        return (theil_sen_slope(tt, np.fromiter(hist.x, float, n)), theil_sen_slope(tt, np.fromiter(hist.y, float, n)))

    def _motion(self, track_id: int, ground: Point | None, hist: _History, used: bool, restarted: bool) -> Motion:
        v = hist.velocity
        n = len(hist.t)
        if v is None:
            return Motion(track_id, ground, None, None, used=used, samples=n, restarted=restarted)
        kmh = math.hypot(*v) * 3.6
        if kmh > self.p.max_kmh:
            return Motion(track_id, ground, None, None, implausible=True, used=used, samples=n, restarted=restarted)
        return Motion(track_id, ground, v, kmh, used=used, samples=n, restarted=restarted)

    def _forget(self, t: float) -> None:
        old = [tid for tid, h in self._tracks.items() if t - h.last_seen_s > self.p.forget_s]
        for tid in old:
            del self._tracks[tid]

    @property
    def tracked(self) -> int:
        """Tracks currently remembered."""
        return len(self._tracks)


__all__ = ["JITTER_ALLOWANCE_M", "Motion", "SpeedEstimator", "SpeedParams", "theil_sen_slope"]
