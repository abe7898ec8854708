"""Does the detector see the synthetic cameras' vehicles? Recall/precision against the renderer's truth.

The demo city's cameras are synthetic (:mod:`sim`): a rendered road with its ground
truth (every vehicle's class and pixel box). With ``detector: {kind: yolo}`` the demo is an
end-to-end check of the real vision path only if the shipped model finds what the renderer
draws. This benchmark renders each synthetic camera of a config, runs the camera's YOLO
detector (the shipped model unless the camera names weights; no motion gate, so every frame
is scored) and matches detections to the truth boxes (IoU >= 0.5, greedy one-to-one, as
``models.evaluate``).

Scored truth: vehicles in view whose box is at least ``--min-px`` pixels wide and high, not
cut by the image edge (a sliver entering the frame is not a fair miss), and not hidden behind
nearer vehicles: at most ``--max-occluded`` of the box is covered by the boxes of vehicles
nearer to the camera (drawn over it; box overlap, a conservative proxy for the pixels hidden).
Detections that match an unscored truth box are neither true nor false positives.

Prints a table and one JSON line per camera, then a total line::

    python -m bench.synthetic --seconds 60
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from config.settings import CameraConfig, DetectorConfig, load_config
from config.settings import SyntheticSource as SyntheticConfig
from core.types import Detection
from models.evaluate import greedy_pairs, iou_matrix
from sim.scene import SceneTruth, SyntheticScene, VehicleTruth
from vision.detector import build_detector


def _xywh(boxes: Sequence[tuple[float, float, float, float]]) -> np.ndarray:
    return np.array(boxes, dtype=np.float64).reshape(-1, 4)


def occlusion(v: VehicleTruth, others: Sequence[VehicleTruth], grid: int = 16) -> float:
    """Fraction of ``v``'s box covered by the boxes of vehicles nearer the camera (lower in the image)."""
    x, y, w, h = v.box
    if w <= 0 or h <= 0:
        return 1.0
    xs = x + (np.arange(grid) + 0.5) * w / grid
    ys = y + (np.arange(grid) + 0.5) * h / grid
    covered = np.zeros((grid, grid), bool)
    for o in others:
        if o is v or not o.visible or o.bottom_center[1] <= v.bottom_center[1]:
            continue
        ox, oy, ow, oh = o.box
        covered |= ((ys >= oy) & (ys <= oy + oh))[:, None] & ((xs >= ox) & (xs <= ox + ow))[None, :]
    return float(covered.mean())


def scored(
    v: VehicleTruth,
    hw: tuple[int, int],
    min_px: float,
    others: Sequence[VehicleTruth] = (),
    max_occluded: float = 1.0,
) -> bool:
    """A truth box counts when big enough, fully inside the image and not mostly hidden by nearer vehicles."""
    x, y, w, h = v.box
    fh, fw = hw
    inside = x > 1 and y > 1 and x + w < fw - 1 and y + h < fh - 1
    if not (v.visible and w >= min_px and h >= min_px and inside):
        return False
    return max_occluded >= 1.0 or occlusion(v, others) <= max_occluded


