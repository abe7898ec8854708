"""Score a vehicle detector on the dev data and on the held-out val splits.

Sets scored (all paths relative to ``../shared/data``):

* ``road_images``: ``road_images/boxes.csv`` (20 frames of the km39 ``aditganteng`` clip); and,
  as a second row, the same with the fully visible vehicles those labels leave out added
  (``models/road_images_missing_labels.csv``, a label audit checked by eye; ``--audited-labels``);
* ``video``: the frames of ``videos/boxes.csv`` (km39 ``siang`` clip), decoded with OpenCV;
* ``val:<set>``: the val split of each training source set (the held-out check; the two dev sets
  above come from the same clips as ``trafficvision_km39_idn`` and are not held out).

For each set: precision and recall at IoU >= 0.5, any class and per class, with greedy one-to-one
matching by IoU (highest IoU pair first) of predictions with confidence >= ``--conf``. Ground-truth
classes are mapped to our labels (road_images/video: ``coarse_class``; val: the project's class table,
:data:`vision.detector.CLASS_MAP`).
With ``--ultralytics-val`` the ultralytics validator also gives mAP50 / mAP50-95 per val split.

Prints a table on stdout and, last, one JSON line with every figure.

Usage::

    python -m models.evaluate --weights models/vehicles.pt
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "false")

from core.types import LABELS
from models.dataset import (
    DEFAULT_OUT,
    SOURCES,
    available_sources,
    build_dataset,
    labelled_classes,
    source_val_yaml,
)
from models.eval_data import (
    AUDITED_LABELS,
    read_audited_labels,
    road_image_names,
    road_images,
    val_split,
    video_frames,
)
from models.eval_scoring import (
    SMALL_PX,
    ClassCounts,
    GtBox,
    ImagePair,
    ScoredBox,
    SetScore,
    _r,
    accumulate,
    greedy_match,
    greedy_pairs,
    iou_matrix,
    score_image,
    score_pairs,
)
from vision.runtimes import PRECISIONS
from vision.tiling import parse_tiles

__all__ = [
    "AUDITED_LABELS",
    "SMALL_PX",
    "ClassCounts",
    "GtBox",
    "ImagePair",
    "Predictor",
    "ScoredBox",
    "SetScore",
    "accumulate",
    "collect",
    "collect_sets",
    "format_table",
    "greedy_match",
    "greedy_pairs",
    "iou_matrix",
    "main",
    "parse_tiles",
    "read_audited_labels",
    "road_image_names",
    "road_images",
    "score_image",
    "score_pairs",
    "ultralytics_val",
    "val_split",
    "video_frames",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

# ---------------------------------------------------------------- model


class Predictor:
    """A project detector over a set of images, timed; boxes with our labels and their confidences.

    ``runtime`` ``ultralytics`` is the reference (:class:`vision.detector.YoloDetector`, stock
    ``predict``); ``openvino``/``onnxruntime`` score exactly what the workers run: letterbox, the
    exported (or quantized) model, our decoding and NMS.
    """

    def __init__(
        self,
        weights: Path,
        imgsz: int,
        conf: float,
        runtime: str = "ultralytics",
        precision: str = "auto",
        threads: int = 2,
        iou: float = 0.7,
        agnostic: bool = False,
        tiles: tuple[int, int] | None = None,
        tile_overlap: float = 0.2,
    ) -> None:
        from vision.detector import DETECTOR_CLASSES, Detector, YoloDetector, as_batch_detector
        from vision.tiling import TiledDetector

        self.detector: Detector
        if runtime == "ultralytics":
            self.detector = YoloDetector(weights, conf=conf, iou=iou, imgsz=imgsz, device="cpu", agnostic=agnostic)
        else:
            self.detector = DETECTOR_CLASSES[runtime](
                weights, conf=conf, iou=iou, imgsz=imgsz, threads=threads, precision=precision, agnostic=agnostic
            )
        if tiles is not None:
            self.detector = TiledDetector(
                as_batch_detector(self.detector), grid=tiles, overlap=tile_overlap, iou=iou, agnostic=agnostic
            )
        self.batch = 8
        self.seconds = 0.0
        self.count = 0

    def __call__(self, images: list[np.ndarray]) -> list[list[ScoredBox]]:
        t = time.perf_counter()
        dets = [self.detector.detect(im) for im in images]
        self.seconds += time.perf_counter() - t
        self.count += len(images)
        return [
            [
                (d.confidence, (d.label, float(d.box[0]), float(d.box[1]), float(d.box[2]), float(d.box[3])))
                for d in frame
            ]
            for frame in dets
        ]


def collect(name: str, items: Iterable[tuple[str, np.ndarray, list[GtBox]]], predict: Predictor) -> list[ImagePair]:
    """Run the predictor over a set (progress on stderr); keep every prediction with its confidence."""
    pairs: list[ImagePair] = []
    buf: list[tuple[np.ndarray, list[GtBox]]] = []

    def flush() -> None:
        preds = predict([b[0] for b in buf])
        pairs.extend((p, g) for p, (_, g) in zip(preds, buf, strict=True))
        buf.clear()
        print(f"\r  {name}: {len(pairs)} images", end="", file=sys.stderr, flush=True)

    for _, img, gts in items:
        buf.append((img, gts))
        if len(buf) >= predict.batch:
            flush()
    if buf:
        flush()
    print(file=sys.stderr)
    return pairs


def ultralytics_val(weights: Path, data_yaml: Path, imgsz: int) -> dict[str, float]:
    """mAP50, mAP50-95, P, R of the ultralytics validator on one data.yaml."""
    from ultralytics import YOLO
    from ultralytics.utils import LOGGER

    level = LOGGER.level
    LOGGER.setLevel(logging.WARNING)  # keep stdout for the table and the JSON line
    try:
        m = YOLO(str(weights), task="detect").val(
            data=str(data_yaml),
            imgsz=imgsz,
            batch=8,
            device="cpu",
            plots=False,
            verbose=False,
            workers=0,
            project=str(REPO_ROOT / "var" / "runs"),
            name="val",
            exist_ok=True,
        )
    finally:
        LOGGER.setLevel(level)
    return {"map50": float(m.box.map50), "map50_95": float(m.box.map), "ul_p": float(m.box.mp), "ul_r": float(m.box.mr)}


def format_table(scores: Sequence[SetScore]) -> str:
    """Plain-text table: one any-class row per set, then its per-class rows."""
    lines = [f"{'set':<34}{'class':<12}{'imgs':>5}{'TP':>7}{'FP':>7}{'FN':>7}{'P':>8}{'R':>8}  extra"]
    for s in scores:
        c = s.any_class
        extra = " ".join(f"{k}={v:.3f}" for k, v in s.extra.items())
        lines.append(
            f"{s.name:<34}{'ANY':<12}{s.images:>5}{c.tp:>7}{c.fp:>7}{c.fn:>7}{c.precision:>8.3f}{c.recall:>8.3f}  {extra}"
        )
        for k in sorted(s.per_class, key=lambda k: LABELS.index(k) if k in LABELS else 99):
            v = s.per_class[k]
            lines.append(f"{'':<34}{k:<12}{'':>5}{v.tp:>7}{v.fp:>7}{v.fn:>7}{v.precision:>8.3f}{v.recall:>8.3f}")
        v = s.small
        if v.tp + v.fn + v.fp:
            lines.append(
                f"{'':<34}{f'<{SMALL_PX}px':<12}{'':>5}{v.tp:>7}{v.fp:>7}{v.fn:>7}{v.precision:>8.3f}{v.recall:>8.3f}"
            )
    return "\n".join(lines)


def collect_sets(
    wanted: set[str], data: Path, train_root: Path, predict: Predictor, audited: Path | None
) -> dict[str, list[ImagePair]]:
    """Predictions and ground truth of every wanted set (road_images [+ audit], video, each val split, val:all)."""
    collected: dict[str, list[ImagePair]] = {}
    if "road_images" in wanted:
        pairs = collect("road_images", road_images(data / "road_images"), predict)
        collected["road_images (dev, km39)"] = pairs
        if audited is not None and audited.is_file():
            extra = read_audited_labels(audited)
            names = road_image_names(data / "road_images")
            collected["road_images + audit (dev)"] = [
                (preds, [*gts, *extra.get(name, [])]) for name, (preds, gts) in zip(names, pairs, strict=True)
            ]
    if "video" in wanted:
        collected["video boxes.csv (dev, km39)"] = collect("video", video_frames(data / "videos"), predict)
    if "val" in wanted:
        for source in available_sources(train_root, training=False):
            name = f"val:{source}"
            pairs = collect(name, val_split(train_root, source), predict)
            only = labelled_classes(source)
            if only is not None:  # a set that boxes only these classes: other predictions are not errors
                name = f"{name} ({','.join(sorted(only))} only)"
                pairs = [([p for p in preds if p[1][0] in only], gts) for preds, gts in pairs]
            collected[name] = pairs
        collected["val:all (held-out)"] = [p for k, v in collected.items() if k.startswith("val:") for p in v]
    return collected


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    p = argparse.ArgumentParser(
        description="Precision/recall at IoU 0.5 of a YOLO model on road_images, the labelled video and the val splits.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--weights", type=Path, default=REPO_ROOT / "models" / "vehicles.pt", help=".pt, .onnx or OpenVINO dir"
    )
    p.add_argument("--data", type=Path, default=SHARED_DATA, help="../shared/data")
    p.add_argument("--train-root", type=Path, default=None, help="training sets (default <data>/train)")
    p.add_argument("--imgsz", type=int, default=512)
    p.add_argument("--conf", type=float, default=0.25, help="confidence threshold for P/R")
    p.add_argument(
        "--sweep",
        default="",
        help="comma list of extra confidence thresholds for an any-class P/R table, e.g. 0.2,0.3,0.4,0.5",
    )
    p.add_argument("--sets", default="road_images,video,val", help="comma list of road_images, video, val")
    p.add_argument(
        "--ultralytics-val", action="store_true", help="also run the ultralytics validator (mAP) per val split"
    )
    p.add_argument(
        "--runtime",
        default="ultralytics",
        choices=["ultralytics", "openvino", "onnxruntime"],
        help="ultralytics predict (reference), or our runtime as the workers run it",
    )
    p.add_argument(
        "--precision",
        default="auto",
        choices=list(PRECISIONS),
        help="our runtime's precision (see the detector config); ignored for ultralytics",
    )
    p.add_argument("--threads", type=int, default=2, help="our runtime's inference threads")
    p.add_argument("--iou", type=float, default=0.7, help="NMS IoU threshold (ultralytics' default; workers: 0.5)")
    p.add_argument(
        "--agnostic-nms",
        action="store_true",
        help="NMS across classes, one box per vehicle, as the workers run (default: per class, as ultralytics)",
    )
    p.add_argument(
        "--tiles",
        default="",
        help="also score tiled inference, e.g. 2x2 (columns x rows of overlapping tiles + the whole frame), "
        "beside the whole-frame pass",
    )
    p.add_argument("--tile-overlap", type=float, default=0.2, help="fraction of a tile shared with its neighbour")
    p.add_argument(
        "--as-workers",
        action="store_true",
        help="score exactly as the workers run the detector by default: --runtime openvino --precision auto "
        "(int8 where made) --iou 0.5 --agnostic-nms",
    )
    p.add_argument("--json-out", type=Path, default=None, help="also write the JSON to this file")
    p.add_argument(
        "--audited-labels",
        type=Path,
        default=AUDITED_LABELS,
        help="also score road_images with these extra boxes (fully visible vehicles the labels leave out)",
    )
    return p


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, tuple[int, int] | None]:
    """Options (``--as-workers`` applied) and the tile grid of ``--tiles`` (None without it)."""
    p = build_parser()
    args = p.parse_args(argv)
    if args.as_workers:
        args.runtime, args.precision, args.iou, args.agnostic_nms = "openvino", "auto", 0.5, True
    try:
        tiles = parse_tiles(args.tiles) if args.tiles else None
    except ValueError as e:
        p.error(str(e))
    return args, tiles


def collect_modes(
    args: argparse.Namespace, tiles: tuple[int, int] | None, wanted: set[str], train_root: Path, conf: float
) -> tuple[dict[str, list[ImagePair]], dict[str, float]]:
    """Collect every wanted set whole-frame and, with ``tiles``, tiled too (set names get a suffix).

    Returns:
        (set name -> predictions and ground truth, mode -> seconds per image).
    """
    collected: dict[str, list[ImagePair]] = {}
    speeds: dict[str, float] = {}
    modes: list[tuple[str, tuple[int, int] | None]] = [("", None)]
    if tiles is not None:
        modes.append((f" [tiled {tiles[0]}x{tiles[1]}]", tiles))
    for suffix, grid in modes:
        predict = Predictor(
            args.weights,
            args.imgsz,
            conf,
            args.runtime,
            args.precision,
            args.threads,
            iou=args.iou,
            agnostic=args.agnostic_nms,
            tiles=grid,
            tile_overlap=args.tile_overlap,
        )
        part = collect_sets(wanted, args.data, train_root, predict, args.audited_labels)
        collected.update({name + suffix: pairs for name, pairs in part.items()})
        speeds["whole" if grid is None else f"tiled {grid[0]}x{grid[1]}"] = round(
            predict.seconds / max(predict.count, 1), 4
        )
    return collected, speeds


def ultralytics_extras(weights: Path, train_root: Path, imgsz: int) -> dict[str, dict[str, float]]:
    """``val:<set>`` -> the ultralytics validator's figures, for every source set (dataset built if needed)."""
    extras: dict[str, dict[str, float]] = {}
    data_yaml = DEFAULT_OUT / "data.yaml"
    if not data_yaml.is_file():
        data_yaml, _ = build_dataset(train_root, DEFAULT_OUT)
    for source in SOURCES:
        extras[f"val:{source}"] = ultralytics_val(weights, source_val_yaml(data_yaml, source), imgsz)
    return extras


