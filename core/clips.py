"""Video evidence, the pure part: a bounded ring of timestamped encoded frames (or packets) and clip windows.

The worker keeps one :class:`MediaRing` per camera. Each item is already compressed (a JPEG of a downscaled
frame, or, for compressed inputs, an H.264 packet), so the ring's memory is bounded by what it holds: items
older than ``horizon_ms`` behind the newest are dropped, and so are the oldest items whenever the total
passes ``max_bytes``. A clip for a moment ``t`` covers ``[t - pre, t + post]``; :func:`clip_window` picks
the items of that window, starting at a keyframe when the ring holds packets (every JPEG is one), and
:func:`clip_due` says when the window is complete (the newest item is past its end) so the clip can be
written without waiting for frames that will never come.

No cv2, PyAV or I/O here.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RingItem:
    """One encoded frame or packet.

    Attributes:
        ts_ms: Capture time, UTC epoch ms.
        data: Encoded bytes (JPEG, or a compressed packet).
        keyframe: A clip may start here (always true for JPEG frames).
        width: Pixel width of the frame it encodes.
        height: Pixel height.
    """

    ts_ms: int
    data: bytes
    keyframe: bool = True
    width: int = 0
    height: int = 0


@dataclass(frozen=True, slots=True)
class RingStats:
    """What one camera's ring holds now and has dropped since it started."""

    items: int
    bytes: int
    max_bytes: int
    span_ms: int
    dropped_for_memory: int


class MediaRing:
    """Recent encoded frames of one camera, bounded in time and in bytes. Thread-safe.

    Args:
        horizon_ms: Keep items at most this much older than the newest one.
        max_bytes: Keep the total size at or under this (the oldest items go first).
    """

    def __init__(self, horizon_ms: int, max_bytes: int) -> None:
        if horizon_ms <= 0 or max_bytes <= 0:
            raise ValueError("horizon_ms and max_bytes must be positive")
        self.horizon_ms = int(horizon_ms)
        self.max_bytes = int(max_bytes)
        self._items: deque[RingItem] = deque()
        self._bytes = 0
        self._dropped = 0
        self._lock = threading.Lock()

    def add(self, item: RingItem) -> None:
        """Append an item (items arrive in time order; one older than the newest is ignored)."""
        with self._lock:
            if self._items and item.ts_ms < self._items[-1].ts_ms:
                return
            self._items.append(item)
            self._bytes += len(item.data)
            cutoff = item.ts_ms - self.horizon_ms
            while self._items and self._items[0].ts_ms < cutoff:
                self._bytes -= len(self._items.popleft().data)
            while self._bytes > self.max_bytes and len(self._items) > 1:
                self._bytes -= len(self._items.popleft().data)
                self._dropped += 1

    @property
    def newest_ts_ms(self) -> int | None:
        with self._lock:
            return self._items[-1].ts_ms if self._items else None

    def window(self, start_ms: int, end_ms: int) -> list[RingItem]:
        """The items of ``[start_ms, end_ms]`` (see :func:`clip_window`)."""
        with self._lock:
            items = list(self._items)
        return clip_window(items, start_ms, end_ms)

    def stats(self) -> RingStats:
        with self._lock:
            span = self._items[-1].ts_ms - self._items[0].ts_ms if self._items else 0
            return RingStats(len(self._items), self._bytes, self.max_bytes, span, self._dropped)


def clip_window(items: Sequence[RingItem], start_ms: int, end_ms: int) -> list[RingItem]:
    """Items in ``[start_ms, end_ms]``, in time order, beginning at a keyframe.

    When the first item in the window is not a keyframe, the window is extended back to the
    nearest keyframe before it (a decoder cannot start mid-GOP); with no keyframe at all before
    or in the window, it begins at the first keyframe inside it.

    Args:
        items: Ring items in time order.
        start_ms: Window start (inclusive).
        end_ms: Window end (inclusive).
    """
    if end_ms < start_ms:
        return []
    first = next((i for i, it in enumerate(items) if it.ts_ms >= start_ms), None)
    if first is None:
        return []
    k = first
    while k >= 0 and not items[k].keyframe:
        k -= 1
    if k < 0:  # no keyframe before: start at the first one inside the window
        k = next((i for i in range(first, len(items)) if items[i].keyframe and items[i].ts_ms <= end_ms), -1)
        if k < 0:
            return []
    return [it for it in items[k:] if it.ts_ms <= end_ms]


@dataclass(frozen=True, slots=True)
class ClipRequest:
    """A clip to write once its window is complete.

    Attributes:
        owner_kind: ``violation`` or ``incident``.
        owner_id: The violation or incident id.
        camera_id: Camera.
        ts_ms: The moment.
        start_ms: Window start (``ts_ms - pre``).
        end_ms: Window end (``ts_ms + post``).
        requested_mono: ``time.monotonic()`` when asked (latency figures).
    """

    owner_kind: str
    owner_id: str
    camera_id: str
    ts_ms: int
    start_ms: int
    end_ms: int
    requested_mono: float = 0.0


def clip_due(req: ClipRequest, newest_ts_ms: int | None, now_ts_ms: int, grace_ms: int) -> bool:
    """True when ``req``'s window is complete: a frame past its end arrived, or ``grace_ms`` passed after it.

    Args:
        req: The request.
        newest_ts_ms: Capture time of the ring's newest item (None: empty ring).
        now_ts_ms: Current time on the frames' clock (wall clock for live cameras).
        grace_ms: How long past the window's end to wait for frames (a stalled camera still gets its clip).
    """
    if newest_ts_ms is not None and newest_ts_ms >= req.end_ms:
        return True
    return now_ts_ms >= req.end_ms + grace_ms


def clip_key(camera_id: str, owner_kind: str, owner_id: str, ts_ms: int) -> str:
    """Storage key of a clip: ``clips/<camera>/<yyyy-mm-dd>/<kind>-<id>.mp4`` (UTC day of the moment)."""
    import datetime as dt

    day = dt.datetime.fromtimestamp(ts_ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d")
    return f"clips/{camera_id}/{day}/{owner_kind}-{owner_id}.mp4"


def segment_key(camera_id: str, start_ts_ms: int) -> str:
    """Storage key of a recording segment: ``recordings/<camera>/<yyyy-mm-dd>/<start ms>.mp4``."""
    import datetime as dt

    day = dt.datetime.fromtimestamp(start_ts_ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d")
    return f"recordings/{camera_id}/{day}/{start_ts_ms}.mp4"


__all__ = [
    "ClipRequest",
    "MediaRing",
    "RingItem",
    "RingStats",
    "clip_due",
    "clip_key",
    "clip_window",
    "segment_key",
]
