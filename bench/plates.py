"""Plate-reading benchmark: exact-read rate and time per image on ../shared/data/plates.

``python -m bench.plates`` reads every image of each set in ``../shared/data/plates/*/``
(``labels.csv`` per set, see the data README) end to end: no plate box is given, the
reader must find the plate. A read is exact when the first (best) reading equals the
ground truth (both upper-case letters and digits only). Also printed: exact within the
top 3 readings, and with ``--box`` the rate when the ground-truth box is given as a hint.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2

from config.settings import REPO_ROOT
from core.anpr import normalise_plate_text

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "plates"


@dataclass(frozen=True)
class SetResult:
    """Figures for one image set."""

    name: str
    images: int
    exact: int
    top3: int
    found: int
    ms_per_image: float
    cpu_ms_per_image: float

    @property
    def exact_rate(self) -> float:
        return self.exact / self.images if self.images else 0.0


def run_set(reader: object, folder: Path, use_box: bool = False, verbose: bool = False) -> SetResult:
    """Read every labelled image of one set; returns its figures."""
    from vision.plates import PlateReader

    assert isinstance(reader, PlateReader)
    rows = list(csv.DictReader((folder / "labels.csv").open(encoding="utf-8")))
    exact = top3 = found = 0
    total_s = cpu_s = 0.0
    for i, row in enumerate(rows, 1):
        img = cv2.imread(str(folder / row["image"]), cv2.IMREAD_COLOR)
        if img is None:
            print(f"  cannot read {row['image']}", file=sys.stderr)
            continue
        truth = normalise_plate_text(row["plate_text"])
        hint = tuple(float(row[k]) for k in ("x", "y", "w", "h")) if use_box else None
        t0, c0 = time.perf_counter(), time.process_time()
        plates = reader.read(img, box_hint=hint)  # type: ignore[arg-type]
        total_s += time.perf_counter() - t0
        cpu_s += time.process_time() - c0
        texts = [p.text for p in plates]
        ok = bool(texts) and texts[0] == truth
        exact += ok
        top3 += truth in texts[:3]
        found += bool(texts)
        if verbose:
            mark = "ok " if ok else "BAD"
            print(f"  {mark} {row['image']:60s} truth={truth:10s} read={texts}", file=sys.stderr)
        else:
            print(f"\r  {folder.name}: {i}/{len(rows)}", end="", file=sys.stderr, flush=True)
    if not verbose:
        print(file=sys.stderr)
    n = len(rows)
    return SetResult(
        folder.name, n, exact, top3, found, 1000 * total_s / n if n else 0.0, 1000 * cpu_s / n if n else 0.0
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.plates", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="folder of plate sets (default ../shared/data/plates)"
    )
    ap.add_argument("--set", action="append", dest="sets", help="only this set (repeatable), e.g. openalpr_endtoend")
    ap.add_argument("--box", action="store_true", help="give the ground-truth plate box as a hint (reading only)")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    ap.add_argument("-v", "--verbose", action="store_true", help="per-image results on stderr (shows plate texts)")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"plate data not available: {args.data}", file=sys.stderr)
        return 2
    folders = sorted(p for p in args.data.iterdir() if (p / "labels.csv").is_file())
    if args.sets:
        folders = [f for f in folders if f.name in args.sets]
    if not folders:
        print(f"no plate sets (labels.csv) under {args.data}", file=sys.stderr)
        return 2

    from vision.plates import PlateReader

    reader = PlateReader()
    t0 = time.perf_counter()
    reader.engine.load()
    load_s = time.perf_counter() - t0
    results = [run_set(reader, f, use_box=args.box, verbose=args.verbose) for f in folders]
    mode = "ground-truth box given" if args.box else "end to end (no box)"
    if args.json:
        print(
            json.dumps(
                {
                    "mode": mode,
                    "model_load_s": round(load_s, 2),
                    "sets": [
                        {
                            "set": r.name,
                            "images": r.images,
                            "exact": r.exact,
                            "exact_rate": round(r.exact_rate, 4),
                            "top3": r.top3,
                            "found": r.found,
                            "ms_per_image": round(r.ms_per_image, 1),
                            "cpu_ms_per_image": round(r.cpu_ms_per_image, 1),
                        }
                        for r in results
                    ],
                }
            )
        )
        return 0
    print(f"Plate reading, {mode}; models loaded in {load_s:.1f} s")
    print(
        f"{'set':22s} {'images':>6s} {'exact':>6s} {'rate':>7s} {'top-3':>6s} {'found':>6s} {'ms/img':>8s} {'cpu ms/img':>10s}"
    )
    for r in results:
        print(
            f"{r.name:22s} {r.images:6d} {r.exact:6d} {100 * r.exact_rate:6.1f}% {r.top3:6d} {r.found:6d}"
            f" {r.ms_per_image:8.0f} {r.cpu_ms_per_image:10.0f}"
        )
    print("ms/img: wall clock per image; cpu ms/img: CPU time of this process per image (all threads)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
