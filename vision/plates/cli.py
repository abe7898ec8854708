"""``python -m vision.plates PATH... --json``: read the plates in images."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2

from vision.plates.reader import PlateReader, load_formats


def _iter_images(paths: Sequence[str]) -> list[Path]:
    exts = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.suffix.lower() in exts)
        else:
            out.append(p)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m vision.plates PATH... --json``: read the plates in images."""
    ap = argparse.ArgumentParser(
        prog="python -m vision.plates", description="Read number plates in images (offline ANPR)."
    )
    ap.add_argument("paths", nargs="+", help="image files or folders")
    ap.add_argument("--json", action="store_true", help="one JSON line per image on stdout")
    ap.add_argument("--top", type=int, default=3, help="most readings per image (default 3)")
    ap.add_argument("--formats", type=Path, default=None, help="plate layouts YAML (default config/plate_formats.yaml)")
    ap.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr (shows plate texts)")
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        reader = PlateReader(formats=load_formats(args.formats))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    images = _iter_images(args.paths)
    failures = 0
    for i, path in enumerate(images, 1):
        t0 = time.perf_counter()
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            failures += 1
            print(f"[{i}/{len(images)}] {path}: cannot read image", file=sys.stderr)
            rec: dict[str, Any] = {"image": str(path), "plates": [], "error": "cannot read image"}
        else:
            plates = reader.read(img, top=args.top)
            rec = {
                "image": str(path),
                "plates": [
                    {"text": p.text, "confidence": p.confidence, "box": [round(v, 1) for v in p.box]} for p in plates
                ],
            }
            print(
                f"[{i}/{len(images)}] {path}: {len(plates)} plate(s), {1000 * (time.perf_counter() - t0):.0f} ms",
                file=sys.stderr,
            )
        if args.json:
            print(json.dumps(rec), flush=True)
        else:
            texts = ", ".join(f"{p['text']} ({p['confidence']:.2f})" for p in rec["plates"]) or "-"
            print(f"{path}: {texts}", flush=True)
    return 1 if failures and failures == len(images) else 0
