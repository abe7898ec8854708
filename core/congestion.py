"""Road-segment congestion level from occupancy and speed, with hysteresis and dwell.

A level rises as soon as the measure passes the next threshold and falls only when
it drops ``hysteresis`` below the threshold of the current level; either change
takes effect only after the new level has been seen continuously for ``min_dwell_s``.
This keeps a segment from flapping between two levels at a boundary.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from core.types import CongestionLevel

_ORDER = (CongestionLevel.FREE, CongestionLevel.MODERATE, CongestionLevel.HEAVY, CongestionLevel.JAMMED)


@dataclass(frozen=True, slots=True)
class LevelThresholds:
    """Occupancy (0-1) at which each level starts.

    Attributes:
        moderate: Occupancy where ``moderate`` begins.
        heavy: Occupancy where ``heavy`` begins.
        jammed: Occupancy where ``jammed`` begins.
        hysteresis: How far below a level's threshold the measure must drop to leave it.
        min_dwell_s: How long a new level must persist before it is reported.
        slow_fraction: Mean speed below this fraction of the limit raises the level one step
            (a slow crawl with modest occupancy is still heavy traffic).
        smooth_s: Occupancy and speed are averaged over this trailing window (frame time)
            before the level is decided, so detector noise does not keep resetting the dwell
            (0 = use each measurement as it is).
    """

    moderate: float = 0.15
    heavy: float = 0.30
    jammed: float = 0.50
    hysteresis: float = 0.05
    min_dwell_s: float = 10.0
    slow_fraction: float = 0.35
    smooth_s: float = 0.0

    def start_of(self, level: CongestionLevel) -> float:
        return {
            CongestionLevel.FREE: 0.0,
            CongestionLevel.MODERATE: self.moderate,
            CongestionLevel.HEAVY: self.heavy,
            CongestionLevel.JAMMED: self.jammed,
        }[level]


def raw_level(occupancy: float, t: LevelThresholds) -> CongestionLevel:
    """Level of one measurement with no memory."""
    level = CongestionLevel.FREE
    for candidate in _ORDER[1:]:
        if occupancy >= t.start_of(candidate):
            level = candidate
    return level


def _step_up(level: CongestionLevel) -> CongestionLevel:
    i = _ORDER.index(level)
    return _ORDER[min(i + 1, len(_ORDER) - 1)]


class CongestionTracker:
    """Stateful level of one road segment.

    Example:
        >>> t = CongestionTracker(LevelThresholds(min_dwell_s=0))
        >>> t.update(0.6, ts_ms=0).value
        'jammed'
    """

    def __init__(self, thresholds: LevelThresholds, speed_limit_kmh: float | None = None) -> None:
        self.t = thresholds
        self.speed_limit_kmh = speed_limit_kmh
        self.level = CongestionLevel.UNKNOWN
        self._candidate: CongestionLevel | None = None
        self._candidate_since_ms = 0
        self._recent: deque[tuple[int, float, float | None]] = deque()

    def _smoothed(self, occupancy: float, ts_ms: int, mean_speed_kmh: float | None) -> tuple[float, float | None]:
        if self.t.smooth_s <= 0:
            return occupancy, mean_speed_kmh
        self._recent.append((ts_ms, occupancy, mean_speed_kmh))
        while self._recent and self._recent[0][0] < ts_ms - self.t.smooth_s * 1000:
            self._recent.popleft()
        occ = sum(o for _, o, _ in self._recent) / len(self._recent)
        speeds = [v for _, _, v in self._recent if v is not None]
        return occ, (sum(speeds) / len(speeds) if speeds else None)

    def _target(self, occupancy: float, mean_speed_kmh: float | None) -> CongestionLevel:
        cur = self.level
        level = raw_level(occupancy, self.t)
        if cur in _ORDER and _ORDER.index(level) < _ORDER.index(cur):
            # Falling: leave the current level only once the measure is `hysteresis` below its start.
            with_margin = raw_level(occupancy + self.t.hysteresis, self.t)
            level = _ORDER[min(_ORDER.index(cur), _ORDER.index(with_margin))]
        if (
            mean_speed_kmh is not None
            and self.speed_limit_kmh
            and occupancy >= self.t.moderate
            and mean_speed_kmh < self.slow_speed_kmh
        ):
            level = _step_up(level)
        return level

    @property
    def slow_speed_kmh(self) -> float:
        return (self.speed_limit_kmh or 0.0) * self.t.slow_fraction

    def update(self, occupancy: float, ts_ms: int, mean_speed_kmh: float | None = None) -> CongestionLevel:
        """Feed one measurement; returns the (debounced) level.

        Args:
            occupancy: Fraction 0-1 of the watched road area covered by vehicles.
            ts_ms: Measurement time (frame time), ms.
            mean_speed_kmh: Mean vehicle speed, if known.
        """
        occupancy, mean_speed_kmh = self._smoothed(max(0.0, min(1.0, occupancy)), ts_ms, mean_speed_kmh)
        target = self._target(occupancy, mean_speed_kmh)
        if self.level is CongestionLevel.UNKNOWN:
            self.level = target
            self._candidate = None
            return self.level
        if target == self.level:
            self._candidate = None
            return self.level
        if target != self._candidate:
            self._candidate = target
            self._candidate_since_ms = ts_ms
        if (ts_ms - self._candidate_since_ms) / 1000.0 >= self.t.min_dwell_s:
            self.level = target
            self._candidate = None
        return self.level
