"""Image geometry of plate reading: level rectangles from text quadrilaterals, boxes, regions."""

from __future__ import annotations

import cv2
import numpy as np

from core.types import Box


def _order_quad(q: np.ndarray) -> np.ndarray:
    """Quad points ordered top-left, top-right, bottom-right, bottom-left."""
    s = q.sum(axis=1)
    d = np.diff(q, axis=1).ravel()
    return np.array([q[np.argmin(s)], q[np.argmin(d)], q[np.argmax(s)], q[np.argmax(d)]], dtype=np.float32)


def rectify(image: np.ndarray, quad: np.ndarray, pad_x: float = 0.06, pad_y: float = 0.12) -> np.ndarray:
    """Perspective-warp a quadrilateral to a level rectangle, with a little padding."""
    q = _order_quad(quad)
    tl, tr, br, bl = q
    w = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    h = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    ux = (tr - tl) / max(np.linalg.norm(tr - tl), 1e-6)
    uy = (bl - tl) / max(np.linalg.norm(bl - tl), 1e-6)
    px, py = pad_x * h, pad_y * h
    src = np.array(
        [tl - ux * px - uy * py, tr + ux * px - uy * py, br + ux * px + uy * py, bl - ux * px + uy * py],
        dtype=np.float32,
    )
    ow, oh = max(int(round(w + 2 * px)), 4), max(int(round(h + 2 * py)), 4)
    dst = np.array([[0, 0], [ow, 0], [ow, oh], [0, oh]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(image, m, (ow, oh), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def _quad_box(q: np.ndarray) -> Box:
    x0, y0 = q.min(axis=0)
    x1, y1 = q.max(axis=0)
    return (float(x0), float(y0), float(x1 - x0), float(y1 - y0))


def _quad_hw(q: np.ndarray) -> tuple[float, float]:
    tl, tr, br, bl = _order_quad(q)
    h = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    w = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    return float(h), float(w)


def _as_bgr(image: np.ndarray | None) -> np.ndarray | None:
    if image is None or image.size == 0:
        return None
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def _clip_region(box: Box, shape: tuple[int, ...], margin: float) -> tuple[int, int, int, int] | None:
    """Integer ``(x0, y0, x1, y1)`` of a box grown by ``margin`` and clipped to the image."""
    x, y, w, h = box
    H, W = shape[:2]
    x0, y0 = max(0, int(x - margin * w)), max(0, int(y - margin * h))
    x1, y1 = min(W, int(np.ceil(x + w + margin * w))), min(H, int(np.ceil(y + h + margin * h)))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    return x0, y0, x1, y1
