"""Shared pre/post-processing of the CPU runtimes, the class table, and the motion gate (no weights needed)."""

from __future__ import annotations

import numpy as np
import pytest

from config.settings import CameraConfig, DetectorConfig, SyntheticSource
from core.types import LABELS, Frame
from vision.detector import DetectorError, MotionDetector, MotionGatedDetector, label_table
from vision.pipeline import CameraPipeline
from vision.runtimes import (
    NHWC_U8,
    PAD_VALUE,
    PRECISIONS,
    Letterbox,
    LetterboxInfo,
    decode_yolo,
    letterbox_params,
    openvino_device,
    parse_device,
)

# --------------------------------------------------------------------------- letterbox


@pytest.mark.parametrize(
    ("frame_hw", "input_hw", "resized_wh", "pad"),
    [
        ((432, 768), (384, 640), (640, 360), (0, 12)),  # 16:9, minimum rectangle
        ((360, 640), (384, 640), (640, 360), (0, 12)),
        ((1080, 1920), (384, 640), (640, 360), (0, 12)),  # downscaled by 3
        ((640, 640), (640, 640), (640, 640), (0, 0)),
        ((480, 320), (640, 448), (427, 640), (10, 0)),  # portrait: padded left/right
    ],
)
def test_letterbox_geometry_is_ultralytics_minimum_rectangle(frame_hw, input_hw, resized_wh, pad) -> None:
    assert letterbox_params(frame_hw, (640, 640), auto=True, stride=32) == (input_hw, resized_wh, pad)


def test_letterbox_fixed_input_pads_to_the_full_size() -> None:
    assert letterbox_params((432, 768), (640, 640), auto=False, stride=32) == ((640, 640), (640, 360), (0, 140))


def test_letterbox_fills_rgb_scaled_nchw_and_keeps_the_padding_across_calls() -> None:
    lb = Letterbox(640)
    frame = np.empty((432, 768, 3), np.uint8)
    frame[:] = (10, 20, 30)  # BGR
    batch, infos = lb([frame])
    assert batch.shape == (1, 3, 384, 640) and batch.dtype == np.float32
    assert infos == [LetterboxInfo((432, 768), 640 / 768, 360 / 432, 0, 12)]
    assert np.allclose(batch[0, :, 200, 300], np.array([30, 20, 10]) / 255.0)  # RGB order
    assert np.allclose(batch[0, :, :12, :], PAD_VALUE / 255.0)
    assert np.allclose(batch[0, :, 372:, :], PAD_VALUE / 255.0)
    first = batch
    frame[:] = 255
    batch, _ = lb([frame])
    assert batch is first or np.shares_memory(batch, first)  # the buffer is reused
    assert np.allclose(batch[0, :, 200, 300], 1.0)
    assert np.allclose(batch[0, :, :12, :], PAD_VALUE / 255.0)


def test_letterbox_uint8_layout_keeps_bgr_pixels_for_the_runtime_to_convert() -> None:
    lb = Letterbox(640, layout=NHWC_U8)
    frame = np.empty((432, 768, 3), np.uint8)
    frame[:] = (10, 20, 30)  # BGR
    batch, infos = lb([frame])
    assert batch.shape == (1, 384, 640, 3) and batch.dtype == np.uint8
    assert Letterbox.input_hw(batch) == (384, 640)
    assert infos == [LetterboxInfo((432, 768), 640 / 768, 360 / 432, 0, 12)]
    assert batch[0, 200, 300].tolist() == [10, 20, 30]  # BGR kept, not scaled
    assert (batch[0, :12] == PAD_VALUE).all() and (batch[0, 372:] == PAD_VALUE).all()
    # the same pixels, converted as the float layout does, give the float layout's batch
    as_float, _ = Letterbox(640)([frame])
    assert np.allclose(batch[..., ::-1].transpose(0, 3, 1, 2) / 255.0, as_float)


def test_letterbox_rejects_an_unknown_layout() -> None:
    with pytest.raises(ValueError, match="layout"):
        Letterbox(640, layout="nchw_u16")


