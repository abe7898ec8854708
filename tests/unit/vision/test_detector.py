"""MotionDetector, Tracker and CameraPipeline on a synthetic numpy scene (no media, no weights)."""

from __future__ import annotations

import numpy as np
import pytest

from config.settings import CameraConfig, DetectorConfig, LineConfig, SyntheticSource, ZoneConfig
from core.geometry import box_iou
from core.types import LABELS, Detection, Direction, Frame
from vision.annotate import annotate
from vision.detector import CLASS_MAP, DetectorError, MotionDetector, build_detector, map_class_name, merge_boxes
from vision.pipeline import CameraPipeline
from vision.tracker import Tracker

W, H = 480, 270
_rng = np.random.default_rng(42)
# A fixed "road": a vertical gradient plus fixed texture, like asphalt seen from a pole.
BACKGROUND = (
    np.clip(np.linspace(60, 140, H)[:, None, None] + _rng.normal(0, 12, size=(H, W, 1)), 0, 255)
    .repeat(3, axis=2)
    .astype(np.uint8)
)


def frame_with(boxes: list[tuple[int, int, int, int]], seed: int, noise: float = 2.0) -> np.ndarray:
    """The background with sensor noise and solid 'vehicles' at the given boxes."""
    rng = np.random.default_rng(seed)
    img = BACKGROUND.astype(np.float32) + rng.normal(0, noise, size=BACKGROUND.shape)
    for x, y, w, h in boxes:
        img[y : y + h, x : x + w] = (30, 30, 200)  # a red car body
        img[y + h // 4 : y + h // 2, x + 4 : x + w - 4] = (40, 40, 40)  # dark windscreen
    return np.clip(img, 0, 255).astype(np.uint8)


def moving_box(i: int) -> tuple[int, int, int, int]:
    """A 50x30 'car' driving right at 6 px/frame along y = 120."""
    return (20 + 6 * i, 120, 50, 30)


def test_static_scene_gives_nothing_after_warm_up():
    det = MotionDetector(min_area_px=100, warmup_frames=10)
    results = [det.detect(frame_with([], seed=i)) for i in range(40)]
    assert all(r == [] for r in results)
    assert det.frames_seen == 40


def test_warm_up_frames_report_nothing_even_with_motion():
    det = MotionDetector(min_area_px=100, warmup_frames=10)
    out = [det.detect(frame_with([moving_box(i)], seed=i)) for i in range(10)]
    assert out == [[]] * 10


def test_moving_rectangle_is_found_where_it_is():
    det = MotionDetector(min_area_px=100, warmup_frames=10)
    for i in range(20):
        det.detect(frame_with([], seed=i))
    hits = []
    for i in range(20, 45):
        truth = moving_box(i - 20)
        found = det.detect(frame_with([truth], seed=i))
        assert len(found) == 1, f"frame {i}: {found}"
        hits.append(box_iou(found[0].box, truth))
        assert found[0].label == "car"
        assert 0.3 <= found[0].confidence <= 0.95
    assert min(hits) > 0.8  # the windscreen does not split the car, the box fits it


def test_boxes_are_in_full_resolution_pixels_when_downscaled():
    big_bg = np.kron(BACKGROUND, np.ones((3, 3, 1), dtype=np.uint8))  # 1440x810, above max_width
    det = MotionDetector(min_area_px=300, warmup_frames=5)
    rng = np.random.default_rng(0)
    noisy = [np.clip(big_bg + rng.normal(0, 2, big_bg.shape), 0, 255).astype(np.uint8) for _ in range(2)]
    for i in range(8):
        det.detect(noisy[i % 2])
    img = big_bg.copy()
    truth = (600, 300, 150, 90)
    img[300:390, 600:750] = (30, 30, 200)
    found = det.detect(img)
    assert len(found) == 1
    assert box_iou(found[0].box, truth) > 0.85


def test_tiny_blobs_are_dropped():
    det = MotionDetector(min_area_px=400, warmup_frames=5)
    for i in range(15):
        det.detect(frame_with([], seed=i))
    assert det.detect(frame_with([(100, 100, 12, 12)], seed=99)) == []  # 144 px < 400
    assert len(det.detect(frame_with([(100, 100, 30, 30)], seed=100))) == 1


def test_global_change_relearns_the_background():
    det = MotionDetector(min_area_px=100, warmup_frames=5)
    for i in range(15):
        det.detect(frame_with([], seed=i))
    brighter = np.clip(frame_with([], seed=50).astype(np.int16) + 80, 0, 255).astype(np.uint8)
    assert det.detect(brighter) == []
    assert det.scene_changes == 1


def test_merge_boxes_joins_near_fragments_only():
    merged = merge_boxes([(0, 0, 10, 10), (12, 0, 10, 10), (100, 100, 5, 5)], gap=3)
    assert sorted(merged) == [(0, 0, 22, 10), (100, 100, 5, 5)]
    # a chain merges transitively
    assert merge_boxes([(0, 0, 10, 10), (11, 0, 10, 10), (22, 0, 10, 10)], gap=1) == [(0, 0, 32, 10)]


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("car", "car"),
        ("Truck", "truck"),
        ("bike", "motorcycle"),
        ("tuktuk", "rickshaw"),
        ("tuk-tuk", "rickshaw"),
        ("lorry", "truck"),
        ("van", "van"),
        ("big bus", "bus"),
        ("truck-xl-", "truck"),
        ("traffic light", None),
        ("dog", None),
    ],
)
def test_class_name_mapping(name, label):
    assert map_class_name(name) == label


