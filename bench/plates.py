"""Plate-reading benchmark: the fast path (plate detector) beside today's text path, on the same images.

``python -m bench.plates`` reads every image of each set in ``../shared/data/plates/*/`` (``labels.csv``
per set, see the data README) with each reader, one image after the other (so both see the same machine
load): no plate box is given, the reader must find the plate. Readers:

* ``fast``: the plate detector finds the plate; text is detected and read on the plate crop only
  (``PlateReader(mode="fast", fallback=False)``, what the workers run for every passing vehicle);
* ``fast+fb``: the same, with the whole-image text detection run as well when the fast path finds no plate
  or reads below 0.5 confidence (what the workers run for violators);
* ``text``: today's path: text detection over the whole image, every line read (``mode="text"``), on
  onnxruntime as before;
* ``text-ov``: the same text path on OpenVINO (what ``mode="text"`` and the fallback run on now).

A read is exact when the first (best) reading equals the ground truth (upper-case letters and digits
only). ``--vehicle-crops`` gives each reader what a worker gives it: the largest vehicle box of the shipped
vehicle detector, cropped (the photo itself when it finds none). ``--box`` gives the ground-truth box as
a hint instead (reading only). ms per vehicle is wall time per read; the ratio line is text / fast.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from config.settings import REPO_ROOT
from core.anpr import normalise_plate_text

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "plates"
READERS = ("fast", "fast+fb", "text", "text-ov")


@dataclass
class Tally:
    """Figures of one reader on one set."""

    images: int = 0
    exact: int = 0
    top3: int = 0
    found: int = 0
    seconds: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    paths: Counter[str] = field(default_factory=Counter)

    @property
    def exact_rate(self) -> float:
        return self.exact / self.images if self.images else 0.0

    @property
    def ms_mean(self) -> float:
        return 1000 * float(np.mean(self.seconds)) if self.seconds else 0.0

    @property
    def ms_p50(self) -> float:
        return 1000 * float(np.median(self.seconds)) if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "images": self.images,
            "exact": self.exact,
            "exact_rate": round(self.exact_rate, 4),
            "top3": self.top3,
            "found": self.found,
            "ms_per_vehicle": round(self.ms_mean, 1),
            "ms_p50": round(self.ms_p50, 1),
            "cpu_ms_per_vehicle": round(1000 * self.cpu_s / max(self.images, 1), 1),
            "answer_paths": dict(self.paths),
        }


def make_readers(names: list[str]) -> dict[str, Any]:
    """The readers compared, sharing one OCR engine (and one plate detector)."""
    from vision.plates import OcrEngine, PlateReader, get_engine

    engine = get_engine()
    out: dict[str, Any] = {}
    for name in names:
        if name == "fast":
            out[name] = PlateReader(engine=engine, mode="fast", fallback=False)
        elif name == "fast+fb":
            out[name] = PlateReader(engine=engine, mode="fast", fallback=True)
        elif name == "text-ov":
            out[name] = PlateReader(engine=engine, mode="text")
        else:
            out[name] = PlateReader(engine=OcrEngine(runtime="onnxruntime"), mode="text")
    return out


def vehicle_crop(detector: Any, image: np.ndarray) -> np.ndarray:
    """The largest vehicle of the shipped detector, cropped with a 5 % margin (the image when none)."""
    dets = [d for d in detector.detect(image) if d.label != "person"]
    if not dets:
        return image
    x, y, w, h = max(dets, key=lambda d: d.box[2] * d.box[3]).box
    H, W = image.shape[:2]
    x0, y0 = max(0, int(x - 0.05 * w)), max(0, int(y - 0.05 * h))
    x1, y1 = min(W, int(x + 1.05 * w)), min(H, int(y + 1.05 * h))
    return image[y0:y1, x0:x1]


def run_set(
    readers: dict[str, Any], folder: Path, use_box: bool, detector: Any | None, verbose: bool
) -> dict[str, Tally]:
    """Every labelled image of one set through every reader; returns each reader's figures."""
    rows = list(csv.DictReader((folder / "labels.csv").open(encoding="utf-8")))
    tallies = {name: Tally() for name in readers}
    for i, row in enumerate(rows, 1):
        img = cv2.imread(str(folder / row["image"]), cv2.IMREAD_COLOR)
        if img is None:
            print(f"  cannot read {row['image']}", file=sys.stderr)
            continue
        truth = normalise_plate_text(row["plate_text"])
        hint = tuple(float(row[k]) for k in ("x", "y", "w", "h")) if use_box else None
        if detector is not None and hint is None:
            img = vehicle_crop(detector, img)
        marks = []
        order = list(readers.items())
        k = i % len(order)  # each reader goes first on every len(readers)-th image: first-call costs are shared
        for name, reader in order[k:] + order[:k]:
            before = Counter(reader.counts)
            t0, c0 = time.perf_counter(), time.process_time()
            plates = reader.read(img, box_hint=hint)
            t = tallies[name]
            t.seconds.append(time.perf_counter() - t0)
            t.cpu_s += time.process_time() - c0
            t.paths.update(Counter(reader.counts) - before)
            texts = [p.text for p in plates]
            ok = bool(texts) and texts[0] == truth
            t.images += 1
            t.exact += ok
            t.top3 += truth in texts[:3]
            t.found += bool(texts)
            marks.append(f"{name}={'ok' if ok else texts[:1]}")
        if verbose:
            print(f"  {row['image']:52s} truth={truth:10s} " + " ".join(marks), file=sys.stderr)
        else:
            print(f"\r  {folder.name}: {i}/{len(rows)}", end="", file=sys.stderr, flush=True)
    if not verbose:
        print(file=sys.stderr)
    return tallies


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.plates", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="folder of plate sets (default ../shared/data/plates)"
    )
    ap.add_argument("--set", action="append", dest="sets", help="only this set (repeatable), e.g. openalpr_endtoend")
    ap.add_argument(
        "--readers",
        default=",".join(READERS),
        help=f"comma-separated readers to compare (default: {','.join(READERS)})",
    )
    ap.add_argument("--box", action="store_true", help="give the ground-truth plate box as a hint (reading only)")
    ap.add_argument(
        "--vehicle-crops",
        action="store_true",
        help="read the largest vehicle crop of the vehicle detector, as workers do",
    )
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    ap.add_argument("-v", "--verbose", action="store_true", help="per-image results on stderr (shows plate texts)")
    args = ap.parse_args(argv)
    names = [n.strip() for n in args.readers.split(",") if n.strip()]
    unknown = sorted(set(names) - set(READERS))
    if unknown or not names:
        ap.error(f"unknown readers {unknown} (known: {', '.join(READERS)})")
    if not args.data.is_dir():
        print(f"plate data not available: {args.data}", file=sys.stderr)
        return 2
    folders = sorted(p for p in args.data.iterdir() if (p / "labels.csv").is_file())
    if args.sets:
        folders = [f for f in folders if f.name in args.sets]
    if not folders:
        print(f"no plate sets (labels.csv) under {args.data}", file=sys.stderr)
        return 2

    readers = make_readers(names)
    t0 = time.perf_counter()
    for r in readers.values():
        r.engine.load()
    finder = next((r.finder for r in readers.values() if r.mode == "fast"), None)
    load_s = time.perf_counter() - t0
    detector = None
    if args.vehicle_crops:
        from config.settings import DetectorConfig
        from vision.detector import build_detector

        detector = build_detector(DetectorConfig(kind="yolo"))
    warm = np.full((240, 320, 3), 127, np.uint8)
    for r in readers.values():  # first calls compile per-shape kernels: keep them out of the figures
        r.read(warm)
        r.counts.clear()
    results = {f.name: run_set(readers, f, args.box, detector, args.verbose) for f in folders}
    mode = "ground-truth box given" if args.box else ("vehicle crops" if detector else "end to end (no box)")
    finder_desc = f"{finder.precision} at {finder.imgsz} px" if finder is not None else "not loaded"
    if args.json:
        print(
            json.dumps(
                {
                    "mode": mode,
                    "plate_detector": finder_desc,
                    "model_load_s": round(load_s, 2),
                    "sets": {s: {n: t.as_dict() for n, t in tallies.items()} for s, tallies in results.items()},
                }
            )
        )
        return 0
    print(f"Plate reading, {mode}; plate detector {finder_desc}; models loaded in {load_s:.1f} s")
    print(
        f"{'set':20s} {'reader':8s} {'images':>6s} {'exact':>6s} {'rate':>7s} {'top-3':>6s} {'found':>6s}"
        f" {'ms/veh':>7s} {'p50':>6s} {'cpu ms':>7s}  answers from"
    )
    for s, tallies in results.items():
        for n, t in tallies.items():
            paths = ", ".join(f"{k} {v}" for k, v in sorted(t.paths.items()))
            print(
                f"{s:20s} {n:8s} {t.images:6d} {t.exact:6d} {100 * t.exact_rate:6.1f}% {t.top3:6d} {t.found:6d}"
                f" {t.ms_mean:7.0f} {t.ms_p50:6.0f} {1000 * t.cpu_s / max(t.images, 1):7.0f}  {paths}"
            )
        if "fast" in tallies and "text" in tallies and tallies["fast"].ms_mean > 0:
            ratio = tallies["text"].ms_mean / tallies["fast"].ms_mean
            print(f"{s:20s} speed-up text/fast: {ratio:.1f}x per vehicle (mean wall time, same images, same run)")
    print("ms/veh: mean wall time per read; p50: median; cpu ms: CPU time of this process per read (all threads)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