def test_letterbox_batch_of_mixed_shapes_shares_one_input() -> None:
    lb = Letterbox(640)
    a = np.zeros((432, 768, 3), np.uint8)
    b = np.zeros((640, 640, 3), np.uint8)
    batch, infos = lb([a, b])
    assert batch.shape == (2, 3, 640, 640)
    assert infos[0].pad_y == 140 and infos[1].pad_y == 0


def test_fixed_input_model_gets_its_own_size() -> None:
    lb = Letterbox(640, fixed_hw=(512, 512))
    batch, infos = lb([np.zeros((360, 640, 3), np.uint8)])
    assert batch.shape == (1, 3, 512, 512)
    assert infos[0].gain_x == pytest.approx(512 / 640)


# --------------------------------------------------------------------------- decoding


def head_output(rows: list[tuple[float, float, float, float, int, float]], nc: int = 3) -> np.ndarray:
    """A YOLOv8/11 head output (1, 4 + nc, anchors) with one anchor per (cx, cy, w, h, class, score)."""
    out = np.zeros((1, 4 + nc, len(rows)), np.float32)
    for i, (cx, cy, w, h, cls, score) in enumerate(rows):
        out[0, :4, i] = (cx, cy, w, h)
        out[0, 4 + cls, i] = score
    return out


def test_decode_applies_confidence_class_aware_nms_and_maps_back_to_the_frame() -> None:
    out = head_output(
        [
            (100, 100, 50, 50, 0, 0.9),
            (102, 101, 50, 50, 0, 0.8),  # same class, overlapping: suppressed
            (102, 101, 50, 50, 1, 0.7),  # other class: kept (class-aware NMS)
            (300, 300, 40, 40, 2, 0.2),  # below the confidence threshold
            (630, 20, 40, 40, 1, 0.6),  # reaches past the input edge: clipped to the frame
        ]
    )
    info = LetterboxInfo(frame_hw=(1256, 1280), gain_x=0.5, gain_y=0.5, pad_x=0, pad_y=12)
    (det,) = decode_yolo(out, [info], num_classes=3, conf=0.25, iou=0.5)
    assert det.classes.tolist() == [0, 1, 1]
    assert det.scores.tolist() == pytest.approx([0.9, 0.7, 0.6])
    assert det.xyxy[0].tolist() == pytest.approx([150.0, 126.0, 250.0, 226.0])  # (75 - 0) / 0.5, (75 - 12) / 0.5
    assert det.xyxy[2].tolist() == pytest.approx([1220.0, 0.0, 1280.0, 56.0])


@pytest.mark.parametrize(
    ("rows", "agnostic", "kept"),
    [
        # one vehicle scored car (0.8) by one anchor and truck (0.6) by the next: one box when agnostic
        ([(100, 100, 80, 60, 0, 0.8), (103, 101, 80, 62, 2, 0.6)], True, [(0, 0.8)]),
        ([(100, 100, 80, 60, 0, 0.8), (103, 101, 80, 62, 2, 0.6)], False, [(0, 0.8), (2, 0.6)]),
        # the better-scored class wins whichever it is
        ([(100, 100, 80, 60, 0, 0.5), (103, 101, 80, 62, 1, 0.7)], True, [(1, 0.7)]),
        # two vehicles side by side (IoU < 0.5) stay two, whatever their classes
        ([(100, 100, 80, 60, 0, 0.8), (170, 100, 80, 60, 2, 0.6)], True, [(0, 0.8), (2, 0.6)]),
    ],
)
def test_agnostic_nms_keeps_one_box_per_vehicle(rows, agnostic, kept) -> None:
    info = LetterboxInfo((640, 640), 1.0, 1.0, 0, 0)
    (det,) = decode_yolo(head_output(rows), [info], num_classes=3, conf=0.25, iou=0.5, agnostic=agnostic)
    assert list(zip(det.classes.tolist(), det.scores.tolist(), strict=True)) == [
        (c, pytest.approx(sc)) for c, sc in kept
    ]


