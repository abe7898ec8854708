"""Detect road users in still images: ``python -m vision.detect_cli PATH... [--json]``.

PATH is an image or a folder (searched recursively for .jpg/.jpeg/.png/.bmp/.webp,
in sorted order). With ``--json`` prints one JSON object per image::

    {"image": "path", "width": W, "height": H,
     "detections": [{"label": "car", "confidence": 0.87, "box": [x, y, w, h]}]}

with boxes in pixels of the file and labels from car, bus, truck, van, motorcycle,
bicycle, rickshaw, person. Without ``--json`` a short table per image is printed.

The detector is YOLO: the shipped ``models/vehicles.pt`` unless ``--weights`` names
another local file, on the fastest CPU runtime measured at start-up (OpenVINO or
onnxruntime, as the workers run it; ``--runtime ultralytics`` for the PyTorch reference)
at the size the model was trained at (``--imgsz`` to override). ``--detector motion`` treats the images, in the order given,
as consecutive frames of one fixed camera (background subtraction needs a
sequence; the first frames only train it): it is meant for folders of frames,
not for unrelated photos. Images that cannot be read are reported on stderr and
the exit status is 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2

from config.settings import DetectorConfig
from vision.detectors.base import SHIPPED_WEIGHTS, Detector, DetectorError
from vision.detectors.factory import build_detector
from vision.detectors.motion import MotionDetector
from vision.runtimes import PRECISIONS

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})


def iter_images(paths: Sequence[Path]) -> Iterator[Path]:
    """Expand files and folders into image files (folders recursively, sorted).

    Args:
        paths: Files or folders.

    Yields:
        Image paths, files given explicitly first in the order given.
    """
    for p in paths:
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield p


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m vision.detect_cli", description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="image file or folder")
    p.add_argument("--json", action="store_true", help="one JSON object per image on stdout")
    p.add_argument("--detector", choices=("yolo", "motion"), default="yolo", help="default yolo")
    p.add_argument("--weights", type=Path, help=f"YOLO weights (.pt/.onnx/OpenVINO dir); default {SHIPPED_WEIGHTS}")
    p.add_argument("--conf", type=float, default=0.25, help="minimum confidence (default 0.25)")
    p.add_argument("--iou", type=float, default=0.5, help="NMS IoU (default 0.5)")
    p.add_argument(
        "--per-class-nms",
        action="store_true",
        help="suppress overlapping boxes only within a class, as ultralytics (default: across classes, one per vehicle)",
    )
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="yolo on OpenVINO/onnxruntime (default auto: the int8 model beside the weights when there is one)",
    )
    p.add_argument(
        "--imgsz", type=int, default=None, help="inference size (default: the size the model was trained at)"
    )
    p.add_argument(
        "--runtime",
        choices=("auto", "openvino", "onnxruntime", "ultralytics"),
        default="auto",
        help="yolo runtime (default auto: the fastest measured at start-up)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    missing = [p for p in args.paths if not p.exists()]
    if missing:
        print(f"error: not found: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    detector: Detector
    try:
        if args.detector == "motion":
            if args.weights is not None:
                raise DetectorError("--weights is for the yolo detector")
            detector = MotionDetector()
            print(
                "note: motion detection treats the images as consecutive frames of one fixed camera; "
                f"the first {detector.warmup_frames} only train the background",
                file=sys.stderr,
            )
        else:
            cfg = DetectorConfig(
                kind="yolo",
                weights=args.weights,
                conf=args.conf,
                iou=args.iou,
                agnostic_nms=not args.per_class_nms,
                precision=args.precision,
                imgsz=args.imgsz,
                runtime=args.runtime,
                motion_gate=False,  # unrelated stills: every image goes through the model
            )
            detector = build_detector(cfg)
    except (DetectorError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    images = list(iter_images(args.paths))
    if not images:
        print("error: no images found", file=sys.stderr)
        return 2
    failed = 0
    t0 = last = time.monotonic()
    for n, path in enumerate(images, 1):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            failed += 1
            print(f"error: cannot read image {path}", file=sys.stderr)
            continue
        dets = detector.detect(image)
        h, w = image.shape[:2]
        if args.json:
            row = {
                "image": str(path),
                "width": w,
                "height": h,
                "detections": [
                    {
                        "label": d.label,
                        "confidence": round(float(d.confidence), 4),
                        "box": [round(float(v), 1) for v in d.box],
                    }
                    for d in dets
                ],
            }
            sys.stdout.write(json.dumps(row) + "\n")
        else:
            print(f"{path} ({w}x{h}): {len(dets)} detection(s)")
            for d in dets:
                x, y, bw, bh = d.box
                print(f"  {d.label:<10} {d.confidence:.2f}  x={x:.0f} y={y:.0f} w={bw:.0f} h={bh:.0f}")
        now = time.monotonic()
        if now - last >= 2.0:
            last = now
            print(f"  {n}/{len(images)} images, {n / (now - t0):.1f}/s", file=sys.stderr)
    sys.stdout.flush()
    print(
        f"done: {len(images) - failed} image(s) in {time.monotonic() - t0:.1f} s, {failed} unreadable", file=sys.stderr
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
