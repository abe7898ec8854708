"""Drawing for the synthetic road scene: vehicle models and the static background.

Vehicles are stacks of boxes (chassis, body, cabin/canopy/cargo, rider) in vehicle
coordinates; :class:`VehicleLook` projects them through the scene camera and paints the
faces the camera sees (near face, roof, one side) in shades of the vehicle's colours,
with windows, lights and a number plate whose text is drawn with ``cv2.putText``.

The background (sky, buildings lining the street, footpaths, kerbs, asphalt, lane
markings, median, trees, light poles) is drawn once at 2x resolution and downsampled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from ingest.synth_camera import NEAR_PLANE_M, CameraModel, RoadLayout, clip_near

BGR = tuple[int, int, int]

SHIFT = 4  # fixed-point bits for sub-pixel polygon vertices
_ONE = 1 << SHIFT
FONT = cv2.FONT_HERSHEY_SIMPLEX
HAZE: BGR = (208, 204, 198)
HAZE_M = 450.0  # distance at which haze covers ~63% of a colour
GLASS: BGR = (78, 66, 56)


def haze_factor(depth_m: float) -> float:
    return 1.0 - math.exp(-max(depth_m, 0.0) / HAZE_M)


def _mix(c: BGR | np.ndarray, k: float, toward: BGR = HAZE) -> BGR:
    a = np.asarray(c, dtype=np.float64) * (1 - k) + np.asarray(toward, dtype=np.float64) * k
    return (int(a[0]), int(a[1]), int(a[2]))


def _shade(c: BGR, k: float, add: float = 0.0) -> BGR:
    return tuple(int(min(255.0, max(0.0, v * k + add))) for v in c)  # type: ignore[return-value]


# --------------------------------------------------------------------------- vehicle models


@dataclass(frozen=True)
class PartSpec:
    """One box of a vehicle, in vehicle coordinates (metres).

    Attributes:
        role: Palette role giving its colour (``body``, ``chassis``, ``cabin``, ``cargo``,
            ``canopy``, ``bike``, ``rider``, ``cab``).
        u0: Rear end along the vehicle (from its centre; + is the front).
        u1: Front end.
        half_w: Half width.
        z0: Bottom height.
        z1: Top height.
        level: Paint order: 0 chassis, 1 main boxes (far to near), 2 boxes on top.
        glass_near: ``(t0, t1)`` band of the near face (fraction of its height) that is glass.
        glass_side: Same for the side face.
        pillars: Window pillars drawn across ``glass_side``.
        stripe: ``(t0, t1)`` accent stripe on the side and near faces.
        glass_front_only: Glass on the near face only when it is the vehicle's front.
        plate: This part carries the number plate and lights.
    """

    role: str
    u0: float
    u1: float
    half_w: float
    z0: float
    z1: float
    level: int = 1
    glass_near: tuple[float, float] | None = None
    glass_side: tuple[float, float] | None = None
    pillars: int = 0
    stripe: tuple[float, float] | None = None
    glass_front_only: bool = False
    plate: bool = False


@dataclass(frozen=True)
class VehicleSpec:
    """A vehicle class: size, shape, colours and driving behaviour.

    Attributes:
        label: One of :data:`core.types.LABELS`.
        length: Bumper to bumper, metres.
        width: Metres (mirrors/handlebars included).
        height: Metres.
        parts: Boxes making up the shape.
        body_colours: ``(BGR, weight)`` choices of the main colour.
        accent_colours: Choices of the accent (stripes, cargo decoration).
        plate_w: Plate width (m; drawn larger than life so that it is legible).
        plate_z: Height of the plate centre (m).
        commercial: Probability of a yellow (commercial) plate.
        speed_factor: Desired speed relative to the scene's mean.
        accel: IDM maximum acceleration (m/s^2).
        min_gap: IDM jam distance (m).
        headway_s: IDM time headway (s).
        lateral_speed: Lane-change speed (m/s).
        kerb_lane_pref: Probability of choosing the kerb-side lane.
        head: ``(u, z, radius)`` of a rider's head, or None.
    """

    label: str
    length: float
    width: float
    height: float
    parts: tuple[PartSpec, ...]
    body_colours: tuple[tuple[BGR, float], ...]
    accent_colours: tuple[tuple[BGR, float], ...]
    plate_w: float
    plate_z: float
    commercial: float
    speed_factor: float
    accel: float
    min_gap: float
    headway_s: float
    lateral_speed: float
    kerb_lane_pref: float
    head: tuple[float, float, float] | None = None


_CAR_COLOURS: tuple[tuple[BGR, float], ...] = (
    ((232, 232, 230), 0.34),
    ((188, 188, 184), 0.2),
    ((34, 34, 36), 0.12),
    ((118, 118, 116), 0.1),
    ((40, 40, 178), 0.07),
    ((112, 56, 24), 0.06),
    ((44, 32, 118), 0.04),
    ((165, 196, 214), 0.04),
    ((60, 112, 44), 0.03),
)
_BRIGHT: tuple[tuple[BGR, float], ...] = (
    ((20, 165, 240), 1.0),
    ((36, 36, 196), 1.0),
    ((190, 118, 24), 1.0),
    ((44, 150, 44), 1.0),
    ((150, 40, 150), 0.6),
    ((30, 200, 230), 0.8),
)

SPECS: dict[str, VehicleSpec] = {
    "car": VehicleSpec(
        label="car",
        length=4.3,
        width=1.78,
        height=1.45,
        parts=(
            PartSpec("chassis", -2.1, 2.1, 0.8, 0.0, 0.32, level=0),
            PartSpec("body", -2.15, 2.15, 0.89, 0.3, 0.86, plate=True),
            PartSpec(
                "cabin",
                -1.25,
                0.95,
                0.77,
                0.86,
                1.45,
                level=2,
                glass_near=(0.08, 0.94),
                glass_side=(0.1, 0.92),
                pillars=1,
            ),
        ),
        body_colours=_CAR_COLOURS,
        accent_colours=_BRIGHT,
        plate_w=1.05,
        plate_z=0.5,
        commercial=0.05,
        speed_factor=1.0,
        accel=1.6,
        min_gap=2.0,
        headway_s=1.3,
        lateral_speed=1.2,
        kerb_lane_pref=0.35,
    ),
    "van": VehicleSpec(
        label="van",
        length=4.7,
        width=1.82,
        height=2.05,
        parts=(
            PartSpec("chassis", -2.3, 2.3, 0.86, 0.0, 0.34, level=0),
            PartSpec(
                "body",
                -2.35,
                2.35,
                0.91,
                0.32,
                2.05,
                glass_near=(0.55, 0.9),
                glass_side=(0.56, 0.88),
                pillars=3,
                stripe=(0.3, 0.36),
                plate=True,
            ),
        ),
        body_colours=(((236, 236, 234), 0.55), ((190, 190, 186), 0.25), ((150, 110, 60), 0.1), ((40, 40, 160), 0.1)),
        accent_colours=_BRIGHT,
        plate_w=1.05,
        plate_z=0.55,
        commercial=0.4,
        speed_factor=0.95,
        accel=1.4,
        min_gap=2.0,
        headway_s=1.4,
        lateral_speed=1.0,
        kerb_lane_pref=0.5,
    ),
    "bus": VehicleSpec(
        label="bus",
        length=11.0,
        width=2.5,
        height=3.15,
        parts=(
            PartSpec("chassis", -5.4, 5.4, 1.18, 0.0, 0.45, level=0),
            PartSpec(
                "body",
                -5.5,
                5.5,
                1.25,
                0.42,
                3.15,
                glass_near=(0.5, 0.9),
                glass_side=(0.5, 0.86),
                pillars=7,
                stripe=(0.18, 0.3),
                plate=True,
            ),
        ),
        body_colours=_BRIGHT,
        accent_colours=(((236, 236, 236), 1.0), ((30, 30, 30), 0.5), ((20, 200, 240), 0.8)),
        plate_w=1.15,
        plate_z=0.7,
        commercial=0.9,
        speed_factor=0.85,
        accel=1.0,
        min_gap=2.5,
        headway_s=1.6,
        lateral_speed=0.8,
        kerb_lane_pref=0.75,
    ),
    "truck": VehicleSpec(
        label="truck",
        length=8.6,
        width=2.5,
        height=3.35,
        parts=(
            PartSpec("chassis", -4.2, 4.2, 1.15, 0.0, 0.55, level=0),
            PartSpec(
                "cab",
                2.05,
                4.3,
                1.2,
                0.5,
                2.85,
                glass_near=(0.52, 0.88),
                glass_side=(0.52, 0.86),
                glass_front_only=True,
                plate=True,
            ),
            PartSpec("cargo", -4.3, 1.95, 1.25, 0.7, 3.35, stripe=(0.55, 0.7), plate=True),
        ),
        body_colours=_BRIGHT,
        accent_colours=(((40, 80, 130), 1.0), ((20, 160, 230), 1.0), ((40, 40, 190), 1.0), ((170, 120, 30), 1.0)),
        plate_w=1.15,
        plate_z=0.85,
        commercial=0.95,
        speed_factor=0.8,
        accel=0.9,
        min_gap=2.5,
        headway_s=1.7,
        lateral_speed=0.7,
        kerb_lane_pref=0.8,
    ),
    "motorcycle": VehicleSpec(
        label="motorcycle",
        length=1.9,
        width=0.7,
        height=1.65,
        parts=(
            PartSpec("chassis", -0.95, 0.95, 0.1, 0.0, 0.42, level=0),
            PartSpec("bike", -0.8, 0.85, 0.2, 0.38, 0.78, plate=True),
            PartSpec("legs", -0.3, 0.2, 0.24, 0.6, 0.9, level=2),
            PartSpec("rider", -0.4, 0.0, 0.2, 0.9, 1.42, level=2),
        ),
        body_colours=(((30, 30, 170), 0.4), ((28, 28, 30), 0.35), ((150, 80, 20), 0.15), ((160, 160, 160), 0.1)),
        accent_colours=(((222, 222, 222), 0.4), ((200, 168, 120), 0.25), ((60, 90, 120), 0.2), ((120, 130, 130), 0.15)),
        plate_w=0.46,
        plate_z=0.55,
        commercial=0.0,
        speed_factor=1.0,
        accel=2.0,
        min_gap=1.2,
        headway_s=1.0,
        lateral_speed=1.8,
        kerb_lane_pref=0.55,
        head=(-0.2, 1.56, 0.14),
    ),
    "rickshaw": VehicleSpec(
        label="rickshaw",
        length=2.8,
        width=1.35,
        height=1.85,
        parts=(
            PartSpec("chassis", -1.35, 1.35, 0.6, 0.0, 0.28, level=0),
            PartSpec("body", -1.4, 1.4, 0.67, 0.26, 1.02, plate=True),
            PartSpec("canopy", -1.25, 0.95, 0.66, 1.02, 1.85, level=2, glass_near=(0.12, 0.88), glass_side=(0.1, 0.85)),
        ),
        body_colours=(((44, 140, 44), 1.0), ((170, 100, 30), 0.8), ((30, 180, 230), 0.8), ((36, 40, 170), 0.5)),
        accent_colours=(((24, 24, 26), 1.0),),
        plate_w=0.85,
        plate_z=0.5,
        commercial=0.6,
        speed_factor=0.7,
        accel=1.2,
        min_gap=1.5,
        headway_s=1.5,
        lateral_speed=1.0,
        kerb_lane_pref=0.7,
    ),
}


def _choose(rng: np.random.Generator, options: tuple[tuple[BGR, float], ...]) -> BGR:
    w = np.array([o[1] for o in options], dtype=np.float64)
    i = int(rng.choice(len(options), p=w / w.sum()))
    return options[i][0]


@dataclass
class _Insets:
    """Quads painted on one face: face coordinates ``s`` (across) and ``t`` (up), and colours."""

    s: np.ndarray  # (k, 4)
    t: np.ndarray  # (k, 4)
    colours: list[BGR]
    plate: int = -1  # index of the plate quad, -1 if none

    @classmethod
    def build(cls, quads: list[tuple[float, float, float, float, BGR]], plate: int = -1) -> _Insets:
        s = np.array([[q[0], q[1], q[1], q[0]] for q in quads], dtype=np.float64).reshape(-1, 4)
        t = np.array([[q[2], q[2], q[3], q[3]] for q in quads], dtype=np.float64).reshape(-1, 4)
        return cls(s, t, [q[4] for q in quads], plate)

    def hazed(self, k: float) -> _Insets:
        return _Insets(self.s, self.t, [_mix(c, k) for c in self.colours], self.plate)


@dataclass
class _PartLook:
    spec: PartSpec
    index: int
    top: BGR
    near: BGR
    side: BGR
    near_insets: dict[bool, _Insets]  # keyed by "the near face is the vehicle's front"
    side_insets: _Insets

    def hazed(self, k: float) -> _PartLook:
        return _PartLook(
            self.spec,
            self.index,
            _mix(self.top, k),
            _mix(self.near, k),
            _mix(self.side, k),
            {f: ins.hazed(k) for f, ins in self.near_insets.items()},
            self.side_insets.hazed(k),
        )


_SHADOW: BGR = (44, 44, 47)
_DETAIL_PX = 22.0  # vehicles narrower than this are drawn without windows, lights, plate and shadow
_BLOB_PX = 7.0  # narrower than this: one filled box


@dataclass
class VehicleLook:
    """How one vehicle is drawn: colours, plate and its shape in vehicle coordinates.

    Build with :meth:`create`. :meth:`corners` places the shape on the road (the points
    to project), :meth:`image_box` gives the projected box, and :meth:`draw` paints it.

    Attributes:
        spec: The vehicle class.
        plate: Plate text.
        plate_bg: Plate colour (white private, yellow commercial).
        head_colour: Rider's hair/helmet colour (motorcycles).
        local: ``(n, 3)`` points (lateral, along, z): 8 corners per part, then the 4
            shadow corners, then the rider's head centre and a point on its rim.
    """

    spec: VehicleSpec
    plate: str
    plate_bg: BGR
    head_colour: BGR
    local: np.ndarray = field(repr=False)
    parts: list[_PartLook] = field(repr=False, default_factory=list)
    order: dict[int, list[int]] = field(repr=False, default_factory=dict)
    text_size: tuple[int, int] = (1, 1)
    _haze_cache: dict[int, list[_PartLook]] = field(default_factory=dict, repr=False)

    @property
    def n_corners(self) -> int:
        return 8 * len(self.spec.parts)

    @classmethod
    def create(cls, spec: VehicleSpec, plate: str, rng: np.random.Generator) -> VehicleLook:
        body = _choose(rng, spec.body_colours)
        accent = _choose(rng, spec.accent_colours)
        if spec.label == "bus" and accent == body:
            accent = (236, 236, 236)
        roles: dict[str, BGR] = {
            "body": body,
            "cab": body,
            "chassis": (34, 34, 36),
            "cabin": body,
            "canopy": (28, 28, 30),
            "cargo": accent,
            "bike": body,
            "rider": accent,
            "legs": _shade(accent, 0.6),
        }
        plate_bg: BGR = (40, 215, 245) if rng.random() < spec.commercial else (238, 240, 240)
        head = (24, 24, 26) if rng.random() < 0.6 else _choose(rng, _BRIGHT)
        pts = [
            (sl * p.half_w, p.u1 if iu else p.u0, p.z1 if iz else p.z0)
            for p in spec.parts
            for iu in (0, 1)
            for sl in (-1, 1)
            for iz in (0, 1)
        ]
        hl, hw = spec.length / 2 + 0.1, spec.width / 2 + 0.12
        pts += [(-hw + 0.25, -hl, 0.0), (hw + 0.25, -hl, 0.0), (hw + 0.25, hl, 0.0), (-hw + 0.25, hl, 0.0)]
        if spec.head is not None:
            u, z, r = spec.head
            pts += [(0.0, u, z), (r, u, z)]
        local = np.array(pts, dtype=np.float64)
        (tw, th), _ = cv2.getTextSize(plate, FONT, 1.0, 2)
        look = cls(spec, plate, plate_bg, head, local, text_size=(tw, th))
        look.parts = [look._part_look(i, p, roles[p.role], accent) for i, p in enumerate(spec.parts)]
        for near_iu in (0, 1):
            look.order[near_iu] = sorted(
                range(len(spec.parts)),
                key=lambda i: (spec.parts[i].level, -spec.parts[i].u0 if near_iu == 0 else spec.parts[i].u1),
            )
        return look

    def _part_look(self, index: int, p: PartSpec, c: BGR, accent: BGR) -> _PartLook:
        near: dict[bool, _Insets] = {}
        for front in (False, True):
            quads: list[tuple[float, float, float, float, BGR]] = []
            plate_i = -1
            if p.glass_near is not None and (front or not p.glass_front_only):
                quads.append((0.08, 0.92, *p.glass_near, GLASS))
            if p.stripe is not None:
                quads.append((0.0, 1.0, *p.stripe, _shade(accent, 0.9)))
            if p.role == "cargo" and not front:  # Pakistani truck art, much simplified
                quads += [
                    (0.06, 0.94, 0.12, 0.3, (30, 200, 240)),
                    (0.06, 0.94, 0.74, 0.9, (40, 40, 200)),
                    (0.3, 0.7, 0.34, 0.68, (160, 90, 20)),
                ]
            if p.plate and (p.role != "cab" or front) and (p.role != "cargo" or not front):
                light: BGR = (200, 240, 250) if front else (40, 40, 215)
                if p.role == "bike":
                    quads.append((0.2, 0.8, 0.78, 0.92, light))
                else:
                    t0, t1 = (0.62, 0.86) if front else (0.6, 0.84)
                    quads += [(0.04, 0.2, t0, t1, light), (0.8, 0.96, t0, t1, light)]
                span, fw = p.z1 - p.z0, 2 * p.half_w
                pw, zc = self.spec.plate_w, self.spec.plate_z
                ph = pw * 0.3
                plate_i = len(quads)
                quads.append(
                    (
                        0.5 - pw / (2 * fw),
                        0.5 + pw / (2 * fw),
                        (zc - ph / 2 - p.z0) / span,
                        (zc + ph / 2 - p.z0) / span,
                        self.plate_bg,
                    )
                )
            near[front] = _Insets.build(quads, plate_i)
        side: list[tuple[float, float, float, float, BGR]] = []
        if p.glass_side is not None:
            side.append((0.05, 0.95, *p.glass_side, _shade(GLASS, 0.9)))
            for k in range(1, p.pillars + 1):
                sk = k / (p.pillars + 1)
                side.append((sk - 0.012, sk + 0.012, *p.glass_side, _shade(c, 0.72)))
        if p.stripe is not None:
            side.append((0.0, 1.0, *p.stripe, _shade(accent, 0.75)))
        return _PartLook(p, index, _shade(c, 1.05, 14), _shade(c, 0.9), _shade(c, 0.72), near, _Insets.build(side))

    def corners(self, x: float, y: float, direction: int) -> np.ndarray:
        """Ground coordinates ``(n, 3)`` of :attr:`local` for a vehicle centred at ``(x, y)``."""
        pts = self.local.copy()
        pts[:, 0] += x
        pts[:, 1] = y + direction * pts[:, 1]
        return pts

    def image_box(self, hom: np.ndarray) -> tuple[float, float, float, float] | None:
        """Unclipped pixel box ``(x0, y0, x1, y1)`` of the drawn shape from projected :meth:`corners`."""
        nc = self.n_corners
        body = hom[:nc]
        if np.all(body[:, 2] >= NEAR_PLANE_M):
            uv = body[:, :2] / body[:, 2:3]
            x0, y0 = uv.min(axis=0)
            x1, y1 = uv.max(axis=0)
        else:
            polys = [clip_near(body[[b + k for k in face]]) for b in range(0, nc, 8) for face in _BOX_FACES]
            polys = [q for q in polys if len(q)]
            if not polys:
                return None
            allp = np.vstack(polys)
            x0, y0 = allp.min(axis=0)
            x1, y1 = allp.max(axis=0)
        if self.spec.head is not None and hom[nc + 4, 2] >= NEAR_PLANE_M:
            c = hom[nc + 4, :2] / hom[nc + 4, 2]
            r = float(np.hypot(*(hom[nc + 5, :2] / hom[nc + 5, 2] - c)))
            x0, y0, x1, y1 = min(x0, c[0] - r), min(y0, c[1] - r), max(x1, c[0] + r), max(y1, c[1] + r)
        return (float(x0), float(y0), float(x1), float(y1))

    def _hazed(self, k: float) -> list[_PartLook]:
        level = min(int(k * 20), 19)
        if level == 0:
            return self.parts
        cached = self._haze_cache.get(level)
        if cached is None:
            cached = [p.hazed(level / 20.0) for p in self.parts]
            self._haze_cache[level] = cached
        return cached

    def draw(
        self,
        img: np.ndarray,
        x: float,
        direction: int,
        hom: np.ndarray,
        box: tuple[float, float, float, float],
        camera_x: float,
        fade: float = 0.0,
    ) -> None:
        """Paint the vehicle.

        Args:
            img: BGR image to draw on.
            x: Ground x of the vehicle centre (decides which side face is seen).
            direction: +1 moving away from the camera, -1 toward it.
            hom: Homogeneous projections of :meth:`corners` (``(n, 3)``).
            box: :meth:`image_box` of the vehicle.
            camera_x: Ground x of the camera.
            fade: Extra haze in [0, 1] (vehicles fade in/out at the far end of the road).
        """
        nc = self.n_corners
        depth = float(np.min(hom[:nc, 2]))
        parts = self._hazed(max(haze_factor(depth), fade))
        bw = box[2] - box[0]
        if bw < _BLOB_PX or (box[3] - box[1]) < 5:
            pts = np.array([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]])
            _fill(img, pts, parts[min(1, len(parts) - 1)].near)
            return
        detail = bw >= _DETAIL_PX
        near_iu = 0 if direction > 0 else 1  # which end (rear=0/front=1) faces the camera
        front_near = direction < 0
        clipped = bool(np.any(hom[: nc + 4, 2] < NEAR_PLANE_M))
        if clipped:
            self._draw_clipped(img, x, hom, parts, near_iu, camera_x)
            return
        uv = hom[:, :2] / hom[:, 2:3]
        fx = (uv * _ONE).astype(np.int32)
        if detail:
            cv2.fillConvexPoly(img, fx[nc : nc + 4], _SHADOW, cv2.LINE_8, SHIFT)
        for i in self.order[near_iu]:
            pl = parts[i]
            p = pl.spec
            b = i * 8
            # corner index within the part: b + iu*4 + il*2 + iz  (il 0: x - half_w, 1: x + half_w)
            n0, n1 = b + near_iu * 4, b + (1 - near_iu) * 4
            if x - p.half_w > camera_x:
                side: tuple[int, ...] | None = (n0, n1, n1 + 1, n0 + 1)  # near-bottom, far-bottom, far-top, near-top
            elif x + p.half_w < camera_x:
                side = (n0 + 2, n1 + 2, n1 + 3, n0 + 3)
            else:
                side = None
            if side is not None:
                cv2.fillConvexPoly(img, fx[list(side)], pl.side, cv2.LINE_8, SHIFT)
                if detail and len(pl.side_insets.colours):
                    _paint_insets(img, uv[list(side)], pl.side_insets)
            cv2.fillConvexPoly(img, fx[[n0 + 1, n0 + 3, n1 + 3, n1 + 1]], pl.top, cv2.LINE_8, SHIFT)
            near = [n0, n0 + 2, n0 + 3, n0 + 1]  # LB, RB, RT, LT
            cv2.fillConvexPoly(img, fx[near], pl.near, cv2.LINE_8, SHIFT)
            if detail:
                ins = pl.near_insets[front_near]
                if len(ins.colours):
                    quads = _paint_insets(img, uv[near], ins)
                    if ins.plate >= 0:
                        self._plate_text(img, quads[ins.plate])
        if self.spec.head is not None:
            c = uv[nc + 4]
            r = float(np.hypot(*(uv[nc + 5] - c)))
            if r >= 0.7:
                cv2.circle(
                    img, (int(c[0] * _ONE), int(c[1] * _ONE)), int(r * _ONE), self.head_colour, -1, cv2.LINE_8, SHIFT
                )

    def _draw_clipped(
        self, img: np.ndarray, x: float, hom: np.ndarray, parts: list[_PartLook], near_iu: int, camera_x: float
    ) -> None:
        """Slow path for a vehicle partly behind the camera's near plane (very close, under the camera)."""
        nc = self.n_corners
        shadow = clip_near(hom[nc : nc + 4])
        if len(shadow) >= 3:
            _fill(img, shadow, _SHADOW)
        for i in self.order[near_iu]:
            pl = parts[i]
            b = i * 8
            n0, n1 = b + near_iu * 4, b + (1 - near_iu) * 4
            faces: list[tuple[list[int], BGR]] = []
            if x - pl.spec.half_w > camera_x:
                faces.append(([n0, n1, n1 + 1, n0 + 1], pl.side))
            elif x + pl.spec.half_w < camera_x:
                faces.append(([n0 + 2, n1 + 2, n1 + 3, n0 + 3], pl.side))
            faces += [([n0 + 1, n0 + 3, n1 + 3, n1 + 1], pl.top), ([n0, n0 + 2, n0 + 3, n0 + 1], pl.near)]
            for idx, col in faces:
                poly = clip_near(hom[idx])
                if len(poly) >= 3:
                    _fill(img, poly, col)

    def _plate_text(self, img: np.ndarray, q: np.ndarray) -> None:
        x0, y0 = q.min(axis=0)
        x1, y1 = q.max(axis=0)
        w, h = x1 - x0, y1 - y0
        if w < 14:
            return
        tw, th = self.text_size
        scale = min(0.9 * w / tw, 0.62 * h / th)
        thick = 2 if scale > 0.55 else 1
        (tw2, th2), _ = cv2.getTextSize(self.plate, FONT, scale, thick)
        org = (int(round((x0 + x1) / 2 - tw2 / 2)), int(round((y0 + y1) / 2 + th2 / 2)))
        cv2.putText(img, self.plate, org, FONT, scale, (16, 16, 16), thick, cv2.LINE_AA)


