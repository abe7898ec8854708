"""Track vehicles through a video file: ``python -m vision.track_cli VIDEO [--json] ...``.

With ``--json`` prints one JSON object per analysed frame::

    {"frame": i, "vehicles": [{"track_id": 3, "label": "car", "confidence": 0.81, "box": [x, y, w, h]}]}

(``frame`` is the 0-based index in OpenCV read order; boxes in pixels of the video),
then one summary line::

    {"summary": {"frames": n, "unique_vehicles": k, "by_label": {"car": 7, ...}}}

``frames`` is the number of analysed frames, ``unique_vehicles`` the number of
distinct vehicle track ids, ``by_label`` those tracks per label (a track's label is
its confidence-weighted majority label). Pedestrians are tracked but not listed.
With ``--line ID:X1,Y1,X2,Y2`` (repeatable) the summary also holds ``counts``:
crossings per ``"<id>:<forward|backward>"``. Progress goes to stderr.

Default detector: YOLO with the shipped ``models/vehicles.pt`` when it exists
(or with ``--weights``), else the motion detector. YOLO runs as in the workers: on the
fastest CPU runtime measured at start-up, at the model's training size, on every
analysed frame (``--motion-gate`` runs it only on frames with motion, as the workers do
by default; ``--runtime ultralytics`` is the PyTorch reference).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Literal

import cv2

from config.settings import CameraConfig, DetectorConfig, FileSource, LineConfig
from core.counting import VEHICLE_LABELS
from core.types import Frame, Track
from vision.detectors.base import SHIPPED_WEIGHTS, Detector, DetectorError
from vision.detectors.factory import build_detector
from vision.pipeline import CameraPipeline
from vision.tiling import parse_tiles

#: Camera id of the video file in the pipeline's config and frames.
CAMERA_ID = "cli"


def _parse_line(spec: str) -> LineConfig:
    try:
        line_id, coords = spec.split(":", 1)
        x1, y1, x2, y2 = (float(v) for v in coords.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad --line {spec!r}; expected ID:X1,Y1,X2,Y2") from None
    return LineConfig(id=line_id, a=(x1, y1), b=(x2, y2))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m vision.track_cli", description=__doc__.split("\n\n")[0])
    p.add_argument("video", type=Path, help="video file OpenCV can read")
    p.add_argument("--json", action="store_true", help="JSON lines per analysed frame, then a summary line")
    p.add_argument("--detector", choices=("motion", "yolo"), help="default: yolo if weights are available, else motion")
    p.add_argument("--weights", type=Path, help=f"YOLO weights (.pt/.onnx/OpenVINO dir); default {SHIPPED_WEIGHTS}")
    p.add_argument("--conf", type=float, default=0.3, help="YOLO confidence threshold (default 0.3)")
    p.add_argument("--imgsz", type=int, default=None, help="YOLO inference size (default: the model's training size)")
    p.add_argument(
        "--runtime",
        choices=("auto", "openvino", "onnxruntime", "ultralytics"),
        default="auto",
        help="YOLO runtime (default auto: the fastest measured at start-up)",
    )
    p.add_argument(
        "--motion-gate", action="store_true", help="YOLO only on frames where the motion detector sees change"
    )
    p.add_argument(
        "--tiles",
        type=parse_tiles,
        default=None,
        help="YOLO on overlapping tiles + the whole frame, e.g. 2x2 (far vehicles)",
    )
    p.add_argument("--min-area", type=int, default=150, help="motion detector: smallest blob, pixels (default 150)")
    p.add_argument("--stride", type=int, default=1, help="analyse every Nth frame (default 1 = all)")
    p.add_argument("--max-frames", type=int, default=None, help="stop after this many frames read")
    p.add_argument("--line", action="append", type=_parse_line, default=[], help="counting line ID:X1,Y1,X2,Y2")
    return p


def _choose_detector(args: argparse.Namespace) -> DetectorConfig:
    kind: Literal["motion", "yolo"] = args.detector or (
        "yolo" if args.weights is not None or SHIPPED_WEIGHTS.exists() else "motion"
    )
    if kind == "motion" and args.weights is not None:
        raise DetectorError("--weights is for the yolo detector; drop it or use --detector yolo")
    return DetectorConfig(
        kind=kind,
        weights=args.weights,
        conf=args.conf,
        imgsz=args.imgsz,
        min_area_px=args.min_area,
        runtime=args.runtime,
        motion_gate=args.motion_gate,
        tiles=args.tiles,
    )


def _open_video(path: Path) -> tuple[cv2.VideoCapture, float, int] | None:
    """The opened video, its frame rate (25 when unknown or absurd) and frame count; None (reported) if it fails."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        print(f"error: OpenCV cannot open {path}", file=sys.stderr)
        return None
    fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
    if not fps or fps != fps or fps > 1000:
        fps = 25.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    return cap, fps, total


