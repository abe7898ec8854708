"""Synthetic camera: determinism, truth that matches the pixels and the calibration, traffic behaviour."""

from __future__ import annotations

import math
from collections import defaultdict

import cv2
import numpy as np
import pytest

from config.settings import CalibrationConfig, SyntheticRuleBreaker
from config.settings import SyntheticSource as SyntheticConfig
from core.plate_formats import is_valid_plate
from ingest.sources import FrameSource, SourceEnded
from sim.camera import (
    CameraModel,
    RoadLayout,
    camera_for,
    default_calibration,
    default_camera,
    default_geometry,
)
from sim.scene import SyntheticScene
from sim.source import SyntheticSource
from sim.truth import SceneTruth, VehicleTruth

SHADOW = (44, 44, 47)


def cfg(**kw: object) -> SyntheticConfig:
    base: dict[str, object] = {"width": 480, "height": 270, "fps": 10.0, "realtime": False, "seed": 3}
    base.update(kw)
    return SyntheticConfig(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def clean_run() -> tuple[SyntheticScene, list[tuple[np.ndarray, SceneTruth]]]:
    """A busy scene without sensor noise, first 12 frames rendered."""
    scene = SyntheticScene(cfg(noise=0.0, vehicles_per_minute=90, seed=11), None, 1_700_000_000_000)
    return scene, [scene.step() for _ in range(12)]


def _boxes_mask(shape: tuple[int, ...], vehicles: tuple[VehicleTruth, ...], pad: int) -> np.ndarray:
    mask = np.zeros(shape[:2], bool)
    for v in vehicles:
        if v.visible:
            x, y, w, h = v.box
            mask[
                max(int(y) - pad, 0) : int(math.ceil(y + h)) + pad, max(int(x) - pad, 0) : int(math.ceil(x + w)) + pad
            ] = True
    return mask


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_frames_and_truth() -> None:
    small = {"width": 320, "height": 180}
    a = SyntheticScene(cfg(seed=5, **small), None, 1000)
    b = SyntheticScene(cfg(seed=5, **small), None, 1000)
    for _ in range(3):
        ia, ta = a.step()
        ib, tb = b.step()
        assert np.array_equal(ia, ib)
        assert ta == tb
    c = SyntheticScene(cfg(seed=6, **small), None, 1000)
    ic, tc = c.step()
    assert not np.array_equal(ia, ic)
    assert [v.plate for v in tc.vehicles] != [v.plate for v in tb.vehicles]


def test_frame_index_and_timestamps(clean_run: tuple[SyntheticScene, list[tuple[np.ndarray, SceneTruth]]]) -> None:
    scene, frames = clean_run
    for k, (img, truth) in enumerate(frames):
        assert truth.frame_index == k
        assert truth.ts_ms == 1_700_000_000_000 + round(k * 100)
        assert img.shape == (270, 480, 3) and img.dtype == np.uint8


# --------------------------------------------------------------------------- truth vs pixels


def test_truth_boxes_are_inside_the_image(
    clean_run: tuple[SyntheticScene, list[tuple[np.ndarray, SceneTruth]]],
) -> None:
    _, frames = clean_run
    n_visible = 0
    for _, truth in frames:
        for v in truth.vehicles:
            x, y, w, h = v.box
            if v.visible:
                n_visible += 1
                assert x >= 0 and y >= 0 and w > 0 and h > 0
                assert x + w <= 480 + 1e-9 and y + h <= 270 + 1e-9
            else:
                assert v.box == (0.0, 0.0, 0.0, 0.0)
    assert n_visible > 50


def test_everything_drawn_is_inside_a_truth_box(
    clean_run: tuple[SyntheticScene, list[tuple[np.ndarray, SceneTruth]]],
) -> None:
    """Without noise, pixels that differ from the empty street are vehicles (inside boxes) or their shadows."""
    scene, frames = clean_run
    bg = scene.background.astype(np.int16)
    for img, truth in frames[::3]:
        changed = np.abs(img.astype(np.int16) - bg).max(axis=2) > 0
        outside = changed & ~_boxes_mask(img.shape, truth.vehicles, pad=2)
        not_shadow = np.any(img != np.array(SHADOW, np.uint8), axis=2)
        assert int((outside & not_shadow).sum()) == 0


def test_pixels_inside_truth_boxes_show_a_vehicle(
    clean_run: tuple[SyntheticScene, list[tuple[np.ndarray, SceneTruth]]],
) -> None:
    scene, frames = clean_run
    bg = scene.background.astype(np.int16)
    checked = 0
    for img, truth in frames[::3]:
        changed = np.abs(img.astype(np.int16) - bg).max(axis=2) > 12
        for v in truth.visible:
            x, y, w, h = (int(round(c)) for c in v.box)
            if w * h < 150:
                continue
            frac = changed[y : y + h, x : x + w].mean()
            assert frac > 0.35, (v.label, v.box, frac)
            checked += 1
    assert checked >= 10


def test_bottom_center_is_the_calibrated_ground_point(
    clean_run: tuple[SyntheticScene, list[tuple[np.ndarray, SceneTruth]]],
) -> None:
    """An independent homography from the calibration maps each truth bottom_center back to its ground position."""
    scene, frames = clean_run
    cal = default_calibration(scene.cfg)
    H = cv2.getPerspectiveTransform(
        np.float32(cal.ground_points_m), np.float32(cal.image_points)
    )  # ground -> image, as a speed estimator would build it
    for _, truth in frames[:3]:
        for v in truth.visible:
            g = cv2.perspectiveTransform(np.float32([[v.bottom_center]]), np.linalg.inv(H))[0, 0]
            # Calibration image points are rounded to 0.1 px: allow a few centimetres.
            assert abs(g[0] - v.ground_xy_m[0]) < 0.05 + 0.002 * abs(v.ground_xy_m[1])
            assert abs(g[1] - v.ground_xy_m[1]) < 0.05 + 0.02 * abs(v.ground_xy_m[1])
            x, y, w, h = v.box
            if v.ground_xy_m[1] > 5:  # footprint centre lies within the drawn box
                assert x - 1 <= v.bottom_center[0] <= x + w + 1
                assert y - 1 <= v.bottom_center[1] <= y + h + 1


def test_directions_follow_left_hand_traffic(
    clean_run: tuple[SyntheticScene, list[tuple[np.ndarray, SceneTruth]]],
) -> None:
    _, frames = clean_run
    first = {v.vehicle_id: v for v in frames[0][1].vehicles}
    moved = 0
    for v in frames[-1][1].vehicles:
        if v.rule is not None or v.vehicle_id not in first:
            continue
        assert (v.ground_xy_m[0] < 0) == (v.direction == "up")
        dy = v.bottom_center[1] - first[v.vehicle_id].bottom_center[1]
        if v.speed_kmh > 5 and first[v.vehicle_id].visible:
            assert (dy < 0) == (v.direction == "up")  # "up" vehicles climb the image
            moved += 1
    assert moved >= 5


def test_plates_are_pakistani_and_labels_known(
    clean_run: tuple[SyntheticScene, list[tuple[np.ndarray, SceneTruth]]],
) -> None:
    _, frames = clean_run
    vehicles = {v.vehicle_id: v for _, t in frames for v in t.vehicles}
    assert all(is_valid_plate(v.plate) for v in vehicles.values())
    assert len({v.plate for v in vehicles.values()}) >= len(vehicles) - 1
    assert {v.label for v in vehicles.values()} <= {"car", "bus", "truck", "van", "motorcycle", "rickshaw"}


def test_near_plate_text_is_drawn_large_enough_to_read() -> None:
    """A car right in front of the camera shows its plate: dark text pixels on a light plate, >= 8 px tall."""
    scene = SyntheticScene(cfg(width=960, height=540, noise=0.0, vehicles_per_minute=0, seed=1), None, 0)
    from sim.traffic import Pending as _Pending  # the test drives one car through the scene

    scene._queues[3].append(_Pending("car"))
    best = None
    for _ in range(400):
        img, truth = scene.step()
        cars = [v for v in truth.visible if v.label == "car"]
        if cars and cars[0].ground_xy_m[1] < 6:
            best = (img, cars[0])
            break
    assert best is not None
    img, car = best
    x, y, w, h = (int(c) for c in car.box)
    crop = img[y : y + h, x : x + w]
    light = np.all(crop > 200, axis=2) | (np.all(crop[:, :, 1:] > 190, axis=2) & (crop[:, :, 0] < 80))  # white/yellow
    rows = np.where(light.sum(axis=1) > 0.3 * w)[0]
    assert len(rows) >= 10, "no plate-sized light band"
    band = crop[rows.min() : rows.max() + 1]
    dark_rows = np.where((band.max(axis=2) < 90).sum(axis=1) > 2)[0]
    assert len(dark_rows) >= 8  # text glyphs of at least 8 px height


# --------------------------------------------------------------------------- motion and traffic


def test_truth_speed_is_the_ground_displacement_per_frame() -> None:
    scene = SyntheticScene(cfg(vehicles_per_minute=60, fps=5.0), None, 0)
    prev = {v.vehicle_id: v for v in scene.advance().vehicles}
    checked = 0
    for _ in range(20):
        truth = scene.advance()
        for v in truth.vehicles:
            p = prev.get(v.vehicle_id)
            if p is None:
                continue
            d = math.hypot(v.ground_xy_m[0] - p.ground_xy_m[0], v.ground_xy_m[1] - p.ground_xy_m[1])
            assert v.speed_kmh == pytest.approx(d * 5.0 * 3.6, rel=1e-6, abs=1e-6)
            checked += 1
        prev = {v.vehicle_id: v for v in truth.vehicles}
    assert checked > 100
    # Frame 0 already has speeds (the road was warmed up).
    first = SyntheticScene(cfg(vehicles_per_minute=60, fps=5.0, seed=9), None, 0).advance()
    assert sum(v.speed_kmh for v in first.vehicles) > 0


def test_free_flow_speeds_are_around_the_configured_speed() -> None:
    scene = SyntheticScene(cfg(vehicles_per_minute=20, speed_kmh=50, fps=5.0), None, 0)
    speeds = [v.speed_kmh for _ in range(100) for v in scene.advance().vehicles if v.label == "car"]
    assert len(speeds) > 100
    assert 0.8 * 50 < float(np.median(speeds)) < 1.1 * 50


def _overlapping_pairs(truth: SceneTruth) -> list[tuple[VehicleTruth, VehicleTruth]]:
    """Pairs of vehicles whose ground footprints overlap."""
    from sim.specs import SPECS

    vs = truth.vehicles
    xy = np.array([v.ground_xy_m for v in vs]).reshape(-1, 2)
    half = np.array([(SPECS[v.label].width / 2, SPECS[v.label].length / 2) for v in vs]).reshape(-1, 2)
    hit = (np.abs(xy[:, None, 0] - xy[None, :, 0]) < half[:, None, 0] + half[None, :, 0] - 1e-6) & (
        np.abs(xy[:, None, 1] - xy[None, :, 1]) < half[:, None, 1] + half[None, :, 1] - 1e-6
    )
    i, j = np.nonzero(np.triu(hit, 1))
    return [(vs[a], vs[b]) for a, b in zip(i, j, strict=True)]


def test_arrivals_match_the_rate_and_vehicles_never_overlap() -> None:
    vpm = 60.0
    scene = SyntheticScene(cfg(vehicles_per_minute=vpm, fps=4.0, seed=21), None, 0)
    seen = {v.vehicle_id for v in scene.advance().vehicles}
    first_new = max(seen) + 1
    ups = downs = 0
    for _ in range(4 * 90):  # 90 s
        truth = scene.advance()
        assert not _overlapping_pairs(truth), truth.frame_index
        for v in truth.vehicles:
            if v.vehicle_id >= first_new and v.vehicle_id not in seen:
                seen.add(v.vehicle_id)
                ups += v.direction == "up"
                downs += v.direction == "down"
    expected = vpm * 1.5  # Poisson: sd ~ 9.5
    assert abs(scene.arrivals - expected) < 4 * math.sqrt(expected), scene.arrivals
    assert ups + downs >= scene.arrivals - 10  # nearly all arrivals got onto the road
    assert min(ups, downs) > 0.3 * (ups + downs)


def test_scripted_rule_breakers_behave() -> None:
    L = 80.0
    breakers = (
        SyntheticRuleBreaker(at_s=1, kind="speeder", lane=1, speed_kmh=110),
        SyntheticRuleBreaker(at_s=2, kind="wrong_way", lane=0, plate="LEA-999"),
        SyntheticRuleBreaker(at_s=1, kind="stalled", lane=2, stop_s=10),
        SyntheticRuleBreaker(at_s=3, kind="red_light", label="rickshaw"),
    )
    scene = SyntheticScene(cfg(vehicles_per_minute=12, speed_kmh=45, fps=5.0, rule_breakers=breakers, seed=4), None, 0)
    track: dict[str, list[VehicleTruth]] = defaultdict(list)
    for _ in range(5 * 45):
        for v in scene.advance().vehicles:
            if v.rule:
                track[v.rule].append(v)
    assert set(track) == {"speeder", "wrong_way", "stalled", "red_light"}
    assert max(v.speed_kmh for v in track["speeder"]) > 95
    ww = track["wrong_way"]
    assert {v.direction for v in ww} == {"down"} and all(v.ground_xy_m[0] < 0 for v in ww)  # left half, toward camera
    assert ww[0].plate == "LEA-999"
    assert ww[-1].ground_xy_m[1] < ww[0].ground_xy_m[1] - 50
    stopped = [v for v in track["stalled"] if v.speed_kmh < 0.5]
    assert 9.0 <= len(stopped) / 5.0 <= 12.0  # ~stop_s seconds standing
    assert all(abs(v.ground_xy_m[1] - L / 3) < 3 for v in stopped)
    assert track["red_light"][0].label == "rickshaw"


def test_stalled_vehicle_makes_others_queue_or_change_lane() -> None:
    breakers = (SyntheticRuleBreaker(at_s=0, kind="stalled", lane=0, stop_s=60),)
    scene = SyntheticScene(cfg(vehicles_per_minute=50, fps=5.0, rule_breakers=breakers, seed=2), None, 0)
    lanes_x = (RoadLayout.from_config(scene.cfg).lane_center(0), RoadLayout.from_config(scene.cfg).lane_center(1))
    was_in_lane0: set[int] = set()
    changed: set[int] = set()
    queued = 0
    for _ in range(5 * 40):
        truth = scene.advance()
        stalled = next((v for v in truth.vehicles if v.rule == "stalled"), None)
        for v in truth.vehicles:
            if v.rule is not None or v.direction != "up":
                continue
            if abs(v.ground_xy_m[0] - lanes_x[0]) < 0.1:
                was_in_lane0.add(v.vehicle_id)
                if (
                    stalled is not None
                    and stalled.speed_kmh == 0
                    and 0 < stalled.ground_xy_m[1] - v.ground_xy_m[1] < 30
                    and v.speed_kmh < 3
                ):
                    queued += 1
            elif v.vehicle_id in was_in_lane0 and abs(v.ground_xy_m[0] - lanes_x[1]) < 0.1:
                changed.add(v.vehicle_id)
    assert stalled is not None and stalled.speed_kmh == 0
    assert changed, "nobody changed lane around the stalled vehicle"
    assert queued > 0, "nobody queued behind the stalled vehicle"


def test_congestion_wave_slows_and_thickens_traffic() -> None:
    scene = SyntheticScene(cfg(vehicles_per_minute=40, congestion_period_s=120, fps=2.0, seed=8), None, 0)
    speeds: dict[str, list[float]] = {"free": [], "jam": []}
    counts: dict[str, list[int]] = {"free": [], "jam": []}
    for _ in range(2 * 70):
        truth = scene.advance()
        t = scene.time_s
        phase = "free" if t < 10 else ("jam" if 55 <= t <= 70 else None)
        if phase:
            near = [v for v in truth.vehicles if 0 < v.ground_xy_m[1] < 80]
            speeds[phase] += [v.speed_kmh for v in near]
            counts[phase].append(len(near))
    assert scene.congestion(60.0) == pytest.approx(1.0)
    assert np.mean(speeds["jam"]) < 0.4 * np.mean(speeds["free"])
    assert np.mean(counts["jam"]) > 1.5 * np.mean(counts["free"])


# --------------------------------------------------------------------------- camera geometry


@pytest.mark.parametrize("lanes", [1, 2, 3, 4])
def test_default_calibration_reproduces_the_default_camera(lanes: int) -> None:
    c = cfg(width=960, height=540, lanes_per_direction=lanes)
    cam = default_camera(c)
    from_cal = camera_for(c, default_calibration(c))
    pts = np.array([[x, y, z] for x in (-8, 0, 8) for y in (2, 10, 40, 150) for z in (0, 1.5, 3.3)], float)
    assert np.abs(cam.project(pts) - from_cal.project(pts)).max() < 0.5
    # Heights go up the image; nearer is lower in the image.
    assert cam.project(np.array([[0, 20, 2.0]]))[0, 1] < cam.project(np.array([[0, 20, 0.0]]))[0, 1]
    assert cam.project(np.array([[0, 10, 0.0]]))[0, 1] > cam.project(np.array([[0, 40, 0.0]]))[0, 1]


def test_custom_calibration_drives_the_projection() -> None:
    cal = CalibrationConfig(
        image_points=((100.0, 250.0), (380.0, 250.0), (300.0, 100.0), (180.0, 100.0)),
        ground_points_m=((-7.0, 5.0), (7.0, 5.0), (7.0, 60.0), (-7.0, 60.0)),
    )
    cam = CameraModel.from_calibration(cal, 480, 270)
    got = cam.ground_to_image(np.array(cal.ground_points_m))
    assert np.abs(got - np.array(cal.image_points)).max() < 1e-6
    scene = SyntheticScene(cfg(), cal, 0)
    img, truth = scene.step()
    assert img.shape == (270, 480, 3)
    for v in truth.visible:  # bottom centres follow the given calibration
        assert np.abs(cam.ground_to_image(np.array(v.ground_xy_m)) - np.array(v.bottom_center)).max() < 1e-6


def test_bad_calibration_is_rejected() -> None:
    cal = CalibrationConfig(
        image_points=((0.0, 0.0), (1.0, 1.0), (2.0, 2.0), (3.0, 3.0)),
        ground_points_m=((0.0, 0.0), (1.0, 1.0), (2.0, 2.0), (3.0, 3.0)),
    )
    with pytest.raises(ValueError, match="homography"):
        CameraModel.from_calibration(cal, 480, 270)


def test_default_geometry_line_and_zones_cover_the_road() -> None:
    c = cfg(width=960, height=540)
    g = default_geometry(c)
    (ax, ay), (bx, by) = g.line
    assert ay == by and 0.6 * 540 < ay < 0.8 * 540 and 0 <= ax < bx <= 960
    for poly in g.zones.values():
        arr = np.array(poly)
        assert arr[:, 0].min() >= 0 and arr[:, 0].max() <= 960 and arr[:, 1].max() <= 540
    up = np.array(g.zones["up"], np.float32)
    down = np.array(g.zones["down"], np.float32)
    assert up[:, 0].mean() < 480 < down[:, 0].mean()


# --------------------------------------------------------------------------- FrameSource


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.t += s


def test_synthetic_source_paces_realtime_and_ends_after_duration() -> None:
    clock = FakeClock()
    src = SyntheticSource(
        "cam-x",
        cfg(realtime=True, fps=10.0, duration_s=1.0),
        wall_ms=lambda: 5_000 + round((clock.t - 100.0) * 1000),  # wall clock moves with the fake clock
        monotonic=clock.monotonic,
        sleep=clock.sleep,
    )
    assert isinstance(src, FrameSource)
    assert src.is_live and src.nominal_fps == 10.0
    src.open()
    frames = []
    with pytest.raises(SourceEnded):
        while True:
            frames.append(src.read())
    assert [f.index for f in frames] == list(range(10))
    # live frames carry the wall-clock capture time: frame k is released at open + k / fps
    assert [f.ts_ms for f in frames] == [5_000 + 100 * k for k in range(10)]
    assert clock.t == pytest.approx(100.0 + 0.9)  # frame k released at open + k / fps
    assert src.last_truth is not None and src.last_truth.frame_index == 9
    t3 = src.truth(3)
    assert t3 is not None and t3.frame_index == 3 and t3.ts_ms == frames[3].ts_ms
    assert src.truth(10) is None
    assert frames[0].camera_id == "cam-x"
    src.close()


def test_synthetic_source_batch_mode_does_not_sleep() -> None:
    clock = FakeClock()
    src = SyntheticSource("c", cfg(realtime=False, duration_s=0.5), monotonic=clock.monotonic, sleep=clock.sleep)
    assert not src.is_live
    src.open()
    n = 0
    with pytest.raises(SourceEnded):
        while True:
            src.read()
            n += 1
    assert n == 5 and clock.slept == []


def test_a_scripted_normal_vehicle_carries_its_plate_and_breaks_nothing() -> None:
    breakers = (SyntheticRuleBreaker(at_s=1, kind="normal", lane=1, plate="LEA-1234"),)
    scene = SyntheticScene(cfg(vehicles_per_minute=0, speed_kmh=40, fps=5.0, rule_breakers=breakers, seed=4), None, 0)
    seen = [v for _ in range(5 * 12) for v in scene.advance().vehicles if v.plate == "LEA-1234"]
    assert seen and all(v.rule is None for v in seen)
    assert {v.direction for v in seen} == {"up"}  # lane 1: the near carriageway, driving away
    assert 30 < max(v.speed_kmh for v in seen) < 55  # at the flow's speed
