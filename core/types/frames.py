"""Frames, detections and tracks: what the vision stage hands on, and pixel boxes.

camera -> Frame -> Detection -> Track. Pixel boxes are ``(x, y, w, h)`` with ``x, y``
the top-left corner, in pixels of the frame. Pure data (see :mod:`core.types`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is allowed in core, but keep import cost off pure users
    import numpy as np

#: The project's vehicle/road-user labels. Every detector maps its classes into these.
LABELS: tuple[str, ...] = ("car", "bus", "truck", "van", "motorcycle", "bicycle", "rickshaw", "person")

#: Labels that are not vehicles. One-box-per-vehicle suppression (NMS across classes) works
#: within vehicles and within these separately: a rider on a motorcycle or a bicycle is two
#: objects, a person and a vehicle, whose boxes overlap.
NOT_VEHICLES: frozenset[str] = frozenset({"person"})


def nms_group(label: str) -> int:
    """Suppression group of a label for NMS across classes: 0 for vehicles, 1 for people."""
    return 1 if label in NOT_VEHICLES else 0


Box = tuple[float, float, float, float]
"""Axis-aligned pixel box ``(x, y, w, h)``; ``x, y`` is the top-left corner."""

Point = tuple[float, float]


def box_center(box: Box) -> Point:
    """Centre of a box."""
    x, y, w, h = box
    return (x + w / 2.0, y + h / 2.0)


def box_bottom_center(box: Box) -> Point:
    """Middle of the bottom edge: where a vehicle touches the road."""
    x, y, w, h = box
    return (x + w / 2.0, y + h)


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded image from a camera.

    Attributes:
        camera_id: Stable camera id from the config.
        index: 0-based index of the frame in the order the source produced it.
        ts_ms: Capture time, UTC epoch milliseconds (from the source, not the handler).
        image: BGR uint8 array of shape (H, W, 3).
    """

    camera_id: str
    index: int
    ts_ms: int
    image: np.ndarray = field(repr=False, compare=False)

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


@dataclass(frozen=True, slots=True)
class Detection:
    """One object found in one frame."""

    label: str
    confidence: float
    box: Box


@dataclass(frozen=True, slots=True)
class Track:
    """A detection with an identity that persists across frames."""

    track_id: int
    label: str
    confidence: float
    box: Box
