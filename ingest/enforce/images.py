"""Evidence images: JPEG encoding and padded crops of a box."""

from __future__ import annotations

import cv2
import numpy as np

from core.types import Box


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return np.asarray(buf).tobytes()


def crop(image: np.ndarray, box: Box, pad: float = 0.08) -> np.ndarray | None:
    h, w = image.shape[:2]
    x, y, bw, bh = box
    x0, y0 = max(0, int(x - pad * bw)), max(0, int(y - pad * bh))
    x1, y1 = min(w, int(np.ceil(x + bw * (1 + pad)))), min(h, int(np.ceil(y + bh * (1 + pad))))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    return image[y0:y1, x0:x1]