def _camera(args: argparse.Namespace, det_cfg: DetectorConfig, fps: float) -> CameraConfig:
    """A camera for the video file, analysed at ``fps / --stride`` with the ``--line`` counting lines."""
    return CameraConfig(
        id=CAMERA_ID,
        name=args.video.name,
        location=(0.0, 0.0),
        segment="cli",
        source=FileSource(path=args.video, loop=False, realtime=False),
        analysis_fps=min(60.0, fps / args.stride),
        detector=det_cfg,
        lines=tuple(args.line),
    )


def _frame_row(index: int, vehicles: list[Track]) -> dict[str, object]:
    """The JSON line of one analysed frame."""
    return {
        "frame": index,
        "vehicles": [
            {
                "track_id": t.track_id,
                "label": t.label,
                "confidence": round(float(t.confidence), 4),
                "box": [round(float(v), 1) for v in t.box],
            }
            for t in vehicles
        ],
    }


def _track_video(
    args: argparse.Namespace, cap: cv2.VideoCapture, pipeline: CameraPipeline, fps: float, total: int, t0: float
) -> tuple[int, dict[int, str]]:
    """Run the pipeline over every ``--stride``-th frame (JSON lines with ``--json``, progress on stderr).

    Returns:
        (frames analysed, vehicle track id -> its label).
    """
    out = sys.stdout
    index = -1
    analysed = 0
    labels_of: dict[int, str] = {}
    last_report = t0
    while True:
        if args.max_frames is not None and index + 1 >= args.max_frames:
            break
        ok, image = cap.read()
        if not ok:
            break
        index += 1
        if index % args.stride:
            continue
        frame = Frame(camera_id=CAMERA_ID, index=index, ts_ms=int(round(index * 1000.0 / fps)), image=image)
        result = pipeline.process(frame)
        analysed += 1
        vehicles = [t for t in result.tracks if t.label in VEHICLE_LABELS]
        for t in vehicles:
            labels_of[t.track_id] = t.label
        if args.json:
            out.write(json.dumps(_frame_row(index, vehicles)) + "\n")
        now = time.monotonic()
        if now - last_report >= 2.0:
            last_report = now
            rate = analysed / max(now - t0, 1e-6)
            print(
                f"  frame {index + 1}/{total or '?'}  {rate:.1f} frames/s  {len(labels_of)} vehicles", file=sys.stderr
            )
    return analysed, labels_of


def _print_summary(
    args: argparse.Namespace, pipeline: CameraPipeline, analysed: int, labels_of: dict[int, str], t0: float
) -> None:
    """The summary: one JSON line with ``--json``, else plain lines (vehicles per label, crossings)."""
    out = sys.stdout
    by_label: dict[str, int] = {}
    for label in labels_of.values():
        by_label[label] = by_label.get(label, 0) + 1
    summary: dict[str, object] = {
        "frames": analysed,
        "unique_vehicles": len(labels_of),
        "by_label": dict(sorted(by_label.items())),
    }
    if args.line:
        summary["counts"] = pipeline.counts()
    elapsed = time.monotonic() - t0
    print(f"done: {analysed} frames analysed in {elapsed:.1f} s", file=sys.stderr)
    if args.json:
        out.write(json.dumps({"summary": summary}) + "\n")
    else:
        print(f"frames analysed: {analysed}")
        print(f"unique vehicles: {len(labels_of)}")
        for label, n in sorted(by_label.items()):
            print(f"  {label}: {n}")
        for key, n in (pipeline.counts() if args.line else {}).items():
            print(f"crossings {key}: {n}")
    out.flush()


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.stride < 1:
        print("error: --stride must be >= 1", file=sys.stderr)
        return 2
    if not args.video.exists():
        print(f"error: video not found: {args.video}", file=sys.stderr)
        return 2
    detector: Detector
    try:
        det_cfg = _choose_detector(args)
        detector = build_detector(det_cfg)
    except (DetectorError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    opened = _open_video(args.video)
    if opened is None:
        return 2
    cap, fps, total = opened
    camera = _camera(args, det_cfg, fps)
    pipeline = CameraPipeline(camera, detector=detector, frame_rate=fps / args.stride)
    print(
        f"tracking {args.video} ({total or '?'} frames at {fps:g} fps, stride {args.stride}) with "
        f"{det_cfg.kind} detector{' ' + str(getattr(detector, 'weights', '')) if det_cfg.kind == 'yolo' else ''}",
        file=sys.stderr,
    )
    t0 = time.monotonic()
    analysed, labels_of = _track_video(args, cap, pipeline, fps, total, t0)
    cap.release()
    _print_summary(args, pipeline, analysed, labels_of, t0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
