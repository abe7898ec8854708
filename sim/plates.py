"""Number plates of the synthetic vehicles: text, colour, placement and drawing.

Plates carry Pakistani-format text (:func:`core.plate_formats.random_plate`, or the
plate a scripted rule-breaker was given), are white (private) or yellow (commercial),
sit on a vehicle's near face at :attr:`~sim.specs.VehicleSpec.plate_z`, drawn larger
than life so that an OCR can read them, and show their text in dark ``cv2.putText``
glyphs scaled to the plate's projected size.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.plate_formats import random_plate
from sim.paint import BGR, FONT
from sim.specs import PartSpec, VehicleSpec

PRIVATE_PLATE: BGR = (238, 240, 240)
COMMERCIAL_PLATE: BGR = (40, 215, 245)
PLATE_TEXT: BGR = (16, 16, 16)
#: Plate height as a fraction of its width.
PLATE_ASPECT = 0.3
#: Plates narrower than this (pixels) are drawn without text.
MIN_TEXT_PLATE_PX = 14


def plate_for(scripted: str | None, rng: np.random.Generator) -> str:
    """The plate of a new vehicle: the scripted one when given, else a random valid plate."""
    return scripted if scripted else random_plate(rng)


def plate_colour(spec: VehicleSpec, rng: np.random.Generator) -> BGR:
    """Yellow with probability ``spec.commercial``, else white."""
    return COMMERCIAL_PLATE if rng.random() < spec.commercial else PRIVATE_PLATE


def plate_text_size(text: str) -> tuple[int, int]:
    """Width and height of ``text`` at font scale 1 (the reference for scaling it to a plate)."""
    (tw, th), _ = cv2.getTextSize(text, FONT, 1.0, 2)
    return (tw, th)


def plate_inset(part: PartSpec, spec: VehicleSpec, colour: BGR) -> tuple[float, float, float, float, BGR]:
    """The plate as an inset quad ``(s0, s1, t0, t1, colour)`` of ``part``'s near face.

    ``s`` runs across the face and ``t`` up it, both 0..1; the plate is centred across
    the face at height ``spec.plate_z``.
    """
    span, fw = part.z1 - part.z0, 2 * part.half_w
    pw, zc = spec.plate_w, spec.plate_z
    ph = pw * PLATE_ASPECT
    return (
        0.5 - pw / (2 * fw),
        0.5 + pw / (2 * fw),
        (zc - ph / 2 - part.z0) / span,
        (zc + ph / 2 - part.z0) / span,
        colour,
    )


def draw_plate_text(img: np.ndarray, quad: np.ndarray, text: str, text_size: tuple[int, int]) -> None:
    """Write ``text`` centred on the projected plate ``quad`` (``(4, 2)`` pixels), sized to fit.

    Args:
        img: BGR image to draw on.
        quad: Pixel corners of the plate.
        text: Plate text.
        text_size: :func:`plate_text_size` of ``text``.
    """
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    w, h = x1 - x0, y1 - y0
    if w < MIN_TEXT_PLATE_PX:
        return
    tw, th = text_size
    scale = min(0.9 * w / tw, 0.62 * h / th)
    thick = 2 if scale > 0.55 else 1
    (tw2, th2), _ = cv2.getTextSize(text, FONT, scale, thick)
    org = (int(round((x0 + x1) / 2 - tw2 / 2)), int(round((y0 + y1) / 2 + th2 / 2)))
    cv2.putText(img, text, org, FONT, scale, PLATE_TEXT, thick, cv2.LINE_AA)


__all__ = [
    "COMMERCIAL_PLATE",
    "PRIVATE_PLATE",
    "draw_plate_text",
    "plate_colour",
    "plate_for",
    "plate_inset",
    "plate_text_size",
]
