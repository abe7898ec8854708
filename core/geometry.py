"""Plane geometry in image pixels (and ground metres): pure functions, numpy only.

Conventions:

* Points are ``(x, y)``; image coordinates have ``y`` pointing **down**.
* Polygons are sequences of points in either winding order, implicitly closed
  (the last point connects back to the first). They must be simple (not
  self-intersecting) for the area functions to be meaningful.
* Boxes are ``(x, y, w, h)`` with ``x, y`` the top-left corner (see :mod:`core.types`).
* "Left" and "right" of a directed line ``a -> b`` are as a viewer sees them on
  screen when looking from ``a`` towards ``b`` (so with ``y`` down, the right-hand
  side has a positive cross product ``(b - a) x (p - a)``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.types import Box, Point

Polygon = Sequence[Point]

_EPS = 1e-12


# --------------------------------------------------------------------------- basics


def cross(o: Point, a: Point, b: Point) -> float:
    """Z component of ``(a - o) x (b - o)``.

    Args:
        o: Origin.
        a: First point.
        b: Second point.

    Returns:
        Positive when ``b`` is to the right of ``o -> a`` on screen (y down),
        negative when to the left, 0 when the three points are collinear.
    """
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def side_of_line(p: Point, a: Point, b: Point, tolerance: float = 0.0) -> int:
    """Which side of the infinite line ``a -> b`` a point lies on.

    Args:
        p: The point.
        a: Start of the line.
        b: End of the line (must differ from ``a``).
        tolerance: Points closer than this (same units as the points) to the
            line count as on it.

    Returns:
        ``+1`` right of ``a -> b`` (as seen on screen), ``-1`` left, ``0`` on the line.

    Raises:
        ValueError: if ``a == b``.
    """
    length = float(np.hypot(b[0] - a[0], b[1] - a[1]))
    if length <= _EPS:
        raise ValueError(f"degenerate line: a == b == {a}")
    dist = cross(a, b, p) / length  # signed distance, + = right on screen
    if abs(dist) <= tolerance:
        return 0
    return 1 if dist > 0 else -1


def signed_distance_to_line(p: Point, a: Point, b: Point) -> float:
    """Signed perpendicular distance from ``p`` to the infinite line ``a -> b`` (+ = right)."""
    length = float(np.hypot(b[0] - a[0], b[1] - a[1]))
    if length <= _EPS:
        raise ValueError(f"degenerate line: a == b == {a}")
    return cross(a, b, p) / length


def _on_segment(p: Point, a: Point, b: Point) -> bool:
    """``p`` (known collinear with ``a``-``b``) lies within the segment's bounding box."""
    return (
        min(a[0], b[0]) - _EPS <= p[0] <= max(a[0], b[0]) + _EPS
        and min(a[1], b[1]) - _EPS <= p[1] <= max(a[1], b[1]) + _EPS
    )


def segments_intersect(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Whether the closed segments ``p1-p2`` and ``q1-q2`` share at least one point.

    Touching (an endpoint on the other segment) and collinear overlap count as
    intersecting.

    Args:
        p1: Start of the first segment.
        p2: End of the first segment.
        q1: Start of the second segment.
        q2: End of the second segment.

    Returns:
        True if the segments intersect.
    """
    d1 = cross(q1, q2, p1)
    d2 = cross(q1, q2, p2)
    d3 = cross(p1, p2, q1)
    d4 = cross(p1, p2, q2)
    if ((d1 > _EPS and d2 < -_EPS) or (d1 < -_EPS and d2 > _EPS)) and (
        (d3 > _EPS and d4 < -_EPS) or (d3 < -_EPS and d4 > _EPS)
    ):
        return True
    if abs(d1) <= _EPS and _on_segment(p1, q1, q2):
        return True
    if abs(d2) <= _EPS and _on_segment(p2, q1, q2):
        return True
    if abs(d3) <= _EPS and _on_segment(q1, p1, p2):
        return True
    return abs(d4) <= _EPS and _on_segment(q2, p1, p2)


# --------------------------------------------------------------------------- polygons


def signed_polygon_area(poly: Polygon) -> float:
    """Shoelace area; positive for polygons wound clockwise on screen (y down).

    Args:
        poly: Polygon vertices.

    Returns:
        Signed area (0 for fewer than 3 vertices).
    """
    if len(poly) < 3:
        return 0.0
    pts = np.asarray(poly, dtype=np.float64)
    x, y = pts[:, 0], pts[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def polygon_area(poly: Polygon) -> float:
    """Area of a simple polygon (absolute shoelace)."""
    return abs(signed_polygon_area(poly))


def point_in_polygon(p: Point, poly: Polygon) -> bool:
    """Whether a point lies inside a simple polygon (boundary counts as inside).

    Args:
        p: The point.
        poly: Polygon vertices (3 or more).

    Returns:
        True if ``p`` is inside or on the boundary.
    """
    n = len(poly)
    if n < 3:
        return False
    x, y = p
    inside = False
    for i in range(n):
        a, b = poly[i], poly[(i + 1) % n]
        if abs(cross(a, b, p)) <= 1e-9 and _on_segment(p, a, b):
            return True
        if (a[1] > y) != (b[1] > y):
            x_cross = a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            if x < x_cross:
                inside = not inside
    return inside


def points_in_polygon(points: np.ndarray, poly: Polygon) -> np.ndarray:
    """Vectorised even-odd test for many points (boundary handling unspecified).

    Args:
        points: Array ``(N, 2)`` of ``x, y``.
        poly: Polygon vertices.

    Returns:
        Boolean array ``(N,)``.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x, y = pts[:, 0], pts[:, 1]
    inside = np.zeros(len(pts), dtype=bool)
    verts = np.asarray(poly, dtype=np.float64)
    n = len(verts)
    for i in range(n):
        ax, ay = verts[i]
        bx, by = verts[(i + 1) % n]
        straddles = (ay > y) != (by > y)
        if not straddles.any():
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = ax + (y - ay) * (bx - ax) / (by - ay)
        inside ^= straddles & (x < x_cross)
    return inside


def box_to_polygon(box: Box) -> list[Point]:
    """The four corners of a box, clockwise on screen starting top-left."""
    x, y, w, h = box
    return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]


