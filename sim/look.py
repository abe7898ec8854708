"""How a synthetic vehicle is drawn: its shape placed on the road, projected and painted.

A vehicle is the stack of boxes of its :class:`~sim.specs.VehicleSpec`;
:class:`VehicleLook` gives it colours and a plate, projects its corners through the
scene camera and paints the faces the camera sees (near face, roof, one side) in
shades of its colours, with windows, lights and the number plate (:mod:`sim.plates`).
Far vehicles fade into the haze; tiny ones are drawn as one box, and a vehicle partly
behind the camera's near plane is clipped face by face.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from sim.camera import NEAR_PLANE_M, clip_near
from sim.paint import BGR, ONE, SHIFT, fill, haze_factor, mix, shade
from sim.plates import draw_plate_text, plate_colour, plate_inset, plate_text_size
from sim.specs import BRIGHT_COLOURS, PartSpec, VehicleSpec

GLASS: BGR = (78, 66, 56)


def _choose(rng: np.random.Generator, options: tuple[tuple[BGR, float], ...]) -> BGR:
    """One colour of ``(colour, weight)`` options, drawn with probability proportional to its weight."""
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
        return _Insets(self.s, self.t, [mix(c, k) for c in self.colours], self.plate)


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
            mix(self.top, k),
            mix(self.near, k),
            mix(self.side, k),
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
            "legs": shade(accent, 0.6),
        }
        plate_bg = plate_colour(spec, rng)
        head = (24, 24, 26) if rng.random() < 0.6 else _choose(rng, BRIGHT_COLOURS)
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
        look = cls(spec, plate, plate_bg, head, local, text_size=plate_text_size(plate))
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
                quads.append((0.0, 1.0, *p.stripe, shade(accent, 0.9)))
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
                plate_i = len(quads)
                quads.append(plate_inset(p, self.spec, self.plate_bg))
            near[front] = _Insets.build(quads, plate_i)
        side: list[tuple[float, float, float, float, BGR]] = []
        if p.glass_side is not None:
            side.append((0.05, 0.95, *p.glass_side, shade(GLASS, 0.9)))
            for k in range(1, p.pillars + 1):
                sk = k / (p.pillars + 1)
                side.append((sk - 0.012, sk + 0.012, *p.glass_side, shade(c, 0.72)))
        if p.stripe is not None:
            side.append((0.0, 1.0, *p.stripe, shade(accent, 0.75)))
        return _PartLook(p, index, shade(c, 1.05, 14), shade(c, 0.9), shade(c, 0.72), near, _Insets.build(side))

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
            fill(img, pts, parts[min(1, len(parts) - 1)].near)
            return
        detail = bw >= _DETAIL_PX
        near_iu = 0 if direction > 0 else 1  # which end (rear=0/front=1) faces the camera
        front_near = direction < 0
        clipped = bool(np.any(hom[: nc + 4, 2] < NEAR_PLANE_M))
        if clipped:
            self._draw_clipped(img, x, hom, parts, near_iu, camera_x)
            return
        uv = hom[:, :2] / hom[:, 2:3]
        fx = (uv * ONE).astype(np.int32)
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
                        draw_plate_text(img, quads[ins.plate], self.plate, self.text_size)
        if self.spec.head is not None:
            c = uv[nc + 4]
            r = float(np.hypot(*(uv[nc + 5] - c)))
            if r >= 0.7:
                cv2.circle(
                    img, (int(c[0] * ONE), int(c[1] * ONE)), int(r * ONE), self.head_colour, -1, cv2.LINE_8, SHIFT
                )

    def _draw_clipped(
        self, img: np.ndarray, x: float, hom: np.ndarray, parts: list[_PartLook], near_iu: int, camera_x: float
    ) -> None:
        """Slow path for a vehicle partly behind the camera's near plane (very close, under the camera)."""
        nc = self.n_corners
        shadow = clip_near(hom[nc : nc + 4])
        if len(shadow) >= 3:
            fill(img, shadow, _SHADOW)
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
                    fill(img, poly, col)


# The 6 faces of a part's box as corner indices (iu*4 + il*2 + iz).
_BOX_FACES = ((0, 2, 3, 1), (4, 6, 7, 5), (0, 4, 5, 1), (2, 6, 7, 3), (0, 2, 6, 4), (1, 3, 7, 5))


def _paint_insets(img: np.ndarray, face: np.ndarray, ins: _Insets) -> np.ndarray:
    """Fill the inset quads of a face (corners LB, RB, RT, LT); returns their pixel corners ``(k, 4, 2)``."""
    lb, rb, rt, lt = face
    s = ins.s[..., None]
    t = ins.t[..., None]
    quads = (1 - t) * ((1 - s) * lb + s * rb) + t * ((1 - s) * lt + s * rt)
    fx = (quads * ONE).astype(np.int32)
    for k, col in enumerate(ins.colours):
        cv2.fillConvexPoly(img, fx[k], col, cv2.LINE_8, SHIFT)
    return quads


__all__ = ["GLASS", "VehicleLook"]
