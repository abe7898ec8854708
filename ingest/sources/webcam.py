"""A local capture device (``/dev/video<index>``), read like a stream."""

from __future__ import annotations

from collections.abc import Callable

import cv2

from core.clock import now_ms
from ingest.base import SourceError
from ingest.sources.opencv import sane_fps
from ingest.sources.stream import StreamSource


class WebcamSource(StreamSource):
    """A local capture device (``/dev/video<index>``)."""

    def __init__(
        self, camera_id: str, index: int = 0, *, max_bad_frames: int = 50, wall_ms: Callable[[], int] = now_ms
    ) -> None:
        super().__init__(camera_id, f"webcam:{index}", max_bad_frames=max_bad_frames, wall_ms=wall_ms)
        self.device_index = index

    def _capture(self) -> cv2.VideoCapture:
        return cv2.VideoCapture(self.device_index)

    def open(self) -> None:
        self.close()
        cap = self._capture()
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"webcam {self.device_index}: cannot open capture device")
        self._cap = cap
        self.nominal_fps = sane_fps(cap.get(cv2.CAP_PROP_FPS))


__all__ = ["WebcamSource"]