def clip_polygon(subject: Polygon, clip: Polygon) -> list[Point]:
    """Sutherland-Hodgman clipping of ``subject`` by a **convex** polygon ``clip``.

    ``subject`` may be any simple polygon (convex or not). For a concave subject
    the result can contain zero-width "bridges" along the clip boundary; they add
    no area, so :func:`polygon_area` of the result is still the exact
    intersection area.

    Args:
        subject: Polygon to clip.
        clip: Convex clipping polygon, either winding order.

    Returns:
        Vertices of the clipped polygon (empty when they do not overlap).
    """
    if len(subject) < 3 or len(clip) < 3:
        return []
    clip_pts = list(clip)
    # Make the clip polygon clockwise on screen (positive signed area) so "inside" = right side.
    if signed_polygon_area(clip_pts) < 0:
        clip_pts.reverse()
    output: list[Point] = [(float(p[0]), float(p[1])) for p in subject]
    n = len(clip_pts)
    for i in range(n):
        if not output:
            break
        a, b = clip_pts[i], clip_pts[(i + 1) % n]
        inp = output
        output = []
        prev = inp[-1]
        prev_in = cross(a, b, prev) >= 0
        for cur in inp:
            cur_in = cross(a, b, cur) >= 0
            if cur_in:
                if not prev_in:
                    output.append(_line_intersection(prev, cur, a, b))
                output.append(cur)
            elif prev_in:
                output.append(_line_intersection(prev, cur, a, b))
            prev, prev_in = cur, cur_in
    return output


def _line_intersection(p1: Point, p2: Point, a: Point, b: Point) -> Point:
    """Intersection of segment ``p1-p2`` with the infinite line ``a-b`` (they are known to cross)."""
    d1 = cross(a, b, p1)
    d2 = cross(a, b, p2)
    denom = d1 - d2
    t = 0.0 if abs(denom) <= _EPS else d1 / denom
    return (p1[0] + t * (p2[0] - p1[0]), p1[1] + t * (p2[1] - p1[1]))


def box_polygon_intersection_area(box: Box, poly: Polygon) -> float:
    """Exact area of the intersection of an axis-aligned box and a simple polygon.

    The polygon is clipped by the (convex) box with Sutherland-Hodgman, which is
    exact for any simple polygon, convex or not.

    Args:
        box: ``(x, y, w, h)``.
        poly: Polygon vertices.

    Returns:
        Intersection area (0 when disjoint or the box is empty).
    """
    if box[2] <= 0 or box[3] <= 0:
        return 0.0
    return polygon_area(clip_polygon(poly, box_to_polygon(box)))


def box_intersection_area(a: Box, b: Box) -> float:
    """Overlap area of two axis-aligned boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when both are empty)."""
    inter = box_intersection_area(a, b)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def polygon_bounds(poly: Polygon) -> Box:
    """Axis-aligned bounding box ``(x, y, w, h)`` of a polygon."""
    pts = np.asarray(poly, dtype=np.float64)
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    return (float(x0), float(y0), float(x1 - x0), float(y1 - y0))


# --------------------------------------------------------------------------- homography


def _normalising_transform(pts: np.ndarray) -> np.ndarray:
    """Hartley normalisation: centroid to origin, mean distance sqrt(2)."""
    centroid = pts.mean(axis=0)
    mean_dist = float(np.mean(np.linalg.norm(pts - centroid, axis=1)))
    if mean_dist <= _EPS:
        raise ValueError("degenerate point set: all points coincide")
    s = np.sqrt(2.0) / mean_dist
    return np.array([[s, 0.0, -s * centroid[0]], [0.0, s, -s * centroid[1]], [0.0, 0.0, 1.0]])


