"""Evaluation sets of :mod:`models.evaluate`: each loader yields (name, BGR image, ground-truth boxes)."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from models.dataset import IMAGE_SUFFIXES, read_source_names, source_dir, source_mapping
from models.eval_scoring import GtBox

REPO_ROOT = Path(__file__).resolve().parents[1]

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
