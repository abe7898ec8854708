"""The committed detector (models/vehicles.pt) loads offline and finds vehicles in a real road image."""

from __future__ import annotations

import csv
import os

import pytest

from tests.paths import REPO_ROOT, SHARED_DATA

DATA = SHARED_DATA
WEIGHTS = REPO_ROOT / "models" / "vehicles.pt"
IMAGE = "images/rf100_km39_aditganteng_00000.jpg"


def test_shipped_model_finds_vehicles_in_a_road_image() -> None:
    csv_path = DATA / "road_images" / "boxes.csv"
    if not csv_path.is_file():
        pytest.skip(f"road images not available: {csv_path}")
    if not WEIGHTS.is_file():
        pytest.skip(f"trained weights not available: {WEIGHTS} (run python -m models.train)")
    os.environ.setdefault("YOLO_OFFLINE", "1")
    cv2 = pytest.importorskip("cv2")
    from ultralytics import YOLO

    from core.types import LABELS
    from models.evaluate import score_image

    with csv_path.open(newline="", encoding="utf-8") as fh:
        gts = [
            (r["coarse_class"], float(r["x"]), float(r["y"]), float(r["w"]), float(r["h"]))
            for r in csv.DictReader(fh)
            if r["image"] == IMAGE
        ]
    assert len(gts) >= 5
    model = YOLO(str(WEIGHTS), task="detect")
    assert list(model.names.values()) == list(LABELS)  # names need no mapping at run time
    result = model.predict(cv2.imread(str(DATA / "road_images" / IMAGE)), imgsz=512, conf=0.25, verbose=False)[0]
    preds = [
        (result.names[int(c)], float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1]))
        for b, c in zip(result.boxes.xyxy.tolist(), result.boxes.cls.tolist(), strict=True)
    ]
    score = score_image(preds, gts).any_class
    assert score.recall >= 0.6, f"found {score.tp} of {len(gts)} labelled vehicles"
    assert score.precision >= 0.5, f"{score.fp} of {len(preds)} detections match no labelled vehicle"


@pytest.mark.parametrize("runtime", ["ultralytics", "openvino", "onnxruntime"])
def test_default_inference_size_is_the_models_training_size(runtime: str) -> None:
    """No configured imgsz: every runtime runs the shipped model at the size it was trained at (512)."""
    if not WEIGHTS.is_file():
        pytest.skip(f"trained weights not available: {WEIGHTS}")
    from config.settings import DetectorConfig
    from vision.detector import YoloDetector, build_detector
    from vision.shared import SharedDetector

    cfg = DetectorConfig(kind="yolo", runtime=runtime, threads=1, motion_gate=False)
    assert cfg.imgsz is None
    det = build_detector(cfg)
    assert isinstance(det, YoloDetector | SharedDetector)
    assert det.imgsz == 512
    explicit = build_detector(cfg.model_copy(update={"imgsz": 640}))
    assert isinstance(explicit, YoloDetector | SharedDetector)
    assert explicit.imgsz == 640


def _road_image_and_truth() -> tuple[object, list[tuple[str, float, float, float, float]]]:
    csv_path = DATA / "road_images" / "boxes.csv"
    if not csv_path.is_file():
        pytest.skip(f"road images not available: {csv_path}")
    if not WEIGHTS.is_file():
        pytest.skip(f"trained weights not available: {WEIGHTS}")
    cv2 = pytest.importorskip("cv2")
    with csv_path.open(newline="", encoding="utf-8") as fh:
        gts = [
            (r["coarse_class"], float(r["x"]), float(r["y"]), float(r["w"]), float(r["h"]))
            for r in csv.DictReader(fh)
            if r["image"] == IMAGE
        ]
    return cv2.imread(str(DATA / "road_images" / IMAGE)), gts


@pytest.mark.parametrize("share", [False, True])
def test_tiled_detector_from_the_config_finds_the_small_vehicles_of_a_wide_view(share: bool) -> None:
    """A 1920 px wide view made of 3 x 3 copies of a real 640 px road still (each at its own resolution).

    The whole frame at the model's 512 px shrinks every vehicle 3.75x, so most become too small
    to find; 3x3 overlapping tiles (plus the whole frame) see them at about 1.4x less than their
    own size. The tiled detector, built from the config as a worker builds it, finds far more of
    the labelled vehicles and reports each at most once.
    """
    import numpy as np

    from config.settings import DetectorConfig
    from models.evaluate import iou_matrix, score_image
    from vision.detector import build_detector, describe_detector

    image, gts = _road_image_and_truth()
    h, w = image.shape[:2]
    wide = np.tile(image, (3, 3, 1))
    gts9 = [(c, x + i * w, y + j * h, bw, bh) for j in range(3) for i in range(3) for c, x, y, bw, bh in gts]
    base = {"kind": "yolo", "runtime": "openvino", "threads": 2, "motion_gate": False, "share": share}
    whole = build_detector(DetectorConfig(**base))
    tiled = build_detector(DetectorConfig(**base, tiles=(3, 3)))
    assert "tiled 3x3 + whole frame" in describe_detector(tiled)

    def found(det: object) -> tuple[float, list[tuple[str, float, float, float, float]]]:
        preds = [(d.label, *d.box) for d in det.detect(wide)]  # type: ignore[attr-defined]
        return score_image(preds, gts9).any_class.recall, preds

    r_whole, _ = found(whole)
    r_tiled, preds = found(tiled)
    print(f"recall whole {r_whole:.3f}, tiled {r_tiled:.3f}")
    assert r_tiled >= 0.8 and r_tiled >= r_whole + 0.2, (r_whole, r_tiled)
    boxes = np.array([p[1:] for p in preds])
    ious = iou_matrix(boxes, boxes)
    np.fill_diagonal(ious, 0)
    assert float(ious.max(initial=0)) < 0.7, "one vehicle reported twice"