def test_agnostic_nms_keeps_a_rider_apart_from_the_motorcycle() -> None:
    rows = [(100, 100, 40, 80, 0, 0.8), (100, 95, 36, 80, 2, 0.7)]  # class 0 = motorcycle, class 2 = person
    info = LetterboxInfo((640, 640), 1.0, 1.0, 0, 0)
    groups = np.array([0, 0, 1])
    (det,) = decode_yolo(head_output(rows), [info], num_classes=3, conf=0.25, iou=0.5, agnostic=True, groups=groups)
    assert det.classes.tolist() == [0, 2]
    (det,) = decode_yolo(head_output(rows), [info], num_classes=3, conf=0.25, iou=0.5, agnostic=True)
    assert det.classes.tolist() == [0]


@pytest.mark.parametrize(
    ("text", "parsed", "openvino"),
    [
        ("cpu", ("cpu", None), "CPU"),
        ("CUDA", ("gpu", None), "GPU"),
        ("gpu", ("gpu", None), "GPU"),
        ("cuda:1", ("gpu", 1), "GPU.1"),
        ("GPU.0", ("gpu", 0), "GPU.0"),
    ],
)
def test_device_names(text: str, parsed: tuple[str, int | None], openvino: str) -> None:
    assert parse_device(text) == parsed
    assert openvino_device(text) == openvino


@pytest.mark.parametrize("text", ["tpu", "cuda:", "cuda:x", "gpu1", ""])
def test_device_names_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="unknown device"):
        parse_device(text)
    with pytest.raises(ValueError, match="unknown device"):
        DetectorConfig(kind="yolo", device=text)


def test_detector_config_device_and_tiles() -> None:
    cfg = DetectorConfig(kind="yolo", device="CUDA:0", tiles=(3, 2))
    assert (cfg.device, cfg.tiles, cfg.tile_full_frame) == ("cuda:0", (3, 2), True)
    assert DetectorConfig(kind="yolo").device == "cpu" and DetectorConfig(kind="yolo").tiles is None
    with pytest.raises(ValueError, match="tiles"):
        DetectorConfig(kind="yolo", tiles=(0, 2))


def test_workers_suppress_across_classes_by_default() -> None:
    assert DetectorConfig(kind="yolo").agnostic_nms is True


def test_decode_keeps_only_wanted_classes_and_ignores_extra_rows() -> None:
    out = head_output([(100, 100, 50, 50, 0, 0.9), (300, 300, 50, 50, 2, 0.8)])
    out = np.concatenate([out, np.full((1, 32, 2), 5.0, np.float32)], axis=1)  # mask coefficients of a seg head
    info = LetterboxInfo((640, 640), 1.0, 1.0, 0, 0)
    (det,) = decode_yolo(out, [info], num_classes=3, conf=0.25, iou=0.5, classes=np.array([2]))
    assert det.classes.tolist() == [2]


def test_decode_rejects_an_unknown_head() -> None:
    info = LetterboxInfo((640, 640), 1, 1, 0, 0)
    with pytest.raises(ValueError, match="unexpected model output shape"):  # an end-to-end (NMS-free) head
        decode_yolo(np.zeros((1, 300, 6), np.float32), [info], 3, 0.25, 0.5, input_hw=(640, 640))
    with pytest.raises(ValueError, match="unexpected model output shape"):  # fewer rows than classes
        decode_yolo(np.zeros((1, 6, 8400), np.float32), [info], 3, 0.25, 0.5)
    assert (
        decode_yolo(np.zeros((1, 7, 8400), np.float32), [info], 3, 0.25, 0.5, input_hw=(640, 640))[0].scores.size == 0
    )


# --------------------------------------------------------------------------- class table


def test_label_table_maps_model_names_through_the_one_table() -> None:
    names = {0: "Car", 1: "truck-xl-", 2: "traffic light", 3: "tuk_tuk", 4: "motorbike"}
    assert label_table(names, "m") == {0: "car", 1: "truck", 3: "rickshaw", 4: "motorcycle"}
    assert label_table(dict(enumerate(LABELS)), "m") == dict(enumerate(LABELS))


def test_label_table_refuses_a_model_without_any_road_class() -> None:
    with pytest.raises(DetectorError, match="CLASS_MAP"):
        label_table({0: "cat", 1: "dog"}, "pets.onnx")


