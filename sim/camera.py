"""Camera geometry of the synthetic road scene: ground metres <-> image pixels.

Ground coordinates (metres): ``x`` across the road (positive to the image right),
``y`` along it (positive away from the camera), ``z`` up. The road's centre line is
``x = 0``; the camera looks along ``+y``.

The camera is a full 3x4 projection ``P`` so that vehicles can be drawn as 3-D boxes.
Its ground-plane part is exactly the homography of the camera's
:class:`~config.settings.CalibrationConfig` (so the renderer and any speed estimator
built on the same calibration agree), and its height column comes from decomposing
that homography with a pinhole model (square pixels, principal point at the image
centre). :func:`default_calibration` builds a plausible pole-mounted camera for a
configured road when a camera has no calibration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from config.settings import CalibrationConfig
from config.settings import SyntheticSource as SyntheticConfig

#: Smallest depth (metres in front of the camera) a drawn point may have; nearer geometry is clipped.
NEAR_PLANE_M = 0.05


@dataclass(frozen=True)
class RoadLayout:
    """Cross-section of the simulated road (metres).

    Lanes are numbered 0..2n-1 from the image left. Lanes ``0..n-1`` (left carriageway)
    carry traffic away from the camera (direction ``"up"`` in the image, left-hand
    traffic as in Pakistan); lanes ``n..2n-1`` carry traffic toward it (``"down"``).

    Attributes:
        lanes_per_direction: Lanes in each carriageway.
        lane_width_m: Width of one lane.
        median_m: Width of the central median (raised for 2+ lanes, painted for 1).
        footpath_m: Width of the footpath beyond each kerb.
        length_m: Length of the analysed stretch (``road_length_m``).
    """

    lanes_per_direction: int
    lane_width_m: float
    median_m: float
    footpath_m: float
    length_m: float

    @classmethod
    def from_config(cls, cfg: SyntheticConfig) -> RoadLayout:
        n = cfg.lanes_per_direction
        return cls(n, cfg.lane_width_m, 1.2 if n >= 2 else 0.4, 3.0, cfg.road_length_m)

    @property
    def n_lanes(self) -> int:
        return 2 * self.lanes_per_direction

    @property
    def half_width_m(self) -> float:
        """Distance from the centre line to each kerb."""
        return self.median_m / 2 + self.lanes_per_direction * self.lane_width_m

    def lane_center(self, lane: int) -> float:
        """``x`` of the centre of a lane (0 = leftmost in the image)."""
        n, lw = self.lanes_per_direction, self.lane_width_m
        if not 0 <= lane < 2 * n:
            raise ValueError(f"lane {lane} out of range 0..{2 * n - 1}")
        if lane < n:
            return -(self.median_m / 2 + (n - lane - 0.5) * lw)
        return self.median_m / 2 + (lane - n + 0.5) * lw

    def lane_direction(self, lane: int) -> int:
        """+1 (away from the camera, ``"up"``) for the left carriageway, -1 for the right."""
        return 1 if lane < self.lanes_per_direction else -1

    def carriageway_lanes(self, direction: int) -> tuple[int, ...]:
        n = self.lanes_per_direction
        return tuple(range(n)) if direction > 0 else tuple(range(n, 2 * n))

    def kerb_lane(self, direction: int) -> int:
        """Outermost (slow, kerb-side) lane of the carriageway whose traffic moves ``direction``."""
        return 0 if direction > 0 else self.n_lanes - 1

    def kerb_x(self, lane: int) -> float:
        """``x`` of the kerb on the side of ``lane``'s carriageway."""
        return -self.half_width_m if lane < self.lanes_per_direction else self.half_width_m


