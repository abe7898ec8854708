"""Ground truth of the synthetic scene: where every vehicle is, how fast, and its image box.

:func:`project_vehicles` projects every vehicle's shape once per frame (the renderer
draws from the same projection, so the boxes are those of the drawn pixels), and
:func:`frame_truth` turns the vehicles and their projections into a :class:`SceneTruth`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.types import Box, Point
from sim.camera import NEAR_PLANE_M, CameraModel
from sim.traffic import Vehicle


@dataclass(frozen=True, slots=True)
class VehicleTruth:
    """Ground truth of one simulated vehicle in one frame.

    Attributes:
        vehicle_id: Stable id (1, 2, ... in order of appearance).
        label: Class, one of :data:`core.types.LABELS`.
        plate: Number plate text as drawn.
        direction: ``"up"`` (moving away from the camera) or ``"down"`` (toward it).
        ground_xy_m: Centre of the footprint on the ground (metres).
        speed_kmh: Ground speed over the last frame interval.
        box: Pixel box ``(x, y, w, h)`` of the drawn shape, clipped to the image.
        bottom_center: Pixel position of the footprint centre (may lie outside the image).
        visible: False when the vehicle is entirely outside the image.
        rule: The rule it was scripted to break (``"speeder"``, ``"wrong_way"``,
            ``"red_light"``, ``"stalled"``) or None.
    """

    vehicle_id: int
    label: str
    plate: str
    direction: str
    ground_xy_m: tuple[float, float]
    speed_kmh: float
    box: Box
    bottom_center: Point
    visible: bool
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class SceneTruth:
    """Ground truth of one frame: every simulated vehicle, visible or not."""

    frame_index: int
    ts_ms: int
    vehicles: tuple[VehicleTruth, ...]

    @property
    def visible(self) -> tuple[VehicleTruth, ...]:
        """The vehicles at least partly inside the image."""
        return tuple(v for v in self.vehicles if v.visible)


@dataclass
class Projected:
    """One vehicle's shape in the image this frame.

    Attributes:
        hom: Homogeneous projections of its :meth:`~sim.look.VehicleLook.corners`.
        box: Unclipped pixel box ``(x0, y0, x1, y1)`` (all -1 when nothing is in front of the camera).
    """

    hom: np.ndarray
    box: tuple[float, float, float, float]  # unclipped x0, y0, x1, y1


def project_vehicles(cam: CameraModel, vs: list[Vehicle]) -> dict[int, Projected]:
    """Project every vehicle's shape once per frame (used by the truth and the renderer), by vehicle id."""
    out: dict[int, Projected] = {}
    if not vs:
        return out
    sizes = [len(v.look.local) for v in vs]
    pts = np.concatenate([v.look.local for v in vs])
    pts[:, 0] += np.repeat([v.x for v in vs], sizes)
    pts[:, 1] = np.repeat([v.y for v in vs], sizes) + np.repeat([float(v.direction) for v in vs], sizes) * pts[:, 1]
    hom = cam.project_h(pts)
    # Boxes of all vehicles at once (body corners); per vehicle only where geometry is special.
    # Each vehicle's points are its body corners followed by shadow (and head) points, so
    # [start, start + n_corners) pairs select the body corners for reduceat.
    starts = np.cumsum([0, *sizes[:-1]])
    bounds = np.ravel(np.column_stack([starts, starts + [v.look.n_corners for v in vs]]))
    w = hom[:, 2]
    uv = hom[:, :2] / np.where(w > 1e-9, w, 1e-9)[:, None]
    mins = np.minimum.reduceat(uv, bounds, axis=0)[::2]
    maxs = np.maximum.reduceat(uv, bounds, axis=0)[::2]
    wmin = np.minimum.reduceat(w, bounds)[::2]
    for k, (v, n) in enumerate(zip(vs, sizes, strict=True)):
        h = hom[starts[k] : starts[k] + n]
        if wmin[k] < NEAR_PLANE_M or v.spec.head is not None:
            box = v.look.image_box(h)
        else:
            box = (float(mins[k, 0]), float(mins[k, 1]), float(maxs[k, 0]), float(maxs[k, 1]))
        out[v.vid] = Projected(h, box if box is not None else (-1.0, -1.0, -1.0, -1.0))
    return out


def frame_truth(
    vs: list[Vehicle], proj: dict[int, Projected], cam: CameraModel, fps: float, frame_index: int, ts_ms: int
) -> SceneTruth:
    """The truth of one frame.

    Args:
        vs: The vehicles on the road.
        proj: Their :func:`project_vehicles`.
        cam: The scene camera (its size clips the boxes).
        fps: Frame rate: speeds are the ground displacement since the previous frame times ``fps``.
        frame_index: Index of the frame.
        ts_ms: Its timestamp.
    """
    W, H = cam.width, cam.height
    dt = 1.0 / fps
    out = []
    vs = sorted(vs, key=lambda q: q.vid)
    bcs = cam.ground_to_image(np.array([[v.x, v.y] for v in vs])) if vs else np.zeros((0, 2))
    for v, bc in zip(vs, bcs, strict=True):
        x0, y0, x1, y1 = proj[v.vid].box
        cx0, cy0, cx1, cy1 = max(x0, 0.0), max(y0, 0.0), min(x1, float(W)), min(y1, float(H))
        visible = cx1 > cx0 and cy1 > cy0
        box: Box = (cx0, cy0, cx1 - cx0, cy1 - cy0) if visible else (0.0, 0.0, 0.0, 0.0)
        speed = math.hypot(v.x - v.prev_x, v.y - v.prev_y) / dt * 3.6
        out.append(
            VehicleTruth(
                vehicle_id=v.vid,
                label=v.spec.label,
                plate=v.look.plate,
                direction="up" if v.direction > 0 else "down",
                ground_xy_m=(float(v.x), float(v.y)),
                speed_kmh=float(speed),
                box=box,
                bottom_center=(float(bc[0]), float(bc[1])),
                visible=visible,
                rule=v.rule,
            )
        )
    return SceneTruth(frame_index=frame_index, ts_ms=ts_ms, vehicles=tuple(out))


__all__ = ["Projected", "SceneTruth", "VehicleTruth", "frame_truth", "project_vehicles"]
