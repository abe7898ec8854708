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
import csv
import json
import logging
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "false")

from core.types import LABELS
from models.dataset import (
    DEFAULT_OUT,
    IMAGE_SUFFIXES,
    SOURCES,
    available_sources,
    build_dataset,
    labelled_classes,
    read_source_names,
    source_dir,
    source_mapping,
    source_val_yaml,
)
from vision.runtimes import PRECISIONS
from vision.tiling import parse_tiles

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

#: One labelled box: (label, x, y, w, h) in pixels, x/y = top-left corner.
GtBox = tuple[str, float, float, float, float]
#: One predicted box with its confidence.
ScoredBox = tuple[float, GtBox]


@dataclass
class ClassCounts:
    """True positives, false positives and false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    def add(self, other: ClassCounts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn


@dataclass
class SetScore:
    """Scores of one evaluation set."""

    name: str
    images: int = 0
    any_class: ClassCounts = field(default_factory=ClassCounts)
    per_class: dict[str, ClassCounts] = field(default_factory=lambda: defaultdict(ClassCounts))
    #: Any-class counts of far-field boxes: ground truth (FN/TP) and predictions (FP) narrower than SMALL_PX.
    small: ClassCounts = field(default_factory=ClassCounts)
    extra: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        def cc(c: ClassCounts) -> dict[str, float | int | None]:
            return {"tp": c.tp, "fp": c.fp, "fn": c.fn, "precision": _r(c.precision), "recall": _r(c.recall)}

        return {
            "images": self.images,
            "any_class": cc(self.any_class),
            "per_class": {k: cc(v) for k, v in sorted(self.per_class.items())},
            f"small_lt{SMALL_PX}px": cc(self.small),
            **{k: _r(v) for k, v in self.extra.items()},
        }


#: Boxes narrower than this (pixels of the image as stored) are "far field" in the small-box row.
SMALL_PX = 20


def _r(v: float) -> float | None:
    return None if v != v else round(float(v), 4)  # NaN -> None (valid JSON)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (N, 4 xywh) with every box in ``b`` (M, 4 xywh)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, 0][:, None], b[:, 0][None]), 0, None)
    ih = np.clip(np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, 1][:, None], b[:, 1][None]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def greedy_match(pred: np.ndarray, gt: np.ndarray, iou_thr: float = 0.5) -> int:
    """Number of one-to-one matches with IoU >= ``iou_thr``, taking the highest-IoU pair first."""
    return len(greedy_pairs(pred, gt, iou_thr))


def greedy_pairs(pred: np.ndarray, gt: np.ndarray, iou_thr: float = 0.5) -> list[tuple[int, int]]:
    """One-to-one (prediction, ground truth) index pairs with IoU >= ``iou_thr``, highest-IoU pair first."""
    iou = iou_matrix(pred, gt)
    if iou.size == 0:
        return []
    pi, gi = np.nonzero(iou >= iou_thr)
    order = np.argsort(-iou[pi, gi], kind="stable")
    used_p: set[int] = set()
    used_g: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for k in order:
        p, g = int(pi[k]), int(gi[k])
        if p not in used_p and g not in used_g:
            used_p.add(p)
            used_g.add(g)
            pairs.append((p, g))
    return pairs


def score_image(preds: Sequence[GtBox], gts: Sequence[GtBox], iou_thr: float = 0.5) -> SetScore:
    """Score one image: any-class and per-class counts (labels compared exactly)."""
    s = SetScore("image", images=1)
    pb = np.array([p[1:] for p in preds], dtype=np.float64).reshape(-1, 4)
    gb = np.array([g[1:] for g in gts], dtype=np.float64).reshape(-1, 4)
    pairs = greedy_pairs(pb, gb, iou_thr)
    tp = len(pairs)
    s.any_class = ClassCounts(tp, len(preds) - tp, len(gts) - tp)
    matched_p, matched_g = {p for p, _ in pairs}, {g for _, g in pairs}
    small_g = [i for i, g in enumerate(gts) if g[3] < SMALL_PX]
    small_tp = sum(1 for i in small_g if i in matched_g)
    small_fp = sum(1 for i, p in enumerate(preds) if p[3] < SMALL_PX and i not in matched_p)
    s.small = ClassCounts(small_tp, small_fp, len(small_g) - small_tp)
    for label in {p[0] for p in preds} | {g[0] for g in gts}:
        pl = np.array([p[1:] for p in preds if p[0] == label], dtype=np.float64).reshape(-1, 4)
        gl = np.array([g[1:] for g in gts if g[0] == label], dtype=np.float64).reshape(-1, 4)
        t = greedy_match(pl, gl, iou_thr)
        s.per_class[label] = ClassCounts(t, len(pl) - t, len(gl) - t)
    return s


def accumulate(name: str, parts: Iterable[SetScore]) -> SetScore:
    """Sum per-image scores into one set score."""
    total = SetScore(name)
    for p in parts:
        total.images += p.images
        total.any_class.add(p.any_class)
        total.small.add(p.small)
        for k, v in p.per_class.items():
            total.per_class[k].add(v)
    return total


# ---------------------------------------------------------------- data loaders (yield BGR image + gt)


#: Vehicles that ``road_images/boxes.csv`` leaves out, found among the shipped model's "false
#: positives" and checked by eye (see MODEL_CARD.md, "Label audit").
AUDITED_LABELS = REPO_ROOT / "models" / "road_images_missing_labels.csv"


def read_audited_labels(path: Path, visibility: str = "full") -> dict[str, list[GtBox]]:
    """image -> extra ground-truth boxes of the label audit with this visibility (``full`` / ``cut_by_frame_edge``)."""
    out: dict[str, list[GtBox]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["visibility"] == visibility:
                out[row["image"]].append(
                    (row["coarse_class"], float(row["x"]), float(row["y"]), float(row["w"]), float(row["h"]))
                )
    return out


def road_image_names(root: Path) -> list[str]:
    """Image names of ``road_images/boxes.csv`` in the order :func:`road_images` yields them."""
    with (root / "boxes.csv").open(newline="", encoding="utf-8") as fh:
        return sorted({row["image"] for row in csv.DictReader(fh)})


def road_images(root: Path) -> Iterator[tuple[str, np.ndarray, list[GtBox]]]:
    """Images of ``road_images/boxes.csv`` with their boxes (``coarse_class`` labels)."""
    import cv2

    gts: dict[str, list[GtBox]] = defaultdict(list)
    with (root / "boxes.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            gts[row["image"]].append(
                (row["coarse_class"], float(row["x"]), float(row["y"]), float(row["w"]), float(row["h"]))
            )
    for name in sorted(gts):
        img = cv2.imread(str(root / name))
        if img is None:
            raise FileNotFoundError(f"cannot read {root / name}")
        yield name, img, gts[name]


def video_frames(root: Path) -> Iterator[tuple[str, np.ndarray, list[GtBox]]]:
    """Frames listed in ``videos/boxes.csv`` (0-based OpenCV order) with their boxes."""
    import cv2

    gts: dict[str, dict[int, list[GtBox]]] = defaultdict(lambda: defaultdict(list))
    with (root / "boxes.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            gts[row["video"]][int(row["frame"])].append(
                (row["coarse_class"], float(row["x"]), float(row["y"]), float(row["w"]), float(row["h"]))
            )
    for video, frames in sorted(gts.items()):
        cap = cv2.VideoCapture(str(root / video))
        if not cap.isOpened():
            raise FileNotFoundError(f"cannot open {root / video}")
        idx = 0
        last = max(frames)
        try:
            while idx <= last:
                ok, img = cap.read()
                if not ok:
                    break
                if idx in frames:
                    yield f"{video}#{idx}", img, frames[idx]
                idx += 1
        finally:
            cap.release()


def val_split(data_root: Path, source: str) -> Iterator[tuple[str, np.ndarray, list[GtBox]]]:
    """Val images of one training source set, labels mapped to our labels."""
    import cv2

    folder = source_dir(data_root, source)
    names = read_source_names(folder / "data.yaml")
    mapping = source_mapping(source, names)
    img_dir = folder / "images" / "val"
    lbl_dir = folder / "labels" / "val"
    for img_path in sorted(p for p in img_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        img = cv2.imread(str(img_path))
        if img is None:
            continue
        h, w = img.shape[:2]
        boxes: list[GtBox] = []
        lbl = lbl_dir / (img_path.stem + ".txt")
        if lbl.is_file():
            for line in lbl.read_text(encoding="utf-8").splitlines():
                parts = line.split()
                if len(parts) != 5:
                    continue
                c, xc, yc, bw, bh = int(float(parts[0])), *(float(v) for v in parts[1:])
                if names[c] in mapping:  # a class the manifest drops has no label of ours
                    boxes.append((mapping[names[c]], (xc - bw / 2) * w, (yc - bh / 2) * h, bw * w, bh * h))
        yield img_path.name, img, boxes


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


#: Predictions and ground truth of one image.
ImagePair = tuple[list[ScoredBox], list[GtBox]]


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


def score_pairs(name: str, pairs: Sequence[ImagePair], conf: float, iou_thr: float = 0.5) -> SetScore:
    """Score collected predictions, keeping those with confidence >= ``conf``."""
    return accumulate(name, (score_image([b for c, b in p if c >= conf], g, iou_thr) for p, g in pairs))


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


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
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
    args = p.parse_args(argv)
    if args.as_workers:
        args.runtime, args.precision, args.iou, args.agnostic_nms = "openvino", "auto", 0.5, True
    try:
        tiles = parse_tiles(args.tiles) if args.tiles else None
    except ValueError as e:
        p.error(str(e))

    if not Path(args.weights).exists():
        print(f"error: weights not found: {args.weights}", file=sys.stderr)
        return 2
    train_root = args.train_root or args.data / "train"
    wanted = {s.strip() for s in args.sets.split(",") if s.strip()}
    sweep = sorted({float(v) for v in args.sweep.split(",") if v.strip()} | {args.conf})
    collected: dict[str, list[ImagePair]] = {}
    extras: dict[str, dict[str, float]] = {}
    speeds: dict[str, float] = {}
    modes: list[tuple[str, tuple[int, int] | None]] = [("", None)]
    if tiles is not None:
        modes.append((f" [tiled {tiles[0]}x{tiles[1]}]", tiles))
    for suffix, grid in modes:
        predict = Predictor(
            args.weights,
            args.imgsz,
            min(sweep),
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
    if "val" in wanted and args.ultralytics_val:
        data_yaml = DEFAULT_OUT / "data.yaml"
        if not data_yaml.is_file():
            data_yaml, _ = build_dataset(train_root, DEFAULT_OUT)
        for source in SOURCES:
            extras[f"val:{source}"] = ultralytics_val(args.weights, source_val_yaml(data_yaml, source), args.imgsz)

    def score_all(conf: float) -> list[SetScore]:
        out = []
        for name, pairs in collected.items():
            s = score_pairs(name, pairs, conf)
            s.extra.update(extras.get(name, {}))
            out.append(s)
        return out

    scores = score_all(args.conf)
    print(f"precision/recall at IoU >= 0.5, confidence >= {args.conf}")
    print(format_table(scores))
    sweep_rows: dict[str, dict[str, list[float | None]]] = {}
    if len(sweep) > 1:
        print("\nany-class precision / recall by confidence threshold")
        print(f"{'set':<34}" + "".join(f"{c:>14.2f}" for c in sweep))
        per_conf = {c: score_all(c) for c in sweep}
        for i, name in enumerate(collected):
            cells = [per_conf[c][i].any_class for c in sweep]
            sweep_rows[name] = {f"{c:.2f}": [_r(x.precision), _r(x.recall)] for c, x in zip(sweep, cells, strict=True)}
            print(f"{name:<34}" + "".join(f"{x.precision:>7.3f}/{x.recall:<6.3f}" for x in cells))
    speed = next(iter(speeds.values()))
    result = {
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
    line = json.dumps(result, sort_keys=False)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(line + "\n", encoding="utf-8")
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