@dataclass(frozen=True)
class CameraModel:
    """A pinhole-like projection of ground/3-D points into the image.

    Attributes:
        P: 3x4 matrix; ``P @ (x, y, z, 1)`` gives homogeneous pixels. Scaled so the
            third coordinate is the depth in metres in front of the camera.
        width: Image width in pixels.
        height: Image height in pixels.
        center: Camera position in ground coordinates (x, y, z).
    """

    P: np.ndarray
    width: int
    height: int
    center: tuple[float, float, float]

    @property
    def homography(self) -> np.ndarray:
        """Ground (x, y) -> image homography (3x3)."""
        return self.P[:, [0, 1, 3]]

    def project(self, pts: np.ndarray) -> np.ndarray:
        """Project ``(..., 3)`` ground points to ``(..., 2)`` pixels (points must be in front of the camera)."""
        h = pts @ self.P[:, :3].T + self.P[:, 3]
        return h[..., :2] / h[..., 2:3]

    def depth(self, pts: np.ndarray) -> np.ndarray:
        """Depth in metres of ``(..., 3)`` points (negative behind the camera)."""
        return pts @ self.P[2, :3] + self.P[2, 3]

    def project_h(self, pts: np.ndarray) -> np.ndarray:
        """Homogeneous projection ``(..., 3)`` -> ``(..., 3)`` (u*w, v*w, w)."""
        return pts @ self.P[:, :3].T + self.P[:, 3]

    def ground_to_image(self, xy: np.ndarray) -> np.ndarray:
        """``(..., 2)`` ground points -> ``(..., 2)`` pixels."""
        xy = np.asarray(xy, dtype=np.float64)
        return self.project(np.concatenate([xy, np.zeros(xy.shape[:-1] + (1,))], axis=-1))

    def image_to_ground(self, uv: np.ndarray) -> np.ndarray:
        """``(..., 2)`` pixels -> ``(..., 2)`` ground points (z = 0)."""
        uv = np.asarray(uv, dtype=np.float64)
        hinv = np.linalg.inv(self.homography)
        h = np.concatenate([uv, np.ones(uv.shape[:-1] + (1,))], axis=-1) @ hinv.T
        return h[..., :2] / h[..., 2:3]

    def px_per_m(self, x: float, y: float) -> float:
        """Horizontal image scale (pixels per metre across the road) at a ground point."""
        a, b = self.ground_to_image(np.array([[x - 0.5, y], [x + 0.5, y]]))
        return float(np.hypot(*(b - a)))

    @classmethod
    def from_calibration(cls, cal: CalibrationConfig, width: int, height: int) -> CameraModel:
        """The camera whose ground plane maps exactly as ``cal`` says.

        Raises:
            ValueError: when the calibration points do not define a homography.
        """
        img = np.asarray(cal.image_points, dtype=np.float64)
        gnd = np.asarray(cal.ground_points_m, dtype=np.float64)
        H: np.ndarray | None
        if len(img) == 4:
            H = np.asarray(cv2.getPerspectiveTransform(gnd.astype(np.float32), img.astype(np.float32)), np.float64)
        else:
            H, _ = cv2.findHomography(gnd, img, 0)
        if H is None or not np.all(np.isfinite(H)) or abs(np.linalg.det(H)) < 1e-12:
            raise ValueError("calibration points do not define a ground->image homography (collinear points?)")
        # Sign: ground points of the calibration lie in front of the camera (w > 0).
        g = gnd.mean(axis=0)
        if (H[2] @ np.array([g[0], g[1], 1.0])) < 0:
            H = -H
        P = _camera_from_homography(H, width, height, g)
        return cls(P=P, width=width, height=height, center=_camera_center(P))

    @classmethod
    def physical(
        cls,
        width: int,
        height: int,
        focal_px: float,
        pitch_rad: float,
        height_m: float,
        back_m: float,
        x_m: float = 0.0,
    ) -> CameraModel:
        """A camera at ``(x_m, -back_m, height_m)`` looking along ``+y``, pitched down by ``pitch_rad``."""
        K = np.array([[focal_px, 0, width / 2], [0, focal_px, height / 2], [0, 0, 1.0]])
        s, c = math.sin(pitch_rad), math.cos(pitch_rad)
        R = np.array([[1.0, 0, 0], [0, -s, -c], [0, c, -s]])  # rows: camera x (right), y (down), z (forward)
        C = np.array([x_m, -back_m, height_m])
        P = K @ np.hstack([R, (-R @ C)[:, None]])
        P = P / np.linalg.norm(P[2, :3])
        return cls(P=P, width=width, height=height, center=(float(C[0]), float(C[1]), float(C[2])))


def _camera_center(P: np.ndarray) -> tuple[float, float, float]:
    _, _, vt = np.linalg.svd(P)
    c = vt[-1]
    c = c[:3] / c[3]
    return (float(c[0]), float(c[1]), float(c[2]))


