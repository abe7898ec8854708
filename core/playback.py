"""Playback of recordings, the pure part: the moment an operator asks for, the window around it, which segment
plays it and from which second, and where things sit on the timeline.

No I/O here; the dashboard's playback page (:mod:`dashboard.pages.playback`) feeds it the camera's segments
(:class:`core.types.RecordingSegment`) from the archive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from core.types import RecordingSegment

#: Accepted moment formats (UTC), besides epoch milliseconds.
WHEN_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def parse_when(text: str | None, now_ms: int) -> int:
    """The moment an operator typed, as UTC epoch ms; empty means now.

    Args:
        text: ``2026-05-01T08:30[:15]`` (UTC, ``T`` or a space), a date, or epoch milliseconds.
        now_ms: What empty input means.

    Raises:
        ValueError: anything else (the message says what is accepted).
    """
    s = (text or "").strip().removesuffix("Z")
    if not s:
        return now_ms
    if s.isdigit():
        v = int(s)
        if v < 10**11:
            raise ValueError(f"{s!r} is too small for epoch milliseconds")
        return v
    for fmt in WHEN_FORMATS:
        try:
            return int(dt.datetime.strptime(s, fmt).replace(tzinfo=dt.UTC).timestamp() * 1000)
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a time: use YYYY-MM-DDTHH:MM[:SS] (UTC) or epoch ms")


@dataclass(frozen=True, slots=True)
class Window:
    """The stretch of time the timeline shows (``[start_ms, end_ms]``)."""

    start_ms: int
    end_ms: int

    @classmethod
    def around(cls, at_ms: int, half_width_s: float) -> Window:
        half = int(half_width_s * 1000)
        return cls(at_ms - half, at_ms + half)

    def pct(self, ts_ms: int) -> float:
        """Where ``ts_ms`` sits, 0-100 % from the left edge (clamped)."""
        span = max(1, self.end_ms - self.start_ms)
        return round(min(100.0, max(0.0, 100.0 * (ts_ms - self.start_ms) / span)), 3)


@dataclass(frozen=True, slots=True)
class Seek:
    """What to play for a moment: a segment and the second into it.

    Attributes:
        segment: The segment.
        offset_s: Seconds from the segment's start (0 when the moment fell in a gap before it).
        exact: False when the moment itself was not recorded and this is the next recording after it.
    """

    segment: RecordingSegment
    offset_s: float
    exact: bool


def locate(segments: Sequence[RecordingSegment], ts_ms: int) -> Seek | None:
    """The segment that holds ``ts_ms`` and the offset into it; else the next one after it; else None.

    Args:
        segments: One camera's segments (any order).
        ts_ms: The moment.
    """
    after: RecordingSegment | None = None
    for seg in sorted(segments, key=lambda s: s.ts_ms):
        # a segment plays until its last frame's period is over: its duration, not end_ts_ms, is the edge
        edge = max(seg.end_ts_ms, seg.ts_ms + int(seg.duration_s * 1000))
        if seg.ts_ms <= ts_ms < edge:
            return Seek(seg, round((ts_ms - seg.ts_ms) / 1000, 3), True)
        if seg.ts_ms > ts_ms and after is None:
            after = seg
    return Seek(after, 0.0, False) if after is not None else None


__all__ = ["WHEN_FORMATS", "Seek", "Window", "locate", "parse_when"]
