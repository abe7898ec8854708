"""The static street behind the synthetic traffic, drawn once per scene.

:func:`render_background` paints, far to near and in this order: the sky with a distant
skyline and the ground, the buildings lining both sides (shop fronts, sign boards,
windows), the footpaths and striped kerbs, the asphalt with wheel tracks and patches,
the median, the lane markings, and the street furniture (trees on the footpaths, light
poles). It draws at 2x resolution through the scene camera, downsamples, and adds a
fixed grain. Every random detail comes from one generator seeded by the scene's seed,
drawn in that order, so the same seed always gives the same street.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from sim.camera import NEAR_PLANE_M, CameraModel, RoadLayout, clip_near
from sim.paint import BGR, ONE, SHIFT, haze_factor, mix, shade

#: Supersampling factor of the background canvas.
SUPERSAMPLE = 2
#: Kerb stones are painted one by one up to this ``y``; beyond it as one strip.
KERB_STONES_TO_M = 200

_GROUND: BGR = (118, 138, 150)
_FOOTPATH: BGR = (160, 164, 166)
_KERB_FAR: BGR = (90, 120, 130)
_KERB_YELLOW: BGR = (0, 196, 232)
_KERB_BLACK: BGR = (34, 34, 34)
_ASPHALT: BGR = (82, 82, 84)
_WHEEL_TRACK: BGR = (72, 72, 75)
_PATCH: BGR = (92, 92, 94)
_MEDIAN_GRASS: BGR = (58, 112, 70)
_MEDIAN_PAINT: BGR = (0, 200, 236)
_MARKING: BGR = (226, 228, 228)
_BUILDING_COLOURS: tuple[BGR, ...] = (
    (150, 186, 206),
    (70, 92, 160),
    (150, 150, 150),
    (196, 204, 212),
    (150, 182, 150),
    (204, 184, 150),
    (110, 150, 190),
)
_SIGN_COLOURS: tuple[BGR, ...] = (
    (30, 30, 190),
    (40, 150, 40),
    (160, 80, 20),
    (20, 180, 230),
    (200, 200, 200),
    (120, 40, 140),
)
_POLE: BGR = (118, 118, 122)

#: A building block: (far end y, side -1/+1, near end y, length, height, colour).
_Block = tuple[float, int, float, float, float, BGR]


class _Painter:
    """Draws ground-plane and vertical quads through a (supersampled) camera."""

    def __init__(self, cam: CameraModel, scale: int) -> None:
        self.P = np.diag([scale, scale, 1.0]) @ cam.P
        self.scale = scale
        self.cam = cam

    def poly(self, img: np.ndarray, pts3: np.ndarray, colour: BGR, haze: bool = True) -> bool:
        """Fill the 3-D convex polygon ``pts3`` (``(n, 3)`` metres), hazed by its depth; False when not drawn."""
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
            colour = mix(colour, haze_factor(max(float(w.sum()) / len(w), 0.0)))
        cv2.fillConvexPoly(img, np.round(poly * ONE).astype(np.int32), colour, cv2.LINE_AA, SHIFT)
        return True

    def ground(
        self, img: np.ndarray, x0: float, x1: float, y0: float, y1: float, colour: BGR, haze: bool = True
    ) -> None:
        """Fill the ground rectangle ``x0..x1`` by ``y0..y1``."""
        # Split long strips so haze varies along them.
        ys = [y0]
        while ys[-1] < y1:
            step = max(5.0, (ys[-1] - self.cam.center[1]) * 0.25)
            ys.append(min(y1, ys[-1] + step))
        for a, b in zip(ys[:-1], ys[1:], strict=False):
            self.poly(img, np.array([[x0, a, 0], [x1, a, 0], [x1, b, 0], [x0, b, 0]], float), colour, haze)

    def px_per_m(self, x: float, y: float, z: float = 0.0) -> float:
        """Canvas pixels per metre across the road at a point."""
        a = np.array([x, y, z, 1.0]) @ self.P.T
        b = np.array([x + 1, y, z, 1.0]) @ self.P.T
        return float(abs(b[0] / b[2] - a[0] / a[2]))

    def to_px(self, x: float, y: float, z: float) -> tuple[float, float, float]:
        """Canvas pixel ``(u, v)`` of a point and its depth."""
        h = np.array([x, y, z, 1.0]) @ self.P.T
        return (h[0] / h[2], h[1] / h[2], h[2])


@dataclass
class _Street:
    """What every stage of the background draws with.

    Attributes:
        img: The supersampled canvas (BGR).
        pt: Painter through the supersampled camera.
        rng: The one generator of every random detail, drawn in stage order.
        layout: Road cross-section.
        y_start: Nearest ground ``y`` drawn (just in front of the camera).
        far_m: How far along the road to draw.
    """

    img: np.ndarray
    pt: _Painter
    rng: np.random.Generator
    layout: RoadLayout
    y_start: float
    far_m: float

    def quad(self, corners: list[list[float]], colour: BGR) -> None:
        """Fill a 3-D quad given as four ``[x, y, z]`` corners."""
        self.pt.poly(self.img, np.array(corners, float), colour)


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
    S = SUPERSAMPLE
    img = np.empty((cam.height * S, cam.width * S, 3), np.uint8)
    st = _Street(img, _Painter(cam, S), rng, layout, cam.center[1] + 0.5, far_m)
    _paint_sky_and_ground(st)
    _paint_buildings(st, cam.center[1])
    _paint_footpaths(st)
    _paint_carriageway(st)
    _paint_median(st)
    _paint_lane_markings(st)
    _paint_street_furniture(st, cam.center[1])
    return _downsample_with_grain(st.img, cam, rng)


def _paint_sky_and_ground(st: _Street) -> None:
    """Sky gradient down to the hazy horizon, a distant skyline on it, and the ground below."""
    img, pt, rng, S = st.img, st.pt, st.rng, SUPERSAMPLE
    H, W = img.shape[:2]
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
        cv2.rectangle(img, (sx, int(hv - bh)), (sx + bw, int(hv) + 2), mix((170, 165, 160), 0.55), -1)
        sx += bw
    # Ground below the horizon.
    img[int(max(hv, 0)) :] = mix(_GROUND, 0.0)
    pt.ground(img, -400, 400, st.y_start, st.far_m * 3, _GROUND)


def _building_blocks(st: _Street, camera_y: float) -> list[_Block]:
    """Random blocks along both sides of the street, sorted far to near (painter's order)."""
    rng = st.rng
    blocks: list[_Block] = []
    for side in (-1, 1):
        y = camera_y - 10
        while y < st.far_m:
            ln = float(rng.uniform(7, 24))
            h = float(rng.uniform(5.5, 20))
            col = _BUILDING_COLOURS[int(rng.integers(len(_BUILDING_COLOURS)))]
            blocks.append((y + ln, side, y, ln, h, col))
            y += ln + (float(rng.uniform(2, 4)) if rng.random() < 0.25 else 0.0)
    blocks.sort(key=lambda b: -b[0])
    return blocks


def _paint_buildings(st: _Street, camera_y: float) -> None:
    """The buildings lining the street, far to near."""
    for block in _building_blocks(st, camera_y):
        _paint_building(st, block)


def _paint_building(st: _Street, block: _Block) -> None:
    """One block: end wall, facade and, when large enough to see, shop front, sign, windows and parapet."""
    _, side, y0, ln, h, col = block
    xf = side * (st.layout.half_width_m + st.layout.footpath_m)
    y1 = y0 + ln
    # End wall facing the camera (shows where a nearer block is lower), then the facade.
    st.quad([[xf, y0, 0], [xf + side * 12, y0, 0], [xf + side * 12, y0, h], [xf, y0, h]], shade(col, 0.7))
    st.quad([[xf, y0, 0], [xf, y1, 0], [xf, y1, h], [xf, y0, h]], col)
    if st.pt.px_per_m(xf, y0) < 2.0:
        return
    # Shop fronts with sign boards, windows on the floors above.
    st.quad([[xf, y0 + 0.3, 0], [xf, y1 - 0.3, 0], [xf, y1 - 0.3, 2.6], [xf, y0 + 0.3, 2.6]], (62, 58, 54))
    sign = _SIGN_COLOURS[int(st.rng.integers(len(_SIGN_COLOURS)))]
    st.quad([[xf, y0 + 0.4, 2.7], [xf, y1 - 0.4, 2.7], [xf, y1 - 0.4, 3.5], [xf, y0 + 0.4, 3.5]], sign)
    z = 4.2
    while z + 1.5 < h:
        yy = y0 + 1.0
        while yy + 1.4 < y1 - 0.6:
            st.quad([[xf, yy, z], [xf, yy + 1.3, z], [xf, yy + 1.3, z + 1.4], [xf, yy, z + 1.4]], (96, 84, 72))
            yy += 2.8
        z += 3.2
    # Parapet.
    st.quad([[xf, y0, h - 0.35], [xf, y1, h - 0.35], [xf, y1, h], [xf, y0, h]], shade(col, 0.8))


def _paint_kerb(st: _Street, k0: float, k1: float) -> None:
    """A kerb from ``x = k0`` to ``k1``: yellow and black stones near the camera, one strip beyond."""
    yk = math.floor(st.y_start)
    while yk < KERB_STONES_TO_M:
        st.quad(
            [[k0, yk, 0], [k1, yk, 0], [k1, yk + 1, 0], [k0, yk + 1, 0]], _KERB_YELLOW if int(yk) % 2 else _KERB_BLACK
        )
        yk += 1
    st.pt.ground(st.img, k0, k1, KERB_STONES_TO_M, st.far_m, _KERB_FAR)


def _paint_footpaths(st: _Street) -> None:
    """Footpaths beyond both kerbs, and the kerbs."""
    hw, fp = st.layout.half_width_m, st.layout.footpath_m
    for side in (-1, 1):
        a, b = sorted((side * hw, side * (hw + fp)))
        st.pt.ground(st.img, a, b, st.y_start, st.far_m, _FOOTPATH)
        k0, k1 = sorted((side * hw, side * (hw + 0.28)))
        _paint_kerb(st, k0, k1)


def _paint_carriageway(st: _Street) -> None:
    """Asphalt kerb to kerb, darker wheel tracks in every lane, and random patches."""
    layout, hw = st.layout, st.layout.half_width_m
    st.pt.ground(st.img, -hw, hw, st.y_start, st.far_m, _ASPHALT)
    for lane in range(layout.n_lanes):
        xc = layout.lane_center(lane)
        for off in (-0.8, 0.8):
            st.pt.ground(st.img, xc + off - 0.3, xc + off + 0.3, st.y_start, st.far_m, _WHEEL_TRACK)
    for _ in range(18):
        px = float(st.rng.uniform(-hw + 0.5, hw - 1.5))
        py = float(st.rng.uniform(0, 150))
        st.quad([[px, py, 0], [px + 1.2, py, 0], [px + 1.2, py + 2.5, 0], [px, py + 2.5, 0]], _PATCH)


def _paint_median(st: _Street) -> None:
    """A raised, kerbed grass median for two or more lanes per direction, else a painted double line."""
    m = st.layout.median_m
    if st.layout.lanes_per_direction >= 2:
        st.pt.ground(st.img, -m / 2, m / 2, st.y_start, st.far_m, _MEDIAN_GRASS)
        for side in (-1, 1):
            k0, k1 = sorted((side * m / 2, side * (m / 2 - 0.2)))
            _paint_kerb(st, k0, k1)
    else:
        for x0 in (-0.2, 0.08):
            st.pt.ground(st.img, x0, x0 + 0.12, st.y_start, st.far_m, _MEDIAN_PAINT)


def _paint_lane_markings(st: _Street) -> None:
    """Dashed lines between the lanes of a carriageway, solid edge lines by the kerbs and the median."""
    layout = st.layout
    hw, m, n = layout.half_width_m, layout.median_m, layout.lanes_per_direction
    for direction in (1, -1):
        lanes = layout.carriageway_lanes(direction)
        for a, b in zip(lanes[:-1], lanes[1:], strict=False):
            xm = (layout.lane_center(a) + layout.lane_center(b)) / 2
            yd = math.floor(st.y_start / 9) * 9
            while yd < st.far_m:
                st.quad(
                    [[xm - 0.07, yd, 0], [xm + 0.07, yd, 0], [xm + 0.07, yd + 3, 0], [xm - 0.07, yd + 3, 0]], _MARKING
                )
                yd += 9
    for xe in (-(hw - 0.3), hw - 0.3) + ((-(m / 2 + 0.3), m / 2 + 0.3) if n >= 2 else ()):
        st.pt.ground(st.img, xe - 0.07, xe + 0.07, st.y_start, st.far_m, _MARKING)


def _furniture_positions(st: _Street) -> list[tuple[float, str, float]]:
    """``(y, kind, x)`` of the trees (random spacing) and light poles (every 40 m), far to near."""
    hw = st.layout.half_width_m
    things: list[tuple[float, str, float]] = []
    for side in (-1, 1):
        y = float(st.rng.uniform(0, 10))
        while y < 600:
            things.append((y, "tree", side * (hw + 1.3)))
            y += float(st.rng.uniform(11, 26))
    for xp in (-(hw + 0.6), hw + 0.6):
        y = 14.0 if xp <= 0 else 34.0
        while y < 800:
            things.append((y, "pole", xp))
            y += 40.0
    things.sort(key=lambda t: -t[0])
    return things


def _paint_street_furniture(st: _Street, camera_y: float) -> None:
    """Vertical street furniture, far to near: trees on the footpaths, light poles."""
    for y, kind, x in _furniture_positions(st):
        if y < camera_y + 2:
            continue
        if kind == "tree":
            _paint_tree(st, x, y)
        else:
            _paint_pole(st, x, y)


def _paint_tree(st: _Street, x: float, y: float) -> None:
    """A trunk and an elliptic canopy of a random green."""
    st.quad([[x - 0.15, y, 0], [x + 0.15, y, 0], [x + 0.15, y, 2.6], [x - 0.15, y, 2.6]], (40, 62, 92))
    u, v, d = st.pt.to_px(x, y, 4.2)
    r = 2.1 * st.pt.px_per_m(x, y, 4.2)  # canopy radius in pixels
    if d > 0.3 and r > 0.5:
        rng = st.rng
        g = (int(rng.integers(40, 70)), int(rng.integers(100, 140)), int(rng.integers(50, 80)))
        axes = (max(int(r), 1), max(int(r * 0.8), 1))
        cv2.ellipse(st.img, (int(u), int(v)), axes, 0, 0, 360, mix(g, haze_factor(d)), -1, cv2.LINE_AA)


def _paint_pole(st: _Street, x: float, y: float) -> None:
    """A light pole with its arm and lamp reaching over the road."""
    st.quad([[x - 0.09, y, 0], [x + 0.09, y, 0], [x + 0.09, y, 9.0], [x - 0.09, y, 9.0]], _POLE)
    for a in (1,) if x < 0 else (-1,):
        st.quad([[x, y, 8.85], [x + a * 1.8, y, 8.85], [x + a * 1.8, y, 9.0], [x, y, 9.0]], _POLE)
        st.quad(
            [[x + a * 1.4, y, 8.7], [x + a * 1.9, y, 8.7], [x + a * 1.9, y, 8.88], [x + a * 1.4, y, 8.88]],
            (210, 230, 235),
        )


def _downsample_with_grain(img: np.ndarray, cam: CameraModel, rng: np.random.Generator) -> np.ndarray:
    """The canvas at the camera's size, with a fixed grain so flat areas are not perfectly flat."""
    out = cv2.resize(img, (cam.width, cam.height), interpolation=cv2.INTER_AREA)
    grain = rng.normal(0, 2.5, out.shape[:2]).astype(np.float32)
    return np.clip(out.astype(np.float32) + grain[:, :, None], 0, 255).astype(np.uint8)


__all__ = ["render_background"]