# The 6 faces of a part's box as corner indices (iu*4 + il*2 + iz).
_BOX_FACES = ((0, 2, 3, 1), (4, 6, 7, 5), (0, 4, 5, 1), (2, 6, 7, 3), (0, 2, 6, 4), (1, 3, 7, 5))


def _paint_insets(img: np.ndarray, face: np.ndarray, ins: _Insets) -> np.ndarray:
    """Fill the inset quads of a face (corners LB, RB, RT, LT); returns their pixel corners ``(k, 4, 2)``."""
    lb, rb, rt, lt = face
    s = ins.s[..., None]
    t = ins.t[..., None]
    quads = (1 - t) * ((1 - s) * lb + s * rb) + t * ((1 - s) * lt + s * rt)
    fx = (quads * _ONE).astype(np.int32)
    for k, col in enumerate(ins.colours):
        cv2.fillConvexPoly(img, fx[k], col, cv2.LINE_8, SHIFT)
    return quads


def _fill(img: np.ndarray, pts: np.ndarray, colour: BGR) -> None:
    cv2.fillConvexPoly(img, (pts * _ONE).astype(np.int32), colour, cv2.LINE_8, SHIFT)


# --------------------------------------------------------------------------- background


class _Painter:
    """Draws ground-plane and vertical quads through a (supersampled) camera."""

    def __init__(self, cam: CameraModel, scale: int) -> None:
        self.P = np.diag([scale, scale, 1.0]) @ cam.P
        self.scale = scale
        self.cam = cam

    def poly(self, img: np.ndarray, pts3: np.ndarray, colour: BGR, haze: bool = True) -> bool:
        h = pts3 @ self.P[:, :3].T + self.P[:, 3]
        w = h[:, 2]
        if w.min() >= 0.3:
            poly = h[:, :2] / w[:, None]
        else:
            if w.max() < NEAR_PLANE_M:
                return False
            poly = clip_near(h, 0.3)
            if len(poly) < 3:
                return False
        if haze:
            colour = _mix(colour, haze_factor(max(float(w.sum()) / len(w), 0.0)))
        cv2.fillConvexPoly(img, np.round(poly * _ONE).astype(np.int32), colour, cv2.LINE_AA, SHIFT)
        return True

    def ground(
        self, img: np.ndarray, x0: float, x1: float, y0: float, y1: float, colour: BGR, haze: bool = True
    ) -> None:
        # Split long strips so haze varies along them.
        ys = [y0]
        while ys[-1] < y1:
            step = max(5.0, (ys[-1] - self.cam.center[1]) * 0.25)
            ys.append(min(y1, ys[-1] + step))
        for a, b in zip(ys[:-1], ys[1:], strict=False):
            self.poly(img, np.array([[x0, a, 0], [x1, a, 0], [x1, b, 0], [x0, b, 0]], float), colour, haze)

    def px_per_m(self, x: float, y: float, z: float = 0.0) -> float:
        a = np.array([x, y, z, 1.0]) @ self.P.T
        b = np.array([x + 1, y, z, 1.0]) @ self.P.T
        return float(abs(b[0] / b[2] - a[0] / a[2]))

    def to_px(self, x: float, y: float, z: float) -> tuple[float, float, float]:
        h = np.array([x, y, z, 1.0]) @ self.P.T
        return (h[0] / h[2], h[1] / h[2], h[2])