def score_frame(
    dets: Sequence[Detection], truth: SceneTruth, hw: tuple[int, int], min_px: float, max_occluded: float = 1.0
) -> Counter[str]:
    """TP/FP/FN counts of one frame, any class and per class (``<label>:tp`` ...)."""
    out: Counter[str] = Counter()
    visible = [v for v in truth.vehicles if v.visible]
    keep = [v for v in visible if scored(v, hw, min_px, visible, max_occluded)]
    pb = _xywh([d.box for d in dets])
    pairs = greedy_pairs(pb, _xywh([v.box for v in keep]))
    matched_p = {p for p, _ in pairs}
    matched_g = {g for _, g in pairs}
    # a detection on an unscored (small / cut) vehicle is not a false positive
    others = [v for v in visible if not scored(v, hw, min_px, visible, max_occluded)]
    ious = iou_matrix(pb, _xywh([v.box for v in others]))
    for i, d in enumerate(dets):
        if i in matched_p:
            continue
        if ious.shape[1] and float(ious[i].max()) >= 0.5:
            continue
        out["fp"] += 1
        out[f"{d.label}:fp"] += 1
    for g, v in enumerate(keep):
        hit = g in matched_g
        out["tp" if hit else "fn"] += 1
        out[f"{v.label}:{'tp' if hit else 'fn'}"] += 1
    for p, g in pairs:
        if dets[p].label == keep[g].label:
            out["label_ok"] += 1
    return out


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def summary(name: str, c: Counter[str], frames: int) -> dict[str, object]:
    """Recall, precision and label accuracy from counts."""
    labels = sorted({k.split(":")[0] for k in c if ":" in k})
    return {
        "camera": name,
        "frames": frames,
        "truth_boxes": c["tp"] + c["fn"],
        "recall": _ratio(c["tp"], c["tp"] + c["fn"]),
        "precision": _ratio(c["tp"], c["tp"] + c["fp"]),
        "label_accuracy": _ratio(c["label_ok"], c["tp"]),
        "per_class_recall": {
            lab: _ratio(c[f"{lab}:tp"], c[f"{lab}:tp"] + c[f"{lab}:fn"])
            for lab in labels
            if c[f"{lab}:tp"] + c[f"{lab}:fn"]
        },
    }


def bench_camera(
    cam: CameraConfig, seconds: float, min_px: float, det_cfg: DetectorConfig, max_occluded: float = 1.0
) -> tuple[Counter[str], int]:
    """Render ``seconds`` of one synthetic camera at its analysis rate and score the detector on every frame."""
    assert isinstance(cam.source, SyntheticConfig)
    src = cam.source.model_copy(update={"realtime": False, "fps": cam.analysis_fps})
    scene = SyntheticScene(src, cam.calibration, 0)
    det = build_detector(det_cfg)
    n = max(1, int(round(seconds * cam.analysis_fps)))
    total: Counter[str] = Counter()
    for k in range(n):
        image, truth = scene.step()
        total += score_frame(det.detect(image), truth, image.shape[:2], min_px, max_occluded)
        if k % max(1, n // 10) == 0:
            print(f"\r  {cam.id}: frame {k + 1}/{n}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return total, n


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(
        prog="python -m bench.synthetic",
        description="Recall/precision of the YOLO detector against the synthetic cameras' ground truth.",
    )
    p.add_argument("--config", type=Path, default=None, help="config file (default: the demo city)")
    p.add_argument(
        "--camera", action="append", default=[], help="camera id (repeatable; default: every synthetic camera)"
    )
    p.add_argument("--seconds", type=float, default=60.0, help="scene seconds per camera")
    p.add_argument("--min-px", type=float, default=12.0, help="smallest truth box (width and height) scored")
    p.add_argument(
        "--max-occluded",
        type=float,
        default=0.5,
        help="truth boxes more than this fraction covered by nearer vehicles' boxes are not scored (1 = score all)",
    )
    p.add_argument("--weights", type=Path, default=None, help="weights (default: the camera's, else the shipped model)")
    p.add_argument("--json", action="store_true", help="print only the JSON lines")
    args = p.parse_args(argv)
    cfg = load_config(args.config)
    cams = [
        c for c in cfg.cameras if isinstance(c.source, SyntheticConfig) and (not args.camera or c.id in args.camera)
    ]
    if not cams:
        print("error: no synthetic camera selected", file=sys.stderr)
        return 2
    grand: Counter[str] = Counter()
    frames = 0
    rows = []
    for cam in cams:
        base = cam.detector if cam.detector.kind == "yolo" else DetectorConfig(kind="yolo")
        update: dict[str, object] = {"motion_gate": False, "share": False}
        if args.weights is not None:
            update["weights"] = args.weights
        counts, n = bench_camera(cam, args.seconds, args.min_px, base.model_copy(update=update), args.max_occluded)
        grand += counts
        frames += n
        rows.append(summary(cam.id, counts, n))
    rows.append(summary("all", grand, frames))
    for row in rows:
        if not args.json:
            print(
                f"{row['camera']:<16} frames {row['frames']:>5}  truth {row['truth_boxes']:>6}  "
                f"R {row['recall']}  P {row['precision']}  label {row['label_accuracy']}  {row['per_class_recall']}",
                file=sys.stderr,
            )
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