def _camera_from_homography(H: np.ndarray, width: int, height: int, g: np.ndarray) -> np.ndarray:
    """Complete a ground homography to a 3x4 projection (adds the height column)."""
    cx, cy = width / 2.0, height / 2.0

    def kinv(f: float) -> np.ndarray:
        return np.array([[1 / f, 0, -cx / f], [0, 1 / f, -cy / f], [0, 0, 1.0]])

    def cost(f: float) -> float:
        a, b = kinv(f) @ H[:, 0], kinv(f) @ H[:, 1]
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        return float((a @ b / (na * nb)) ** 2 + ((na - nb) / (na + nb)) ** 2)

    fs = np.geomspace(0.1 * width, 20.0 * width, 300)
    costs = [cost(f) for f in fs]
    i = int(np.argmin(costs))
    lo, hi = fs[max(i - 1, 0)], fs[min(i + 1, len(fs) - 1)]
    for _ in range(60):  # golden-section refinement
        m1, m2 = lo + (hi - lo) * 0.382, lo + (hi - lo) * 0.618
        if cost(m1) < cost(m2):
            hi = m2
        else:
            lo = m1
    f = (lo + hi) / 2
    gp = np.array([g[0], g[1], 1.0])
    if cost(f) < 0.02:
        K = np.array([[f, 0, cx], [0, f, cy], [0, 0, 1.0]])
        a, b = kinv(f) @ H[:, 0], kinv(f) @ H[:, 1]
        lam = (np.linalg.norm(a) + np.linalg.norm(b)) / 2
        r1 = a / np.linalg.norm(a)
        r2 = b - (r1 @ b) * r1
        r2 /= np.linalg.norm(r2)
        p3 = lam * (K @ np.cross(r1, r2))
    else:
        # Not a square-pixel centred camera: make heights project straight up, scaled like widths.
        w = H[2] @ gp
        u = (H[0] @ gp) / w
        s = abs(H[0, 0] - u * H[2, 0]) / w  # pixels per metre across, at g
        p3 = np.array([0.0, -s * w, 0.0])
    P = np.column_stack([H[:, 0], H[:, 1], p3, H[:, 2]])
    # Up must go up the image.
    base = P @ np.array([g[0], g[1], 0.0, 1.0])
    top = P @ np.array([g[0], g[1], 1.0, 1.0])
    if top[1] / top[2] > base[1] / base[2]:
        P[:, 2] = -P[:, 2]
    # Third row scaled to metres of depth (sign already makes w > 0 in front).
    return P / np.linalg.norm(P[2, :3]) if np.linalg.norm(P[2, :3]) > 1e-12 else P


def default_camera(cfg: SyntheticConfig) -> CameraModel:
    """A pole/gantry camera over the centre line that frames the configured road.

    The horizon sits at 20% of the image height, the near end of the road (``y = 0``)
    at the bottom edge, and the road (kerb to kerb) spans 95-155% of the image width
    there depending on the number of lanes (outer lanes leave the picture at the very
    bottom, so near vehicles and their plates are large). The camera is at least 5 m high.
    """
    layout = RoadLayout.from_config(cfg)
    W, H = cfg.width, cfg.height
    f = 0.95 * W
    pitch = math.atan((0.5 - 0.2) * H / f)
    alpha0 = pitch + math.atan(0.5 * H / f)  # ray to the bottom row, below horizontal
    near_frac = 0.75 + 0.2 * layout.lanes_per_direction
    depth0 = f * (2 * layout.half_width_m) / (near_frac * W)
    hc = depth0 / (math.cos(pitch) / math.tan(alpha0) + math.sin(pitch))
    hc = max(hc, 5.0)
    back = hc / math.tan(alpha0)
    return CameraModel.physical(W, H, f, pitch, hc, back)


def default_calibration(cfg: SyntheticConfig) -> CalibrationConfig:
    """Calibration of :func:`default_camera`: the two kerbs at a near ``y`` and at ``road_length_m``.

    The near ``y`` is the first multiple of 5 m at which both kerbs are inside the image,
    as a surveyor would pick visible marks. Image points are rounded to 0.1 px, as one
    would write them in a config.
    """
    cam = default_camera(cfg)
    layout = RoadLayout.from_config(cfg)
    hw, L = layout.half_width_m, layout.length_m
    y0 = 0.0
    while y0 < L / 2:
        u = cam.ground_to_image(np.array([[-hw, y0], [hw, y0]]))
        if u[0, 0] >= 2 and u[1, 0] <= cfg.width - 2 and u[0, 1] <= cfg.height - 2:
            break
        y0 += 5.0
    ground = np.array([[-hw, y0], [hw, y0], [hw, L], [-hw, L]])
    img = cam.ground_to_image(ground)
    return CalibrationConfig(
        image_points=tuple((round(float(u), 1), round(float(v), 1)) for u, v in img),
        ground_points_m=tuple((round(float(x), 3), round(float(y), 3)) for x, y in ground),
    )


