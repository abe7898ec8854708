"""Snapshot -> the merged one-class plate set: one copy per source photo, split by group, vehicle crops."""

from __future__ import annotations

import json
import shutil
import sys
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import cv2
import numpy as np
import yaml

from models.extra_data.manifest import ExtraDataError
from models.extra_data.snapshot import BlobReader, list_blobs, resolve_git_dir
from models.plate_data.manifest import PlateManifest, PlateSetSpec

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


@dataclass
class BuildStats:
    """What one set contributed: images and plate boxes per split, copies and files skipped."""

    images: Counter[str] = field(default_factory=Counter)
    boxes: Counter[str] = field(default_factory=Counter)
    crops: Counter[str] = field(default_factory=Counter)
    duplicate_copies: int = 0
    unreadable: int = 0
    bad_label_lines: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "images": dict(self.images),
            "plate_boxes": dict(self.boxes),
            "vehicle_crops": dict(self.crops),
            "duplicate_copies_skipped": self.duplicate_copies,
            "unreadable_images": self.unreadable,
            "bad_label_lines": self.bad_label_lines,
        }


def _class_names(reader: BlobReader, blobs: dict[str, str], spec: PlateSetSpec) -> dict[int, str]:
    key = f"{spec.base}/data.yaml"
    if key not in blobs:
        raise ExtraDataError(f"set {spec.name}: {key} is not in the snapshot")
    data = yaml.safe_load(reader.read(blobs[key]).decode("utf-8"))
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, list):
        return dict(enumerate(str(n) for n in names))
    if isinstance(names, dict):
        return {int(k): str(v) for k, v in names.items()}
    raise ExtraDataError(f"set {spec.name}: {key} has no `names`")


def _labels(text: str, names: dict[int, str], spec: PlateSetSpec, stats: BuildStats) -> tuple[list, list]:
    """(plates, vehicles) as normalised ``(cx, cy, w, h)`` from YOLO label text."""
    plates, vehicles = [], []
    crop_cls = spec.vehicle_crops.cls if spec.vehicle_crops else None
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        try:
            k, cx, cy, w, h = int(parts[0]), *map(float, parts[1:5])
        except (ValueError, IndexError):
            stats.bad_label_lines += 1
            continue
        name = names.get(k)
        if name is None or not (0 < w <= 1 and 0 < h <= 1):
            stats.bad_label_lines += 1
            continue
        if spec.classes.get(name) == "plate":
            plates.append((cx, cy, w, h))
        elif name == crop_cls:
            vehicles.append((cx, cy, w, h))
    return plates, vehicles