def render_background(cam: CameraModel, layout: RoadLayout, seed: int, far_m: float = 2000.0) -> np.ndarray:
    """The static street: sky, buildings, footpaths, kerbs, road, markings, median, trees, poles.

    Args:
        cam: Scene camera.
        layout: Road cross-section.
        seed: Seed for the random details (buildings, trees).
        far_m: How far along the road to draw.

    Returns:
        BGR uint8 image of the camera's size.
    """
    rng = np.random.default_rng([seed, 7])
    S = 2
    W, H = cam.width * S, cam.height * S
    pt = _Painter(cam, S)
    img = np.empty((H, W, 3), np.uint8)
    cy0 = cam.center[1]
    y_start = cy0 + 0.5

    # Sky: gradient down to the hazy horizon.
    hv = pt.to_px(0.0, 1e6, 0.0)[1]
    rows = np.arange(H, dtype=np.float64)
    t = np.clip(rows / max(hv, 1.0), 0, 1)[:, None]
    top, bottom = np.array([206, 170, 128.0]), np.array([224, 220, 214.0])
    img[:] = (top * (1 - t) + bottom * t).astype(np.uint8)[:, None, :]
    # Distant skyline at the horizon.
    sx = 0
    while sx < W:
        bw = int(rng.integers(8, 40)) * S
        bh = float(rng.uniform(4, 26)) * S
        cv2.rectangle(img, (sx, int(hv - bh)), (sx + bw, int(hv) + 2), _mix((170, 165, 160), 0.55), -1)
        sx += bw
    # Ground below the horizon.
    img[int(max(hv, 0)) :] = _mix((118, 138, 150), 0.0)
    hw, fp = layout.half_width_m, layout.footpath_m
    pt.ground(img, -400, 400, y_start, far_m * 3, (118, 138, 150))

    # Buildings along both sides, far to near (painter's order).
    blocks: list[tuple[float, int, float, float, float, BGR]] = []
    palette: list[BGR] = [
        (150, 186, 206),
        (70, 92, 160),
        (150, 150, 150),
        (196, 204, 212),
        (150, 182, 150),
        (204, 184, 150),
        (110, 150, 190),
    ]
    for side in (-1, 1):
        y = cy0 - 10
        while y < far_m:
            ln = float(rng.uniform(7, 24))
            h = float(rng.uniform(5.5, 20))
            col = palette[int(rng.integers(len(palette)))]
            blocks.append((y + ln, side, y, ln, h, col))
            y += ln + (float(rng.uniform(2, 4)) if rng.random() < 0.25 else 0.0)
    blocks.sort(key=lambda b: -b[0])
    signs: list[BGR] = [(30, 30, 190), (40, 150, 40), (160, 80, 20), (20, 180, 230), (200, 200, 200), (120, 40, 140)]
    for _, side, y0, ln, h, col in blocks:
        xf = side * (hw + fp)
        y1 = y0 + ln
        # End wall facing the camera (shows where a nearer block is lower), then the facade.
        pt.poly(
            img,
            np.array([[xf, y0, 0], [xf + side * 12, y0, 0], [xf + side * 12, y0, h], [xf, y0, h]], float),
            _shade(col, 0.7),
        )
        pt.poly(img, np.array([[xf, y0, 0], [xf, y1, 0], [xf, y1, h], [xf, y0, h]], float), col)
        if pt.px_per_m(xf, y0) < 2.0:
            continue
        # Shop fronts with sign boards, windows on the floors above.
        pt.poly(
            img,
            np.array([[xf, y0 + 0.3, 0], [xf, y1 - 0.3, 0], [xf, y1 - 0.3, 2.6], [xf, y0 + 0.3, 2.6]], float),
            (62, 58, 54),
        )
        pt.poly(
            img,
            np.array([[xf, y0 + 0.4, 2.7], [xf, y1 - 0.4, 2.7], [xf, y1 - 0.4, 3.5], [xf, y0 + 0.4, 3.5]], float),
            signs[int(rng.integers(len(signs)))],
        )
        z = 4.2
        while z + 1.5 < h:
            yy = y0 + 1.0
            while yy + 1.4 < y1 - 0.6:
                pt.poly(
                    img,
                    np.array([[xf, yy, z], [xf, yy + 1.3, z], [xf, yy + 1.3, z + 1.4], [xf, yy, z + 1.4]], float),
                    (96, 84, 72),
                )
                yy += 2.8
            z += 3.2
        # Parapet.
        pt.poly(
            img, np.array([[xf, y0, h - 0.35], [xf, y1, h - 0.35], [xf, y1, h], [xf, y0, h]], float), _shade(col, 0.8)
        )

    # Footpaths and kerbs.
    for side in (-1, 1):
        a, b = sorted((side * hw, side * (hw + fp)))
        pt.ground(img, a, b, y_start, far_m, (160, 164, 166))
        k0, k1 = sorted((side * hw, side * (hw + 0.28)))
        yk = math.floor(y_start)
        while yk < 200:
            pt.poly(
                img,
                np.array([[k0, yk, 0], [k1, yk, 0], [k1, yk + 1, 0], [k0, yk + 1, 0]], float),
                (0, 196, 232) if int(yk) % 2 else (34, 34, 34),
            )
            yk += 1
        pt.ground(img, k0, k1, 200, far_m, (90, 120, 130))

    # Asphalt with darker wheel tracks.
    pt.ground(img, -hw, hw, y_start, far_m, (82, 82, 84))
    for lane in range(layout.n_lanes):
        xc = layout.lane_center(lane)
        for off in (-0.8, 0.8):
            pt.ground(img, xc + off - 0.3, xc + off + 0.3, y_start, far_m, (72, 72, 75))
    # Patches.
    for _ in range(18):
        px = float(rng.uniform(-hw + 0.5, hw - 1.5))
        py = float(rng.uniform(0, 150))
        pt.poly(
            img,
            np.array([[px, py, 0], [px + 1.2, py, 0], [px + 1.2, py + 2.5, 0], [px, py + 2.5, 0]], float),
            (92, 92, 94),
        )

    # Median.
    m = layout.median_m
    n = layout.lanes_per_direction
    if n >= 2:
        pt.ground(img, -m / 2, m / 2, y_start, far_m, (58, 112, 70))
        for side in (-1, 1):
            k0, k1 = sorted((side * m / 2, side * (m / 2 - 0.2)))
            yk = math.floor(y_start)
            while yk < 200:
                pt.poly(
                    img,
                    np.array([[k0, yk, 0], [k1, yk, 0], [k1, yk + 1, 0], [k0, yk + 1, 0]], float),
                    (0, 196, 232) if int(yk) % 2 else (34, 34, 34),
                )
                yk += 1
            pt.ground(img, k0, k1, 200, far_m, (90, 120, 130))
    else:
        for x0 in (-0.2, 0.08):
            pt.ground(img, x0, x0 + 0.12, y_start, far_m, (0, 200, 236))

    # Lane markings: dashed between lanes, solid edge lines.
    white: BGR = (226, 228, 228)
    for direction in (1, -1):
        lanes = layout.carriageway_lanes(direction)
        for a, b in zip(lanes[:-1], lanes[1:], strict=False):
            xm = (layout.lane_center(a) + layout.lane_center(b)) / 2
            yd = math.floor(y_start / 9) * 9
            while yd < far_m:
                pt.poly(
                    img,
                    np.array(
                        [[xm - 0.07, yd, 0], [xm + 0.07, yd, 0], [xm + 0.07, yd + 3, 0], [xm - 0.07, yd + 3, 0]], float
                    ),
                    white,
                )
                yd += 9
    for xe in (-(hw - 0.3), hw - 0.3) + ((-(m / 2 + 0.3), m / 2 + 0.3) if n >= 2 else ()):
        pt.ground(img, xe - 0.07, xe + 0.07, y_start, far_m, white)

    # Vertical street furniture, far to near: trees on the footpaths, light poles on the median.
    things: list[tuple[float, str, float]] = []
    for side in (-1, 1):
        y = float(rng.uniform(0, 10))
        while y < 600:
            things.append((y, "tree", side * (hw + 1.3)))
            y += float(rng.uniform(11, 26))
    for xp in (-(hw + 0.6), hw + 0.6):
        y = 14.0 if xp <= 0 else 34.0
        while y < 800:
            things.append((y, "pole", xp))
            y += 40.0
    things.sort(key=lambda t: -t[0])
    for y, kind, x in things:
        if y < cy0 + 2:
            continue
        if kind == "tree":
            pt.poly(
                img,
                np.array([[x - 0.15, y, 0], [x + 0.15, y, 0], [x + 0.15, y, 2.6], [x - 0.15, y, 2.6]], float),
                (40, 62, 92),
            )
            u, v, d = pt.to_px(x, y, 4.2)
            r = 2.1 * pt.px_per_m(x, y, 4.2)  # canopy radius in pixels
            if d > 0.3 and r > 0.5:
                g = (int(rng.integers(40, 70)), int(rng.integers(100, 140)), int(rng.integers(50, 80)))
                cv2.ellipse(
                    img,
                    (int(u), int(v)),
                    (max(int(r), 1), max(int(r * 0.8), 1)),
                    0,
                    0,
                    360,
                    _mix(g, haze_factor(d)),
                    -1,
                    cv2.LINE_AA,
                )
        else:
            grey: BGR = (118, 118, 122)
            pt.poly(
                img, np.array([[x - 0.09, y, 0], [x + 0.09, y, 0], [x + 0.09, y, 9.0], [x - 0.09, y, 9.0]], float), grey
            )
            for a in (1,) if x < 0 else (-1,):
                pt.poly(
                    img,
                    np.array([[x, y, 8.85], [x + a * 1.8, y, 8.85], [x + a * 1.8, y, 9.0], [x, y, 9.0]], float),
                    grey,
                )
                pt.poly(
                    img,
                    np.array(
                        [[x + a * 1.4, y, 8.7], [x + a * 1.9, y, 8.7], [x + a * 1.9, y, 8.88], [x + a * 1.4, y, 8.88]],
                        float,
                    ),
                    (210, 230, 235),
                )

    out = cv2.resize(img, (cam.width, cam.height), interpolation=cv2.INTER_AREA)
    # Fixed grain so flat areas are not perfectly flat.
    grain = rng.normal(0, 2.5, out.shape[:2]).astype(np.float32)
    out = np.clip(out.astype(np.float32) + grain[:, :, None], 0, 255).astype(np.uint8)
    return out


__all__ = ["SPECS", "PartSpec", "VehicleLook", "VehicleSpec", "haze_factor", "render_background"]
