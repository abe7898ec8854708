"""The evidence a citizen sees, redacted on the server: other vehicles' plates and every face blurred.

The portal shows the frame at the moment of the violation with everything outside the ticketed
vehicle's box (``details["box"]``, padded a little) pixelated and blurred, so other vehicles'
plates and people around are unreadable while the scene stays recognisable; faces inside the kept
box (a driver behind the windscreen) are blurred too, found with OpenCV's bundled Haar cascade.
The vehicle's own plate crop is shown with faces blurred. The unblurred files never leave the
operator routes (``/evidence/<sha256>``, login required); without a box the whole frame is blurred.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from core.types import Box

MAX_WIDTH = 960
JPEG_QUALITY = 82
FRAME_ROLES = ("frame", "before", "at", "after")
KEEP_PAD = 0.06


def moment_index(roles: Sequence[str]) -> int | None:
    """Index of the evidence frame at the moment of the violation.

    The worker stores ``before, at, after`` (3 frames) or ``at, after`` (2), then the plate crop;
    a role named ``at`` wins when present.
    """
    if "at" in roles:
        return list(roles).index("at")
    frames = [i for i, r in enumerate(roles) if r in FRAME_ROLES]
    if not frames:
        return None
    return frames[1] if len(frames) >= 3 else frames[0]


def parse_box(details: Sequence[tuple[str, str]]) -> Box | None:
    """The ticketed vehicle's pixel box ``(x, y, w, h)`` from the ticket's details, or None."""
    raw = dict(details).get("box", "")
    try:
        x, y, w, h = (float(v) for v in raw.split(","))
    except ValueError:
        return None
    return (x, y, w, h) if w > 1 and h > 1 else None


@functools.lru_cache(maxsize=1)
def _faces() -> cv2.CascadeClassifier:
    cascades = cv2.data.haarcascades  # type: ignore[attr-defined]  # cv2.data is not in the OpenCV stubs
    return cv2.CascadeClassifier(str(Path(cascades) / "haarcascade_frontalface_default.xml"))


def _blurred(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, w // 24), max(1, h // 24)), interpolation=cv2.INTER_AREA)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    k = max(3, (min(h, w) // 40) | 1)
    return cv2.GaussianBlur(big, (k, k), 0)


def blur_faces(img: np.ndarray) -> np.ndarray:
    """``img`` with every face the Haar cascade finds blurred (a copy)."""
    out = img.copy()
    if min(img.shape[:2]) < 24:
        return out
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    for x, y, w, h in _faces().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(16, 16)):
        out[y : y + h, x : x + w] = _blurred(out[y : y + h, x : x + w])
    return out


def redact_frame(image: np.ndarray, keep: Box | None) -> np.ndarray:
    """The frame blurred everywhere but the (padded) ``keep`` box, faces in it blurred too."""
    out = _blurred(image)
    if keep is None:
        return out
    h, w = image.shape[:2]
    x, y, bw, bh = keep
    x0, y0 = max(0, int(x - KEEP_PAD * bw)), max(0, int(y - KEEP_PAD * bh))
    x1, y1 = min(w, int(np.ceil(x + bw * (1 + KEEP_PAD)))), min(h, int(np.ceil(y + bh * (1 + KEEP_PAD))))
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = blur_faces(image[y0:y1, x0:x1])
    return out


def _encode(img: np.ndarray) -> bytes:
    h, w = img.shape[:2]
    if w > MAX_WIDTH:
        img = cv2.resize(img, (MAX_WIDTH, int(round(h * MAX_WIDTH / w))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return np.asarray(buf).tobytes()


@functools.lru_cache(maxsize=64)
def redacted_file(path: str, keep: Box | None, whole: bool) -> bytes | None:
    """A redacted JPEG of an evidence file (``whole``: a frame to blur outside ``keep``; else a crop).

    Cached per file (evidence is content-addressed, so a path's bytes never change). None when
    the file cannot be decoded.
    """
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        return None
    return _encode(redact_frame(img, keep) if whole else blur_faces(img))


__all__ = ["blur_faces", "moment_index", "parse_box", "redact_frame", "redacted_file"]