def _write(out: Path, split: str, stem: str, image: np.ndarray, boxes: list[tuple[float, float, float, float]]) -> None:
    cv2.imwrite(str(out / "images" / split / f"{stem}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    lines = [f"0 {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}" for cx, cy, w, h in boxes]
    (out / "labels" / split / f"{stem}.txt").write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")


def _vehicle_crops(
    image: np.ndarray, plates: list, vehicles: list, spec: PlateSetSpec
) -> list[tuple[np.ndarray, list[tuple[float, float, float, float]]]]:
    """Each vehicle box with a plate inside, as (crop, plates in crop-normalised units)."""
    assert spec.vehicle_crops is not None
    vc = spec.vehicle_crops
    ih, iw = image.shape[:2]
    out = []
    for cx, cy, w, h in vehicles:
        x0 = max(0, int((cx - w / 2 - vc.margin * w) * iw))
        y0 = max(0, int((cy - h / 2 - vc.margin * h) * ih))
        x1 = min(iw, int(np.ceil((cx + w / 2 + vc.margin * w) * iw)))
        y1 = min(ih, int(np.ceil((cy + h / 2 + vc.margin * h) * ih)))
        cw, ch = x1 - x0, y1 - y0
        if min(cw, ch) < vc.min_px or (cw >= 0.95 * iw and ch >= 0.95 * ih):
            continue  # too small to read, or the whole photo again
        inside = []
        for px, py, pw, ph in plates:
            ax, ay = px * iw, py * ih
            if not (x0 <= ax <= x1 and y0 <= ay <= y1):
                continue
            bx0, by0 = max(x0, (px - pw / 2) * iw), max(y0, (py - ph / 2) * ih)
            bx1, by1 = min(x1, (px + pw / 2) * iw), min(y1, (py + ph / 2) * ih)
            if bx1 - bx0 >= 2 and by1 - by0 >= 2:
                inside.append(
                    (((bx0 + bx1) / 2 - x0) / cw, ((by0 + by1) / 2 - y0) / ch, (bx1 - bx0) / cw, (by1 - by0) / ch)
                )
        if inside:
            out.append((image[y0:y1, x0:x1], inside))
    return out


def build_set(git_dir: Path, spec: PlateSetSpec, out: Path, val_every: int) -> BuildStats:
    """Write set ``spec`` from the snapshot at ``git_dir`` into ``out`` (images/labels, train/val)."""
    stats = BuildStats()
    blobs = list_blobs(git_dir, spec.commit, spec.base)
    if not blobs:
        raise ExtraDataError(f"set {spec.name}: no files under {spec.base}/ at {spec.commit} in {git_dir}")
    with BlobReader(git_dir) as reader:
        names = _class_names(reader, blobs, spec)
        groups: dict[str, str] = {}
        for split in spec.splits:
            prefix = f"{spec.base}/{split}/images/"
            for path in sorted(p for p in blobs if p.startswith(prefix) and p.lower().endswith(IMAGE_SUFFIXES)):
                stem = PurePosixPath(path).stem
                m = spec.group_regex.match(stem)
                group = m.group(1) if m else stem
                if group in groups:
                    stats.duplicate_copies += 1
                    continue
                groups[group] = path
        for group, path in sorted(groups.items()):
            split_dir = path[len(spec.base) + 1 :].split("/", 1)[0]
            label_path = f"{spec.base}/{split_dir}/labels/{PurePosixPath(path).stem}.txt"
            text = reader.read(blobs[label_path]).decode("utf-8", errors="replace") if label_path in blobs else ""
            plates, vehicles = _labels(text, names, spec, stats)
            image = cv2.imdecode(np.frombuffer(reader.read(blobs[path]), np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                stats.unreadable += 1
                continue
            split = "val" if zlib.crc32(f"{spec.name}:{group}".encode()) % val_every == 0 else "train"
            safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in group)[:80]
            stem = f"{spec.name}__{safe}__{zlib.crc32(group.encode()):08x}"
            _write(out, split, stem, image, plates)
            stats.images[split] += 1
            stats.boxes[split] += len(plates)
            if spec.vehicle_crops and vehicles and plates:
                for k, (crop, inside) in enumerate(_vehicle_crops(image, plates, vehicles, spec)):
                    _write(out, split, f"{stem}__v{k}", crop, inside)
                    stats.images[split] += 1
                    stats.crops[split] += 1
                    stats.boxes[split] += len(inside)
    return stats


def build(manifest: PlateManifest, mirrors: dict[str, Path], out: Path | None = None, progress=None) -> Path:
    """Build every set of ``manifest`` (``mirrors``: set name -> its snapshot) into one folder.

    Written to ``<out>.partial`` and moved into place when complete; returns the ``data.yaml``.

    Raises:
        ExtraDataError: a mirror is missing or does not hold the manifest's commit.
    """
    say = progress or (lambda msg: print(msg, file=sys.stderr))
    target = (out or manifest.out).resolve()
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    for kind in ("images", "labels"):
        for split in ("train", "val"):
            (partial / kind / split).mkdir(parents=True)
    record: dict[str, object] = {"sets": {}}
    try:
        for spec in manifest.sets:
            if spec.name not in mirrors:
                raise ExtraDataError(f"set {spec.name}: no snapshot of {spec.repo} given (fetch it first)")
            stats = build_set(resolve_git_dir(mirrors[spec.name]), spec, partial, manifest.val_every)
            say(
                f"{spec.name}: {dict(stats.images)} images, {dict(stats.boxes)} plate boxes, "
                f"{stats.duplicate_copies} augmented copies skipped"
            )
            record["sets"][spec.name] = {  # type: ignore[index]
                "repo": spec.repo,
                "commit": spec.commit,
                "path_in_repo": spec.base,
                "licence": spec.licence,
                **stats.as_dict(),
            }
        data_yaml = partial / "data.yaml"
        data_yaml.write_text(
            yaml.safe_dump({"path": str(target), "train": "images/train", "val": "images/val", "names": {0: "plate"}}),
            encoding="utf-8",
        )
        (partial / "MANIFEST.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if target.exists():
        shutil.rmtree(target)
    partial.rename(target)
    return target / "data.yaml"
