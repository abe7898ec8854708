"""An RTSP or HTTP (MJPEG) stream through OpenCV's FFmpeg backend, with open and read timeouts."""

from __future__ import annotations

import os
from collections.abc import Callable

import cv2

from core.clock import now_ms
from core.types import Frame
from ingest.base import SourceError
from ingest.sources.opencv import CvCapture, redact_url, sane_fps, valid_image


class StreamSource(CvCapture):
    """An RTSP or HTTP (MJPEG) stream opened with OpenCV's FFmpeg backend.

    Args:
        camera_id: Camera id for the frames.
        url: ``rtsp://...`` or ``http(s)://...``.
        open_timeout_s: Give up connecting after this long.
        read_timeout_s: A read that gets nothing for this long fails (SourceError).
        max_bad_frames: Consecutive undecodable frames tolerated before failing.
    """

    def __init__(
        self,
        camera_id: str,
        url: str,
        *,
        open_timeout_s: float = 10.0,
        read_timeout_s: float = 5.0,
        max_bad_frames: int = 50,
        wall_ms: Callable[[], int] = now_ms,
    ) -> None:
        super().__init__()
        self.camera_id = camera_id
        self.url = url
        self.is_live = True
        self.nominal_fps = 0.0
        self.open_timeout_s = open_timeout_s
        self.read_timeout_s = read_timeout_s
        self.max_bad_frames = max_bad_frames
        self._wall_ms = wall_ms
        self._index = 0

    def _capture(self) -> cv2.VideoCapture:
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            int(self.open_timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(self.read_timeout_s * 1000),
        ]
        if self.url.startswith("rtsp") and "OPENCV_FFMPEG_CAPTURE_OPTIONS" not in os.environ:
            # TCP survives lossy links far better than the UDP default; set once, process-wide.
            os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = "rtsp_transport;tcp"
        return cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)

    def open(self) -> None:
        self.close()
        cap = self._capture()
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"{redact_url(self.url)}: cannot open stream (unreachable, refused or not a video)")
        self._cap = cap
        self.nominal_fps = sane_fps(cap.get(cv2.CAP_PROP_FPS))

    def read(self) -> Frame:
        cap = self._cap
        if cap is None:
            raise SourceError(f"{redact_url(self.url)}: not opened")
        bad = 0
        while True:
            ok, img = cap.read()
            if not ok:
                raise SourceError(f"{redact_url(self.url)}: stream read failed (connection lost or no data)")
            if valid_image(img):
                break
            self.corrupt += 1
            bad += 1
            if bad > self.max_bad_frames:
                raise SourceError(f"{redact_url(self.url)}: {bad} undecodable frames in a row")
        index = self._index
        self._index += 1
        return Frame(self.camera_id, index, self._wall_ms(), img)


__all__ = ["StreamSource"]