@dataclass(frozen=True)
class SceneGeometry:
    """Suggested config geometry of a synthetic camera (all in image pixels).

    Attributes:
        calibration: The camera's calibration (:func:`default_calibration`).
        line: Counting line ``(a, b)`` across all lanes, left to right, so that a vehicle
            moving down the image (toward the camera, right carriageway) crosses it
            ``forward`` and one moving up (left carriageway) ``backward``.
        zones: ``{"up": polygon, "down": polygon}``: one per carriageway, where vehicles
            are reliably visible, clipped to the image.
        line_y_m: Ground ``y`` of the counting line.
        zone_y_m: Ground ``y`` range of the zones.
    """

    calibration: CalibrationConfig
    line: tuple[tuple[float, float], tuple[float, float]]
    zones: dict[str, tuple[tuple[float, float], ...]]
    line_y_m: float
    zone_y_m: tuple[float, float]


def default_geometry(cfg: SyntheticConfig, line_row: float = 0.7, zone_far_frac: float = 0.6) -> SceneGeometry:
    """Counting line, zones and calibration that match the default synthetic camera.

    Args:
        cfg: The synthetic source settings (size, lanes, road length).
        line_row: Image row of the counting line as a fraction of the height.
        zone_far_frac: Far end of the zones as a fraction of ``road_length_m``.
    """
    cam = default_camera(cfg)
    layout = RoadLayout.from_config(cfg)
    W, H = cfg.width, cfg.height
    hw, m = layout.half_width_m, layout.median_m

    def y_at_row(row: float) -> float:
        return float(cam.image_to_ground(np.array([W / 2, row]))[1])

    def r1(p: np.ndarray) -> tuple[float, float]:
        return (round(float(p[0]), 1), round(float(p[1]), 1))

    y_line = y_at_row(line_row * H)
    a, b = cam.ground_to_image(np.array([[-hw - 0.3, y_line], [hw + 0.3, y_line]]))
    y_far = zone_far_frac * layout.length_m
    y_near = y_at_row(0.97 * H)
    # Move the near edge out until both carriageways' outer edges are inside the image.
    while y_near < y_far - 5:
        lx = cam.ground_to_image(np.array([-hw - 0.3, y_near]))[0]
        rx = cam.ground_to_image(np.array([hw + 0.3, y_near]))[0]
        if lx >= 1 and rx <= W - 1:
            break
        y_near += 0.5
    zones: dict[str, tuple[tuple[float, float], ...]] = {}
    for name, (x0, x1) in {"up": (-hw - 0.3, -m / 2 + 0.1), "down": (m / 2 - 0.1, hw + 0.3)}.items():
        pts = cam.ground_to_image(np.array([[x0, y_near], [x1, y_near], [x1, y_far], [x0, y_far]]))
        zones[name] = tuple(r1(p) for p in pts)
    return SceneGeometry(default_calibration(cfg), (r1(a), r1(b)), zones, round(y_line, 2), (round(y_near, 2), y_far))


def camera_for(cfg: SyntheticConfig, calibration: CalibrationConfig | None) -> CameraModel:
    """The scene camera: from ``calibration`` when given, else :func:`default_camera`."""
    if calibration is None:
        return default_camera(cfg)
    return CameraModel.from_calibration(calibration, cfg.width, cfg.height)


def clip_near(pts_h: np.ndarray, eps: float = NEAR_PLANE_M) -> np.ndarray:
    """Clip a convex polygon given as homogeneous image points ``(n, 3)`` to ``w >= eps``.

    Returns the clipped polygon's pixel coordinates ``(m, 2)`` (``m`` may be 0).
    """
    out: list[np.ndarray] = []
    n = len(pts_h)
    for i in range(n):
        p, q = pts_h[i], pts_h[(i + 1) % n]
        pin, qin = p[2] >= eps, q[2] >= eps
        if pin:
            out.append(p)
        if pin != qin:
            t = (eps - p[2]) / (q[2] - p[2])
            out.append(p + t * (q - p))
    if not out:
        return np.zeros((0, 2))
    arr = np.array(out)
    return arr[:, :2] / arr[:, 2:3]


__all__ = [
    "CameraModel",
    "RoadLayout",
    "camera_for",
    "clip_near",
    "SceneGeometry",
    "default_calibration",
    "default_camera",
    "default_geometry",
]