def score_all(
    collected: dict[str, list[ImagePair]], extras: dict[str, dict[str, float]], conf: float
) -> list[SetScore]:
    """Score every collected set at confidence >= ``conf``, with its extra figures."""
    out = []
    for name, pairs in collected.items():
        s = score_pairs(name, pairs, conf)
        s.extra.update(extras.get(name, {}))
        out.append(s)
    return out


def print_sweep(
    collected: dict[str, list[ImagePair]], extras: dict[str, dict[str, float]], sweep: list[float]
) -> dict[str, dict[str, list[float | None]]]:
    """Print the any-class P/R table by confidence threshold (when more than one); return its rows."""
    sweep_rows: dict[str, dict[str, list[float | None]]] = {}
    if len(sweep) > 1:
        print("\nany-class precision / recall by confidence threshold")
        print(f"{'set':<34}" + "".join(f"{c:>14.2f}" for c in sweep))
        per_conf = {c: score_all(collected, extras, c) for c in sweep}
        for i, name in enumerate(collected):
            cells = [per_conf[c][i].any_class for c in sweep]
            sweep_rows[name] = {f"{c:.2f}": [_r(x.precision), _r(x.recall)] for c, x in zip(sweep, cells, strict=True)}
            print(f"{name:<34}" + "".join(f"{x.precision:>7.3f}/{x.recall:<6.3f}" for x in cells))
    return sweep_rows