def homography_from_points(src: Sequence[Point], dst: Sequence[Point]) -> np.ndarray:
    """Homography mapping ``src`` points to ``dst`` points (normalised DLT).

    With exactly 4 correspondences the mapping is exact; with more it is the
    algebraic least-squares fit (smallest singular vector of the normalised DLT
    system), which is what a surveyed camera with a few extra points needs.

    Args:
        src: 4+ source points (e.g. image pixels).
        dst: The matching destination points (e.g. ground metres).

    Returns:
        3x3 matrix ``H`` with ``H[2, 2] == 1`` such that ``dst ~ H @ [x, y, 1]``.

    Raises:
        ValueError: fewer than 4 pairs, mismatched lengths, or a degenerate
            configuration (e.g. 3 of 4 points collinear).
    """
    s = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    d = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    if len(s) != len(d):
        raise ValueError(f"need as many source as destination points, got {len(s)} and {len(d)}")
    if len(s) < 4:
        raise ValueError(f"need at least 4 point pairs for a homography, got {len(s)}")
    ts, td = _normalising_transform(s), _normalising_transform(d)
    sh = (ts @ np.c_[s, np.ones(len(s))].T).T
    dh = (td @ np.c_[d, np.ones(len(d))].T).T
    rows = []
    for (x, y, _), (u, v, _) in zip(sh, dh, strict=True):
        rows.append([-x, -y, -1.0, 0.0, 0.0, 0.0, u * x, u * y, u])
        rows.append([0.0, 0.0, 0.0, -x, -y, -1.0, v * x, v * y, v])
    a = np.asarray(rows)
    _, sv, vt = np.linalg.svd(a)
    # A well-posed system has rank 8; a near-zero 8th singular value means a family of solutions.
    if sv[7] <= 1e-10 * max(sv[0], 1.0):
        raise ValueError("degenerate point configuration (are 3 of the points collinear?)")
    hn = vt[-1].reshape(3, 3)
    h = np.linalg.inv(td) @ hn @ ts
    if abs(h[2, 2]) <= _EPS:
        raise ValueError("degenerate homography (maps a source point to infinity)")
    h = h / h[2, 2]
    if abs(np.linalg.det(h)) <= 1e-12:
        raise ValueError("degenerate homography (singular matrix)")
    return h


def apply_homography(h: np.ndarray, points: Sequence[Point] | np.ndarray) -> np.ndarray:
    """Map points through a homography.

    Args:
        h: 3x3 matrix.
        points: ``(N, 2)`` points or a sequence of ``(x, y)``.

    Returns:
        ``(N, 2)`` float array of mapped points (``nan`` for points mapped to infinity).
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    hom = np.c_[pts, np.ones(len(pts))] @ np.asarray(h, dtype=np.float64).T
    w = hom[:, 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = hom[:, :2] / w
    out[np.abs(w[:, 0]) <= _EPS] = np.nan
    return out


class Homography:
    """A fitted pixel -> ground mapping with its inverse.

    Attributes:
        matrix: 3x3 pixel -> ground matrix.
        inverse: 3x3 ground -> pixel matrix.
        rms_error: Root-mean-square reprojection error of the fit in destination units
            (0 for an exact 4-point fit; a large value flags a bad survey).
    """

    def __init__(self, src: Sequence[Point], dst: Sequence[Point]) -> None:
        """Fit from point pairs.

        Args:
            src: 4+ image points (pixels).
            dst: The matching ground points (e.g. metres).

        Raises:
            ValueError: see :func:`homography_from_points`.
        """
        self.matrix = homography_from_points(src, dst)
        self.inverse = np.linalg.inv(self.matrix)
        self.inverse /= self.inverse[2, 2]
        err = apply_homography(self.matrix, src) - np.asarray(dst, dtype=np.float64).reshape(-1, 2)
        self.rms_error = float(np.sqrt(np.mean(np.sum(err**2, axis=1))))

    def to_ground(self, points: Sequence[Point] | np.ndarray) -> np.ndarray:
        """Pixels -> ground units, ``(N, 2)``."""
        return apply_homography(self.matrix, points)

    def to_image(self, points: Sequence[Point] | np.ndarray) -> np.ndarray:
        """Ground units -> pixels, ``(N, 2)``."""
        return apply_homography(self.inverse, points)

    def ground_distance(self, p: Point, q: Point) -> float:
        """Ground distance between two image points."""
        g = self.to_ground([p, q])
        return float(np.hypot(*(g[1] - g[0])))


__all__ = [
    "Homography",
    "Polygon",
    "apply_homography",
    "box_intersection_area",
    "box_iou",
    "box_polygon_intersection_area",
    "box_to_polygon",
    "clip_polygon",
    "cross",
    "homography_from_points",
    "point_in_polygon",
    "points_in_polygon",
    "polygon_area",
    "polygon_bounds",
    "segments_intersect",
    "side_of_line",
    "signed_distance_to_line",
    "signed_polygon_area",
]