def test_class_map_targets_are_our_labels_and_our_labels_map_to_themselves():
    assert set(CLASS_MAP.values()) <= set(LABELS)
    assert all(map_class_name(label) == label for label in LABELS)


def test_missing_yolo_weights_say_where_to_put_them(tmp_path):
    with pytest.raises(DetectorError, match=r"models/vehicles\.pt"):
        build_detector(DetectorConfig(kind="yolo", weights=tmp_path / "nope.pt"))


def test_build_motion_detector_uses_the_config():
    det = build_detector(DetectorConfig(kind="motion", min_area_px=321))
    assert isinstance(det, MotionDetector) and det.min_area_px == 321


# --------------------------------------------------------------------------- tracker


def test_tracker_keeps_ids_across_frames_and_votes_labels():
    tracker = Tracker(frame_rate=10)
    ids = set()
    for i in range(12):
        a = Detection("car" if i != 5 else "van", 0.9, (10 + 8 * i, 50, 40, 30))  # one odd label
        b = Detection("bus", 0.8, (400 - 8 * i, 150, 60, 40))
        tracks = tracker.update([a, b])
        if i >= 1:
            assert len(tracks) == 2
            ids.add(frozenset((t.track_id, t.label) for t in tracks))
            by_label = {t.label: t for t in tracks}
            assert by_label["car"].box == a.box  # the detection's own box is reported
    assert len(ids) == 1  # same ids and labels all along (the 'van' frame was outvoted)


def test_tracker_follows_a_fast_object_at_low_frame_rate():
    # 30 px/frame for a 40 px box: plain IoU between frames is 0.14; the buffered match keeps the id.
    tracker = Tracker(frame_rate=5)
    seen = set()
    for i in range(10):
        for t in tracker.update([Detection("car", 0.9, (10 + 30 * i, 100, 40, 30))]):
            seen.add(t.track_id)
    assert len(seen) == 1


def test_tracker_rejects_unknown_labels():
    with pytest.raises(ValueError, match="unknown label"):
        Tracker(frame_rate=5).update([Detection("spaceship", 0.9, (0, 0, 10, 10))])


# --------------------------------------------------------------------------- pipeline


def camera(**kw) -> CameraConfig:
    base = {
        "id": "cam-test",
        "name": "Test",
        "location": (34.0, 71.5),
        "segment": "seg",
        "source": SyntheticSource(),
        "detector": DetectorConfig(kind="motion", min_area_px=100),
        "lines": (LineConfig(id="mid", a=(240, 0), b=(240, 270), forward_name="west", backward_name="east"),),
        "zones": (ZoneConfig(id="road", polygon=((0, 100), (480, 100), (480, 170), (0, 170))),),
    }
    base.update(kw)
    return CameraConfig(**base)


def test_pipeline_counts_a_synthetic_car_crossing_once_with_the_frame_time():
    cam = camera()
    pipe = CameraPipeline(cam, frame_rate=10)
    results = []
    images = {}
    for i in range(20):
        results.append(pipe.process(Frame(cam.id, i, 1_000_000 + 100 * i, frame_with([], seed=i))))
    for i in range(60):
        img = frame_with([moving_box(i)] if moving_box(i)[0] + 50 < W else [], seed=100 + i)
        images[20 + i] = img
        results.append(pipe.process(Frame(cam.id, 20 + i, 1_000_000 + 100 * (20 + i), img)))
    crossings = [c for r in results for c in r.crossings]
    assert len(crossings) == 1
    c = crossings[0]
    # the line points down the image, so its right-hand side is the image's left: driving right = backward
    assert c.direction is Direction.BACKWARD and c.line_id == "mid" and c.camera_id == "cam-test"
    frame_of = {r.ts_ms: r for r in results}
    crossing_frame = frame_of[c.ts_ms]
    crossing_track = next(t for t in crossing_frame.tracks if t.track_id == c.track_id)
    assert crossing_track.box[0] + crossing_track.box[2] / 2 > 240  # its anchor is past the line then
    assert pipe.counts() == {"mid:forward": 0, "mid:backward": 1}
    assert pipe.counts_by_label() == {"car": 1}
    assert dict(results[-1].counts) == pipe.counts()
    occupied = [r.zones[0] for r in results if r.zones[0].vehicles]
    assert occupied and all(0.0 < z.occupancy <= 50 * 30 / (480 * 70) + 0.01 for z in occupied)

    # drawing leaves the frame alone and returns a same-size picture with the boxes on it
    r = crossing_frame
    original = images[r.frame_index].copy()
    drawn = annotate(images[r.frame_index], r, cam)
    assert (images[r.frame_index] == original).all()
    assert drawn.shape == original.shape and (drawn != original).any()
