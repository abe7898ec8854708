"""Colour and fill primitives shared by the synthetic scene's painters.

Colours are BGR tuples (OpenCV order). Polygons are filled with sub-pixel vertices:
pixel coordinates times :data:`ONE` (``1 << SHIFT``), passed to OpenCV with ``SHIFT``.
Distant things fade into a grey-blue haze (:func:`haze_factor`, :func:`mix`).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

BGR = tuple[int, int, int]

SHIFT = 4  # fixed-point bits for sub-pixel polygon vertices
ONE = 1 << SHIFT
FONT = cv2.FONT_HERSHEY_SIMPLEX
HAZE: BGR = (208, 204, 198)
HAZE_M = 450.0  # distance at which haze covers ~63% of a colour


def haze_factor(depth_m: float) -> float:
    """Share of the haze colour in something ``depth_m`` metres from the camera (0 near, -> 1 far)."""
    return 1.0 - math.exp(-max(depth_m, 0.0) / HAZE_M)


def mix(c: BGR | np.ndarray, k: float, toward: BGR = HAZE) -> BGR:
    """``c`` blended with ``toward`` (the haze by default) by the fraction ``k``."""
    a = np.asarray(c, dtype=np.float64) * (1 - k) + np.asarray(toward, dtype=np.float64) * k
    return (int(a[0]), int(a[1]), int(a[2]))


def shade(c: BGR, k: float, add: float = 0.0) -> BGR:
    """``c`` scaled by ``k`` plus ``add`` per channel, clipped to 0..255."""
    return tuple(int(min(255.0, max(0.0, v * k + add))) for v in c)  # type: ignore[return-value]


def fill(img: np.ndarray, pts: np.ndarray, colour: BGR) -> None:
    """Fill the convex polygon ``pts`` (``(n, 2)`` pixels) without anti-aliasing."""
    cv2.fillConvexPoly(img, (pts * ONE).astype(np.int32), colour, cv2.LINE_8, SHIFT)


__all__ = ["BGR", "FONT", "HAZE", "HAZE_M", "ONE", "SHIFT", "fill", "haze_factor", "mix", "shade"]
