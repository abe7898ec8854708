"""Pure geometry: polygons, clipping, lines, segments, homography."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.geometry import (
    Homography,
    apply_homography,
    box_intersection_area,
    box_iou,
    box_polygon_intersection_area,
    clip_polygon,
    homography_from_points,
    point_in_polygon,
    points_in_polygon,
    polygon_area,
    segments_intersect,
    side_of_line,
    signed_polygon_area,
)

SQUARE = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]
# An "L": the 10x10 square without its top-right 5x5 quarter (area 75), concave.
L_SHAPE = [(0.0, 0.0), (5.0, 0.0), (5.0, 5.0), (10.0, 5.0), (10.0, 10.0), (0.0, 10.0)]
TRIANGLE = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)]


@pytest.mark.parametrize(
    ("point", "poly", "inside"),
    [
        ((5, 5), SQUARE, True),
        ((11, 5), SQUARE, False),
        ((-0.1, 5), SQUARE, False),
        ((0, 5), SQUARE, True),  # on an edge
        ((10, 10), SQUARE, True),  # on a vertex
        ((7.5, 2.5), L_SHAPE, False),  # in the notch of the L
        ((2.5, 7.5), L_SHAPE, True),
        ((7.5, 7.5), L_SHAPE, True),
        ((4, 4), TRIANGLE, True),
        ((6, 6), TRIANGLE, False),
        ((5, 5), TRIANGLE, True),  # on the hypotenuse
    ],
)
def test_point_in_polygon(point, poly, inside):
    assert point_in_polygon(point, poly) is inside


def test_points_in_polygon_matches_scalar_version():
    rng = np.random.default_rng(0)
    pts = rng.uniform(-2, 12, size=(500, 2)) + 0.0123  # off the integer grid, so never on the boundary
    got = points_in_polygon(pts, L_SHAPE)
    want = np.array([point_in_polygon(tuple(p), L_SHAPE) for p in pts])
    assert (got == want).all()
    assert 0 < got.sum() < len(pts)


@pytest.mark.parametrize(
    ("poly", "area"),
    [
        (SQUARE, 100.0),
        (list(reversed(SQUARE)), 100.0),
        (L_SHAPE, 75.0),
        (TRIANGLE, 50.0),
        ([(0, 0), (1, 1)], 0.0),
    ],
)
def test_polygon_area(poly, area):
    assert polygon_area(poly) == pytest.approx(area)


def test_signed_area_is_positive_clockwise_on_screen():
    # top-left, top-right, bottom-right, bottom-left: clockwise as seen with y down
    assert signed_polygon_area(SQUARE) > 0
    assert signed_polygon_area(list(reversed(SQUARE))) < 0


@pytest.mark.parametrize(
    ("box", "poly", "area"),
    [
        ((2, 2, 3, 3), SQUARE, 9.0),  # box inside
        ((-5, -5, 10, 10), SQUARE, 25.0),  # corner overlap
        ((20, 20, 5, 5), SQUARE, 0.0),  # disjoint
        ((-1, -1, 12, 12), SQUARE, 100.0),  # polygon inside box
        ((5, 0, 5, 5), L_SHAPE, 0.0),  # exactly the notch
        ((0, 0, 10, 10), L_SHAPE, 75.0),
        ((2.5, 2.5, 5, 5), L_SHAPE, 18.75),  # 25 minus the 2.5x2.5 in the notch
        ((0, 0, 5, 5), TRIANGLE, 25.0),  # under the hypotenuse entirely
        ((5, 0, 5, 5), TRIANGLE, 12.5),  # half of it above x + y = 10
        ((0, 0, 0, 5), SQUARE, 0.0),  # empty box
    ],
)
def test_box_polygon_intersection_area(box, poly, area):
    assert box_polygon_intersection_area(box, poly) == pytest.approx(area)


def test_intersection_area_agrees_with_dense_sampling_for_a_concave_polygon():
    star = [
        (
            50 + (40 if i % 2 == 0 else 15) * math.cos(i * math.pi / 5),
            50 + (40 if i % 2 == 0 else 15) * math.sin(i * math.pi / 5),
        )
        for i in range(10)
    ]
    box = (30.0, 20.0, 45.0, 25.0)
    xs = np.arange(box[0], box[0] + box[2], 0.05) + 0.025
    ys = np.arange(box[1], box[1] + box[3], 0.05) + 0.025
    gx, gy = np.meshgrid(xs, ys)
    sampled = points_in_polygon(np.c_[gx.ravel(), gy.ravel()], star).sum() * 0.05 * 0.05
    assert box_polygon_intersection_area(box, star) == pytest.approx(sampled, rel=0.01)


def test_clip_polygon_of_disjoint_shapes_is_empty():
    assert clip_polygon(SQUARE, [(20, 20), (30, 20), (30, 30)]) == []


@pytest.mark.parametrize(
    ("a", "b", "area", "iou"),
    [
        ((0, 0, 10, 10), (5, 5, 10, 10), 25.0, 25 / 175),
        ((0, 0, 10, 10), (0, 0, 10, 10), 100.0, 1.0),
        ((0, 0, 10, 10), (10, 0, 10, 10), 0.0, 0.0),  # touching edges
    ],
)
def test_box_intersection_and_iou(a, b, area, iou):
    assert box_intersection_area(a, b) == pytest.approx(area)
    assert box_iou(a, b) == pytest.approx(iou)


@pytest.mark.parametrize(
    ("p", "tolerance", "side"),
    [
        ((5, 5), 0.0, 1),  # below a rightward line: its right-hand side on screen
        ((5, -5), 0.0, -1),
        ((5, 0), 0.0, 0),
        ((5, 0.5), 1.0, 0),  # within the tolerance
        ((50, 0.5), 0.0, 1),  # beyond the segment's end: the line is infinite here
    ],
)
def test_side_of_line(p, tolerance, side):
    assert side_of_line(p, (0, 0), (10, 0), tolerance) == side


def test_side_of_a_degenerate_line_raises():
    with pytest.raises(ValueError, match="degenerate"):
        side_of_line((1, 1), (2, 2), (2, 2))


@pytest.mark.parametrize(
    ("p1", "p2", "q1", "q2", "hit"),
    [
        ((0, -1), (0, 1), (-1, 0), (1, 0), True),  # proper crossing
        ((5, -1), (5, 1), (-1, 0), (1, 0), False),  # crosses the infinite line beyond the segment
        ((0, 0), (0, 1), (-1, 0), (1, 0), True),  # endpoint touches
        ((0, 1), (2, 1), (0, 0), (2, 0), False),  # parallel
        ((0, 0), (2, 0), (1, 0), (3, 0), True),  # collinear overlap
        ((0, 0), (1, 0), (2, 0), (3, 0), False),  # collinear, apart
    ],
)
def test_segments_intersect(p1, p2, q1, q2, hit):
    assert segments_intersect(p1, p2, q1, q2) is hit
    assert segments_intersect(q1, q2, p1, p2) is hit


KNOWN_H = np.array([[0.05, 0.01, -3.0], [0.002, 0.12, -8.0], [0.0001, 0.002, 1.0]])


def test_homography_from_four_points_is_exact():
    src = [(100, 400), (540, 400), (420, 120), (220, 120)]
    dst = apply_homography(KNOWN_H, src)
    h = homography_from_points(src, dst)
    assert h == pytest.approx(KNOWN_H, rel=1e-6, abs=1e-9)
    assert apply_homography(h, [(320, 260)]) == pytest.approx(apply_homography(KNOWN_H, [(320, 260)]))


def test_homography_least_squares_with_noisy_extra_points():
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 640, size=(12, 2))
    dst = apply_homography(KNOWN_H, src) + rng.normal(0, 0.01, size=(12, 2))
    hom = Homography(src, dst)
    assert 0 < hom.rms_error < 0.05
    probe = np.array([[300.0, 300.0], [50.0, 600.0]])
    assert hom.to_ground(probe) == pytest.approx(apply_homography(KNOWN_H, probe), abs=0.05)
    assert hom.to_image(hom.to_ground(probe)) == pytest.approx(probe, abs=1e-6)


def test_homography_ground_distance_of_a_scaled_plane():
    # image pixels = 10 x metres, no perspective
    src = [(0, 0), (100, 0), (100, 200), (0, 200)]
    dst = [(0, 0), (10, 0), (10, 20), (0, 20)]
    assert Homography(src, dst).ground_distance((0, 0), (30, 40)) == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("src", "dst", "match"),
    [
        ([(0, 0), (1, 0), (0, 1)], [(0, 0), (1, 0), (0, 1)], "at least 4"),
        ([(0, 0), (1, 0), (2, 0), (3, 0)], [(0, 0), (1, 0), (0, 1), (1, 1)], "degenerate"),
        ([(0, 0), (1, 0), (0, 1), (1, 1)], [(0, 0), (1, 0), (0, 1)], "as many"),
    ],
)
def test_homography_rejects_bad_input(src, dst, match):
    with pytest.raises(ValueError, match=match):
        homography_from_points(src, dst)
