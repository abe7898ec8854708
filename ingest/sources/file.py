"""A video file as a camera: looped or once, paced like a live camera or read as fast as possible."""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from core.clock import now_ms
from core.types import Frame
from ingest.base import SourceEnded, SourceError
from ingest.sources.opencv import CvCapture, sane_fps, valid_image

log = logging.getLogger("ingest.source")


class FileSource(CvCapture):
    """A video file.

    Args:
        camera_id: Camera id for the frames.
        path: The video file.
        loop: Start over at the end instead of raising :class:`SourceEnded`.
        realtime: Deliver frames at the file's fps like a live camera (timestamps are
            wall-clock capture times); otherwise as fast as they are read, with
            timestamps ``open time + index * 1000 / fps`` so speeds measured from
            them are right.
        max_bad_frames: Consecutive undecodable frames tolerated before the file is
            treated as ended at that point.
        fallback_fps: fps assumed when the file does not state one.
    """

    def __init__(
        self,
        camera_id: str,
        path: str | os.PathLike[str],
        loop: bool = False,
        realtime: bool = False,
        *,
        max_bad_frames: int = 50,
        fallback_fps: float = 25.0,
        wall_ms: Callable[[], int] = now_ms,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__()
        self.camera_id = camera_id
        self.path = Path(path)
        self.loop = loop
        self.realtime = realtime
        self.is_live = realtime
        self.nominal_fps = 0.0
        self.max_bad_frames = max_bad_frames
        self.fallback_fps = fallback_fps
        self.frame_count = 0  # frames the container declares (0 when unknown)
        self.missing = 0  # declared frames never decoded because the file ended early
        self.loops = 0
        self._wall_ms = wall_ms
        self._mono = monotonic
        self._sleep = sleep
        self._index = 0
        self._start_ms = 0
        self._t0 = 0.0
        self._pending: np.ndarray | None = None
        self._read_this_pass = 0
        self._corrupt_at_pass = 0

    def _open_capture(self) -> None:
        if not self.path.is_file():
            raise SourceError(f"{self.path}: video file not found")
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise SourceError(
                f"{self.path}: cannot open as a video (unknown format, unsupported codec or damaged file)"
            )
        self._cap = cap
        self.nominal_fps = sane_fps(cap.get(cv2.CAP_PROP_FPS))
        n = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        self.frame_count = int(n) if math.isfinite(n) and n > 0 else 0
        self._read_this_pass = 0
        self._corrupt_at_pass = self.corrupt

    def open(self) -> None:
        self.close()
        self._open_capture()
        first = self._next_image()
        if first is None:
            self.close()
            raise SourceError(f"{self.path}: no decodable frames")
        self._pending = first
        self._index = 0
        self._start_ms = self._wall_ms()
        self._t0 = self._mono()

    @property
    def _fps(self) -> float:
        return self.nominal_fps or self.fallback_fps

    def _next_image(self) -> np.ndarray | None:
        """The next decodable image of this pass, skipping (and counting) bad frames; None at the end.

        A failed read followed by a good one was a damaged frame (counted in
        :attr:`corrupt`). Failures that never recover end the pass: a truncated file
        ends early, and the frames it lacks are reported in :attr:`missing`.
        """
        cap = self._cap
        if cap is None:
            raise SourceError(f"{self.path}: not opened")
        failures = 0  # consecutive failed reads
        pending = 0  # failed grabs not yet known to be damage (vs. the end of a truncated file)
        stuck_at, same = -1.0, 0
        while True:
            ok = cap.grab()
            if ok:
                ok, img = cap.retrieve()
                if ok and valid_image(img):
                    self.corrupt += pending  # reading recovered: those were damaged frames
                    self._read_this_pass += 1
                    return img
                self.corrupt += 1  # demuxed but not decodable: skip it
                failures += 1
                if failures > self.max_bad_frames:
                    self._end_of_pass(f"{failures} undecodable frames in a row")
                    return None
                continue
            pos = cap.get(cv2.CAP_PROP_POS_FRAMES)
            before_end = self.frame_count > 0 and math.isfinite(pos) and pos < self.frame_count - 1
            if not before_end:
                return None
            # Before the declared end: damage. Retry; stop when the reader is stuck in one place.
            failures += 1
            pending += 1
            if pos != stuck_at:
                stuck_at, same = pos, 0
            else:
                same += 1
            if failures > self.max_bad_frames or same >= 4:
                self._end_of_pass(f"read fails at frame {int(pos)}")
                return None

    def _end_of_pass(self, why: str) -> None:
        """Record and log a pass that ended before the declared frame count."""
        missing = max(0, self.frame_count - self._read_this_pass - (self.corrupt - self._corrupt_at_pass))
        if missing:
            self.missing = missing
            log.warning(
                "%s: %s; file ends after %d of %d declared frames (truncated or damaged)",
                self.path,
                why,
                self._read_this_pass,
                self.frame_count,
            )
        return None

    def read(self) -> Frame:
        if self._cap is None and self._pending is None:
            raise SourceError(f"{self.path}: not opened")
        img: np.ndarray | None
        if self._pending is not None:
            img, self._pending = self._pending, None
        else:
            img = self._next_image()
            if img is None:
                if not self.loop:
                    raise SourceEnded(f"{self.path}: end of file after {self._index} frames")
                self.close()
                self._open_capture()
                self.loops += 1
                img = self._next_image()
                if img is None:
                    raise SourceError(f"{self.path}: no decodable frames after reopening to loop")
        index = self._index
        self._index += 1
        if self.realtime:
            wait = self._t0 + index / self._fps - self._mono()
            if wait > 0:
                self._sleep(wait)
            elif wait < -1.0:  # far behind (suspended?): re-anchor instead of bursting
                self._t0 = self._mono() - index / self._fps
            ts = self._wall_ms()
        else:
            ts = self._start_ms + int(round(index * 1000.0 / self._fps))
        return Frame(self.camera_id, index, ts, img)

    def close(self) -> None:
        super().close()
        self._pending = None


__all__ = ["FileSource"]
