"""Writing a set: images (downscaled when large), converted labels, ``data.yaml``, sources and ``_stats.json``."""

from __future__ import annotations

import io
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from PIL import Image

from models.extra_data.manifest import BuildSpec, ExtraDataError
from models.extra_data.selection import Item, _basename, _stem, select
from models.extra_data.snapshot import BlobReader, check_commit, list_blobs

JPEG_QUALITY = 90


def convert_label(text: str, n_classes: int, stats: dict[str, Any]) -> list[str]:
    """YOLO box lines of a label file: 5-field lines verbatim, polygons as their box, bad lines dropped."""
    out: list[str] = []
    for line in text.splitlines():
        t = line.split()
        if not t:
            continue
        try:
            c, v = int(t[0]), [float(x) for x in t[1:]]
        except ValueError:
            stats["bad_lines"] += 1
            continue
        if len(v) >= 6 and len(v) % 2 == 0:
            xs, ys = v[0::2], v[1::2]
            x0, x1, y0, y1 = max(0, min(xs)), min(1, max(xs)), max(0, min(ys)), min(1, max(ys))
            v = [(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0]
            stats["polygons_converted"] += 1
        elif len(v) != 4:
            stats["bad_lines"] += 1
            continue
        if c < 0 or c >= n_classes or v[2] <= 0 or v[3] <= 0:
            stats["bad_lines"] += 1
            continue
        out.append(" ".join(t) if len(t) == 5 else f"{c} " + " ".join(f"{x:.6f}" for x in v))
    return out


def write_image(data: bytes, source: str, folder: Path, max_side: int) -> bool | None:
    """Write one image, downscaled to ``max_side`` (as ``<stem>.jpg``) when larger.

    Returns:
        Whether it was downscaled; None if it is not a readable image (then nothing is written).
    """
    try:
        img = Image.open(io.BytesIO(data))
        w, h = img.size
    except Exception as e:  # noqa: BLE001 - any decoder error means: skip this file
        print(f"warning: unreadable image {source}: {e}", file=sys.stderr)
        return None
    if max(w, h) <= max_side:
        (folder / _basename(source)).write_bytes(data)
        return False
    s = max_side / max(w, h)
    small = img.convert("RGB").resize((round(w * s), round(h * s)), Image.Resampling.LANCZOS)
    small.save(folder / f"{_stem(source)}.jpg", format="JPEG", quality=JPEG_QUALITY)
    return True


@dataclass
class Export:
    """The source export at the manifest's commit: its files and a reader for their contents."""

    spec: BuildSpec
    files: dict[str, str]
    blobs: BlobReader

    def read(self, rel: str, field_name: str) -> bytes:
        """Content of ``<path_in_repo>/<rel>``; ``field_name`` is the manifest field named if it is missing."""
        path = f"{self.spec.base}/{rel}"
        if path not in self.files:
            raise ExtraDataError(f"set {self.spec.name}: no {path} at {self.spec.commit} (manifest field {field_name})")
        return self.blobs.read(self.files[path])


def write_split(split: str, items: list[Item], src: Export, out: Path, names: list[str], stats: dict[str, Any]) -> None:
    """Write the images and labels of one split under ``<out>/images/<split>`` and ``<out>/labels/<split>``."""
    spec, files, blobs = src.spec, src.files, src.blobs
    img_dir, lab_dir = out / "images" / split, out / "labels" / split
    img_dir.mkdir(parents=True)
    lab_dir.mkdir(parents=True)
    boxes, images_with, n_boxes, n_empty = Counter[str](), Counter[str](), 0, 0
    for item in items:
        resized = write_image(blobs.read(files[item.image]), item.image, img_dir, spec.max_side)
        if resized is None:
            continue
        stats["resized"] += resized
        lines: list[str] = []
        if item.label is None:
            stats["missing_label"] += 1
        else:
            lines = convert_label(blobs.read(files[item.label]).decode(), len(names), stats)
        label_path = lab_dir / f"{_stem(item.image)}.txt"
        if label_path.exists():
            raise ExtraDataError(f"set {spec.name}: two source images named {_stem(item.image)} in our {split}")
        label_path.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
        n_empty += not lines
        classes = [names[int(x.split()[0])] for x in lines]
        boxes.update(classes)
        images_with.update(set(classes))
        n_boxes += len(classes)
    stats["splits"][split] = {
        "images": len(items),
        "boxes": n_boxes,
        "empty_label_images": n_empty,
        "boxes_per_class": {n: boxes.get(n, 0) for n in names},
        "images_per_class": {n: images_with.get(n, 0) for n in names},
    }


def class_names(src: Export) -> list[str]:
    """The ``names`` of the export's ``names_file`` (a list, or a dict id -> name), in id order."""
    doc = yaml.safe_load(src.read(src.spec.names_file, "build.names_file"))
    names = doc.get("names") if isinstance(doc, dict) else None
    if isinstance(names, dict):
        names = [names[k] for k in sorted(names)]
    if not isinstance(names, list) or not names:
        raise ExtraDataError(f"set {src.spec.name}: {src.spec.base}/{src.spec.names_file} has no `names`")
    return [str(n) for n in names]


def copy_sources(src: Export, out: Path) -> None:
    """Copy ``build.copy_files`` of the export beside the set as ``source_<file name>``."""
    for rel in src.spec.copy_files:
        (out / f"source_{_basename(rel)}").write_bytes(src.read(rel, "build.copy_files"))


def build_set(git_dir: Path, spec: BuildSpec, out: Path) -> dict[str, Any]:
    """Build the set into the (new or empty) folder ``out``; returns the stats also written to ``_stats.json``."""
    check_commit(git_dir, spec)
    files = list_blobs(git_dir, spec.commit, spec.base)
    stats: dict[str, Any] = {"commit": spec.commit, "names": [], "splits": {}, "dedup_dropped": 0}
    stats.update(polygons_converted=0, resized=0, missing_label=0, bad_lines=0)
    out.mkdir(parents=True, exist_ok=True)
    with BlobReader(git_dir) as blobs:
        src = Export(spec, files, blobs)
        names = stats["names"] = class_names(src)
        chosen = select(files, spec, stats)
        for split in ("train", "val"):
            write_split(split, chosen[split], src, out, names, stats)
        data = {"train": "images/train", "val": "images/val", "nc": len(names), "names": names}
        with (out / "data.yaml").open("w", encoding="utf-8") as fh:
            yaml.safe_dump(data, fh, sort_keys=False, allow_unicode=True)
        copy_sources(src, out)
    # key order as in the stats of the original assembly
    order = ["commit", "names", "splits", "dedup_dropped", "polygons_converted", "resized", "missing_label"]
    order += ["bad_lines", "val_dropped_in_train", "groups", "capped"]
    stats = {k: stats[k] for k in order if k in stats}
    (out / "_stats.json").write_text(json.dumps(stats, indent=1), encoding="utf-8")
    return stats


def count_mismatches(spec: BuildSpec, stats: dict[str, Any]) -> list[str]:
    """Differences between the built images/boxes/empty counts and the manifest's ``counts``."""
    out: list[str] = []
    for split, built in stats["splits"].items():
        want = spec.counts.get(split) or {}
        for key in ("images", "boxes", "empty_label_images"):
            if key in want and want[key] != built[key]:
                out.append(f"{split}.{key}: built {built[key]}, manifest {want[key]}")
    return out
