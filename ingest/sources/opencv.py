"""What the OpenCV sources share: the ``VideoCapture`` holder, frame checks, URL redaction."""

from __future__ import annotations

import math
import re

import cv2
import numpy as np


def redact_url(url: str) -> str:
    """Hide a password in a URL (``rtsp://user:secret@host`` -> ``rtsp://user:***@host``)."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def valid_image(img: np.ndarray | None) -> bool:
    """True for a non-empty 3-channel image (what a source may hand on)."""
    return img is not None and img.ndim == 3 and img.shape[2] == 3 and img.shape[0] > 0 and img.shape[1] > 0


def sane_fps(fps: float) -> float:
    """The fps a container states, or 0.0 when it is missing or absurd."""
    return float(fps) if math.isfinite(fps) and 0 < fps <= 1000 else 0.0


class CvCapture:
    """Shared OpenCV ``VideoCapture`` handling: the base of the file, stream and webcam sources."""

    camera_id: str

    def __init__(self) -> None:
        self._cap: cv2.VideoCapture | None = None
        self.corrupt = 0

    def close(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()


__all__ = ["CvCapture", "redact_url", "sane_fps", "valid_image"]
