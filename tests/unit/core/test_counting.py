"""LineCounter and ZoneOccupancy on hand-made tracks."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from core.counting import LineCounter, ZoneOccupancy
from core.geometry import box_polygon_intersection_area, polygon_area
from core.types import Direction, Track

F, B = Direction.FORWARD, Direction.BACKWARD

# A horizontal counting line across x = 100..300 at y = 200, drawn left to right:
# its right-hand side on screen is below it, so driving down the image is "forward".
LINE_A, LINE_B = (100.0, 200.0), (300.0, 200.0)


def track(track_id: int, x: float, y: float, label: str = "car", w: float = 40.0, h: float = 30.0) -> Track:
    """A track whose bottom-centre (the anchor the counter uses) is at (x, y)."""
    return Track(track_id=track_id, label=label, confidence=0.9, box=(x - w / 2, y - h, w, h))


def path(track_id: int, points: Sequence[tuple[float, float]], label: str = "car") -> list[list[Track]]:
    """One track following ``points``, one frame per point."""
    return [[track(track_id, x, y, label)] for x, y in points]


def run(counter: LineCounter, frames: Sequence[Sequence[Track]]) -> list[tuple[int, Direction]]:
    crossed = []
    for tracks in frames:
        crossed += [(t.track_id, d) for t, d in counter.update(tracks)]
    return crossed


def merge(*tracks_by_frame: list[list[Track]]) -> list[list[Track]]:
    """Several tracks in the same frames (padded with empty frames)."""
    n = max(len(f) for f in tracks_by_frame)
    return [[t for f in tracks_by_frame if i < len(f) for t in f[i]] for i in range(n)]


@pytest.mark.parametrize(
    ("name", "points", "forward", "backward"),
    [
        ("down across the line", [(200, 150), (200, 180), (200, 210), (200, 240)], 1, 0),
        ("up across the line", [(200, 260), (200, 230), (200, 190), (200, 150)], 0, 1),
        ("one big step across", [(150, 100), (160, 300)], 1, 0),
        ("diagonal across near the end", [(90, 180), (110, 220)], 1, 0),
        ("beside the finite line", [(350, 150), (350, 200), (350, 250)], 0, 0),
        ("jump around the end of the line", [(320, 150), (320, 250)], 0, 0),
        ("approaches and turns back", [(200, 150), (200, 195), (200, 150)], 0, 0),
        ("never reaches the line", [(200, 100), (200, 150), (200, 190)], 0, 0),
        ("starts below, stays below", [(200, 260), (200, 300)], 0, 0),
        (
            "jitter on the line after crossing",
            [(200, 150), (200, 210), (200, 199), (200, 201.5), (200, 199), (200, 240)],
            1,
            0,
        ),
        (
            "stops on the line then goes on",
            [(200, 150), (200, 199), (200, 200), (200, 201), (200, 200), (200, 260)],
            1,
            0,
        ),
        (
            "jitter back and forth across",
            [(200, 150), (200, 210), (200, 190), (200, 210), (200, 190), (200, 210)],
            1,
            1,
        ),
        ("first seen on the line", [(200, 200), (200, 260)], 0, 0),
    ],
)
def test_line_crossings(name, points, forward, backward):
    counter = LineCounter("l", LINE_A, LINE_B, hysteresis_px=2.0)
    run(counter, path(1, points))
    assert (counter.counts[F], counter.counts[B]) == (forward, backward), name


def test_a_track_counts_at_most_once_per_direction():
    counter = LineCounter("l", LINE_A, LINE_B)
    zigzag = [(200, 150 if i % 2 == 0 else 250) for i in range(10)]
    crossed = run(counter, path(7, zigzag))
    assert crossed == [(7, F), (7, B)]
    assert counter.counts == {F: 1, B: 1}


def test_min_frames_ignores_a_one_frame_blip_across_the_line():
    counter = LineCounter("l", LINE_A, LINE_B, min_frames=2)
    run(counter, path(1, [(200, 150), (200, 150), (200, 220), (200, 150), (200, 150)]))
    assert counter.total == 0
    crossed = run(counter, path(1, [(200, 150), (200, 220), (200, 240)]))
    assert crossed == [(1, F)]


@pytest.mark.parametrize(
    ("a", "b", "points", "direction"),
    [
        # vertical line drawn top to bottom: its right on screen is -x (left of the image)
        ((200, 100), (200, 300), [(150, 200), (250, 200)], B),
        ((200, 100), (200, 300), [(250, 200), (150, 200)], F),
        # the same line drawn bottom to top swaps the names
        ((200, 300), (200, 100), [(150, 200), (250, 200)], F),
    ],
)
def test_direction_follows_the_line_orientation(a, b, points, direction):
    counter = LineCounter("l", a, b)
    assert run(counter, path(1, points)) == [(1, direction)]


def test_several_tracks_and_labels():
    counter = LineCounter("l", LINE_A, LINE_B)
    frames = merge(
        path(1, [(150, 150), (150, 250)], "car"),
        path(2, [(200, 250), (200, 150)], "bus"),
        path(3, [(250, 150), (250, 180), (250, 250)], "car"),
        path(4, [(400, 150), (400, 250)], "truck"),  # beside the line
    )
    crossed = run(counter, frames)
    assert sorted(crossed) == [(1, F), (2, B), (3, F)]
    assert counter.counts == {F: 2, B: 1}
    assert counter.counts_by_label == {(F, "car"): 2, (B, "bus"): 1}


def test_update_returns_the_crossing_track_object():
    counter = LineCounter("l", LINE_A, LINE_B)
    counter.update([track(5, 200, 150, "van")])
    t = track(5, 200, 250, "van")
    assert counter.update([t]) == [(t, F)]


def test_memory_is_bounded_and_forgotten_tracks_start_afresh():
    counter = LineCounter("l", LINE_A, LINE_B, forget_after=3)
    for i in range(1000):  # many short-lived tracks
        counter.update([track(i, 200, 150)])
    assert counter.tracked <= 3
    # track 1 comes back below the line long after it was forgotten: no crossing is invented
    counter.update([])
    assert counter.update([track(1, 200, 250)]) == []
    assert counter.total == 0


def test_a_degenerate_line_is_rejected():
    with pytest.raises(ValueError, match="same point"):
        LineCounter("l", (5, 5), (5, 5))


def test_reset_clears_counts():
    counter = LineCounter("l", LINE_A, LINE_B)
    run(counter, path(1, [(200, 150), (200, 250)]))
    counter.reset()
    assert counter.total == 0 and counter.counts_by_label == {} and counter.tracked == 0


# --------------------------------------------------------------------------- zones

ZONE = [(0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0)]


def boxed(track_id: int, box: tuple[float, float, float, float], label: str = "car") -> Track:
    return Track(track_id=track_id, label=label, confidence=0.9, box=box)


@pytest.mark.parametrize(
    ("name", "tracks", "vehicles", "occupancy"),
    [
        ("empty", [], 0, 0.0),
        ("left half", [boxed(1, (0, 0, 50, 100))], 1, 0.5),
        ("two disjoint quarters", [boxed(1, (0, 0, 50, 50)), boxed(2, (50, 50, 50, 50))], 2, 0.5),
        ("overlap counted once", [boxed(1, (0, 0, 60, 50)), boxed(2, (40, 0, 60, 50))], 2, 0.5),
        ("same box twice", [boxed(1, (10, 10, 20, 20)), boxed(2, (10, 10, 20, 20))], 2, 0.04),
        ("box sticking out is clipped", [boxed(1, (70, 50, 50, 40))], 1, 0.12),
        ("anchor outside: not counted", [boxed(1, (0, 60, 50, 50))], 0, 0.0),
        ("whole zone", [boxed(1, (-10, -10, 120, 110))], 1, 1.0),
    ],
)
def test_zone_occupancy_of_known_boxes(name, tracks, vehicles, occupancy):
    zone = ZoneOccupancy("z", ZONE, max_cells=100)  # 1 px cells: grid-aligned boxes are exact
    d = zone.measure(tracks)
    assert d.zone_id == "z"
    assert (d.vehicles, d.occupancy) == (vehicles, pytest.approx(occupancy, abs=1e-9)), name


def test_zone_occupancy_raster_is_close_to_exact_area_on_a_slanted_zone():
    quad = [(100.0, 400.0), (540.0, 420.0), (400.0, 150.0), (230.0, 140.0)]  # a road lane in perspective
    zone = ZoneOccupancy("lane", quad)
    box = (250.3, 210.7, 123.4, 150.9)  # bottom-centre (312, 361.6) is inside
    exact = box_polygon_intersection_area(box, quad) / polygon_area(quad)
    d = zone.measure([boxed(1, box)])
    assert d.vehicles == 1
    assert d.occupancy == pytest.approx(exact, abs=0.01)


def test_zone_rejects_a_flat_polygon():
    with pytest.raises(ValueError, match="no area"):
        ZoneOccupancy("z", [(0, 0), (10, 0), (20, 0)])