# --------------------------------------------------------------------------- motion gate

W, H = 320, 180
_rng = np.random.default_rng(7)
BACKGROUND = np.clip(np.linspace(60, 140, H)[:, None, None] + _rng.normal(0, 10, (H, W, 1)), 0, 255).repeat(3, 2)


def scene(i: int, car_x: int | None) -> np.ndarray:
    """The road with sensor noise and, when ``car_x`` is given, a 40x24 'car' at (car_x, 80)."""
    img = BACKGROUND + np.random.default_rng(i).normal(0, 2.0, BACKGROUND.shape)
    if car_x is not None:
        img[80:104, car_x : car_x + 40] = (30, 30, 200)
    return np.clip(img, 0, 255).astype(np.uint8)


def gate(refresh: int = 10, gate_learning_rate: float = 0.01) -> MotionGatedDetector:
    return MotionGatedDetector(
        MotionDetector(min_area_px=80, warmup_frames=10),
        MotionDetector(min_area_px=80, warmup_frames=10, learning_rate=gate_learning_rate),
        refresh_frames=refresh,
    )


def test_gate_skips_static_frames_after_learning_the_background() -> None:
    g = gate(refresh=10)
    ran = []
    for i in range(60):
        g.detect(scene(i, None))
        ran.append(g.last_ran)
    assert all(ran[:10])  # the gate is still learning: the detector must look
    assert sum(ran[10:]) == 5  # then only the periodic refresh (every 10th frame)
    assert g.runs == 15 and g.frames == 60
    assert g.run_fraction == pytest.approx(0.25)


def test_gate_runs_on_every_moving_frame_and_once_after_the_motion_stops() -> None:
    g = gate(refresh=1000)
    for i in range(15):
        g.detect(scene(i, None))
    runs_before = g.runs
    ran = []
    for i in range(15, 35):  # the car drives through
        g.detect(scene(i, 20 + 12 * (i - 15)))
        ran.append(g.last_ran)
    assert all(ran[1:])
    ran = []
    for i in range(35, 60):  # gone again
        g.detect(scene(i, None))
        ran.append(g.last_ran)
    assert ran[0] and not any(ran[3:])  # the frame after the departure is checked, then nothing
    assert g.runs - runs_before <= 20 + 3


def test_gate_returns_the_last_detections_on_skipped_frames() -> None:
    g = gate(refresh=1000)
    for i in range(12):
        g.detect(scene(i, None))
    moving = []
    for i in range(12, 20):
        moving = g.detect(scene(i, 40 + 8 * (i - 12)))
    assert moving and g.last_ran
    carried = None
    for i in range(20, 40):
        out = g.detect(scene(i, None))
        if not g.last_ran:
            carried = out
            break
    assert carried is not None  # the gate did skip a frame
    assert carried == g._last


def test_pipeline_carries_tracks_over_gated_frames() -> None:
    """A car drives in and stops: once the gate sees no motion, the pipeline keeps the car's track as it was."""
    cam = CameraConfig(
        id="gate-test",
        name="Gate test",
        segment="s",
        location=(34.0, 71.5),
        source=SyntheticSource(),
        detector=DetectorConfig(kind="motion"),
        analysis_fps=5,
    )
    # The gate forgets a stopped car within a few frames (fast background learning); the detector
    # behind it (a slower motion detector here) still sees it, like a real model would.
    g = gate(refresh=1000, gate_learning_rate=0.05)
    pipe = CameraPipeline(cam, detector=g, frame_rate=5)
    results = []
    for i in range(45):
        x = None if i < 12 else min(20 + 10 * (i - 12), 200)  # drives in, stops at x = 200 from frame 30
        results.append(pipe.process(Frame(camera_id=cam.id, index=i, ts_ms=i * 200, image=scene(i, x))))
    assert not any(r.detector_ran for r in results[10:12])  # empty road after the warm-up: skipped
    assert all(r.detector_ran for r in results[13:30])  # the car is moving
    first = next((i for i, r in enumerate(results) if i >= 30 and not r.detector_ran), None)
    assert first is not None, "the gate never closed after the car stopped"
    before = results[first - 1]
    assert before.tracks, "the stopped car should be tracked when the gate closes"
    for r in results[first:]:
        if r.detector_ran:
            break
        assert r.tracks == before.tracks  # carried, not lost
    tracker_frames = pipe.tracker.frames
    assert tracker_frames == sum(r.detector_ran for r in results)  # the tracker only saw detector frames