def result_json(
    args: argparse.Namespace,
    tiles: tuple[int, int] | None,
    speeds: dict[str, float],
    scores: list[SetScore],
    sweep_rows: dict[str, dict[str, list[float | None]]],
) -> dict[str, Any]:
    """The JSON result line: settings, speeds, every set's figures and the sweep."""
    speed = next(iter(speeds.values()))
    return {
        "weights": str(args.weights),
        "runtime": args.runtime if args.runtime == "ultralytics" else f"{args.runtime}/{args.precision}",
        "imgsz": args.imgsz,
        "nms_iou": args.iou,
        "agnostic_nms": args.agnostic_nms,
        "conf": args.conf,
        "iou": 0.5,
        "s_per_image": round(speed, 4),
        "s_per_image_by_mode": speeds,
        "tile_overlap": args.tile_overlap if tiles is not None else None,
        "sets": {s.name: s.as_dict() for s in scores},
        "sweep": sweep_rows,
    }


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    args, tiles = parse_args(argv)
    if not Path(args.weights).exists():
        print(f"error: weights not found: {args.weights}", file=sys.stderr)
        return 2
    train_root = args.train_root or args.data / "train"
    wanted = {s.strip() for s in args.sets.split(",") if s.strip()}
    sweep = sorted({float(v) for v in args.sweep.split(",") if v.strip()} | {args.conf})
    collected, speeds = collect_modes(args, tiles, wanted, train_root, min(sweep))
    extras: dict[str, dict[str, float]] = {}
    if "val" in wanted and args.ultralytics_val:
        extras = ultralytics_extras(args.weights, train_root, args.imgsz)
    scores = score_all(collected, extras, args.conf)
    print(f"precision/recall at IoU >= 0.5, confidence >= {args.conf}")
    print(format_table(scores))
    sweep_rows = print_sweep(collected, extras, sweep)
    line = json.dumps(result_json(args, tiles, speeds, scores, sweep_rows), sort_keys=False)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(line + "\n", encoding="utf-8")
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