@pytest.mark.parametrize(
    ("quantization", "error"),
    [
        (None, None),
        ({"source_sha256": "1f45231849ab52b2", "calibration_images": 300}, None),
        ({"calibration_images": 300}, "source_sha256"),
        ("int8", "must be a mapping"),
    ],
)
def test_model_metadata_says_whether_it_is_int8(tmp_path, quantization, error) -> None:
    import yaml

    from vision.runtimes import read_model_info

    (tmp_path / "m.xml").write_text("<net/>")
    meta = {"names": {0: "car", 1: "bus"}, "stride": 32, "imgsz": [512, 512]}
    if quantization is not None:
        meta["quantization"] = quantization
    (tmp_path / "metadata.yaml").write_text(yaml.safe_dump(meta))
    if error:
        with pytest.raises(ValueError, match=error):
            read_model_info(tmp_path)
        return
    info = read_model_info(tmp_path)
    assert info.is_int8 == (quantization is not None) and info.imgsz == (512, 512) and info.names[1] == "bus"


def test_calibration_images_come_from_every_train_split_in_proportion(tmp_path) -> None:
    from models.dataset import SOURCES
    from models.quantize import QuantizeError, calibration_images

    with pytest.raises(QuantizeError, match="no training images"):
        calibration_images(tmp_path, 10, sources=SOURCES)
    sizes = dict(zip(SOURCES, (60, 30, 10), strict=True))
    for source, n in sizes.items():
        for split in ("train", "val"):
            folder = tmp_path / source / "images" / split
            folder.mkdir(parents=True)
            for i in range(n):
                (folder / f"{i:04d}.jpg").write_bytes(b"")
        (tmp_path / source / "images" / "train" / "notes.txt").write_text("not an image")
    picked = calibration_images(tmp_path, 20, sources=SOURCES)
    per_set = {s: [p for p in picked if p.parents[2].name == s] for s in SOURCES}
    assert {s: len(v) for s, v in per_set.items()} == {SOURCES[0]: 12, SOURCES[1]: 6, SOURCES[2]: 2}
    assert all(p.parent.name == "train" and p.suffix == ".jpg" for p in picked)  # never val, never other files
    first = per_set[SOURCES[0]]
    assert first[0].name == "0000.jpg" and first[-1].name == "0059.jpg"  # spread over the whole clip


@pytest.mark.parametrize("precision", PRECISIONS)
def test_detector_config_takes_each_precision(precision) -> None:
    assert DetectorConfig(kind="yolo", precision=precision).precision == precision


def test_detector_config_rejects_an_unknown_precision() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="precision"):
        DetectorConfig(kind="yolo", precision="fp8")


def test_site_footage_calibration_takes_images_folders_and_videos(tmp_path) -> None:
    import cv2

    from models.quantize import QuantizeError, media_files, video_frames

    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(10):
        (folder / f"{i:02d}.jpg").write_bytes(b"")
    (folder / "readme.txt").write_text("not media")
    clip = tmp_path / "cam1.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(40):
        writer.write(np.full((48, 64, 3), i * 6, np.uint8))  # frame i is grey level i * 6
    writer.release()
    files = media_files([folder, clip], count=5)
    assert [f.name for f in files] == ["00.jpg", "02.jpg", "04.jpg", "06.jpg", "08.jpg", "cam1.avi"]
    frames = video_frames(clip, 4)
    assert [round(float(f.mean()) / 6) for f in frames] == [0, 10, 20, 30]  # spread over the clip
    assert len(video_frames(clip, 100)) == 40  # a short clip gives what it has
    with pytest.raises(QuantizeError, match="not found"):
        media_files([tmp_path / "nowhere"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(QuantizeError, match="no images or videos"):
        media_files([tmp_path / "empty"])
