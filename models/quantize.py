"""Quantize a YOLO vehicle detector to int8 for OpenVINO (post-training, NNCF), offline.

``python -m models.quantize`` turns ``models/vehicles.pt`` into ``models/vehicles_int8_openvino_model/``:
the model's dynamic-shape ONNX export (:func:`vision.detector.export_onnx`) read by OpenVINO,
calibrated on images of the **train** splits of ``../shared/data/train`` (never the val splits or
the dev media the model is scored on), and quantized by NNCF: convolutions and their inputs in
int8 (VNNI on CPUs that have it), with every ``Multiply``, ``Subtract`` and ``Sigmoid`` kept in
float. Those are the SiLU activations and the box decoding of the head; quantizing them too was
measured no faster than bf16 here (the extra quantize/dequantize steps cost what the int8
arithmetic saves) and moves the boxes.

The directory holds ``<stem>.xml``/``.bin`` and a ``metadata.yaml`` with the float export's
ultralytics metadata (class names, stride, size) plus ``quantization``: how it was made and the
digest of the weights it came from. Detectors on OpenVINO use it by default (``precision: auto``)
only while that digest matches the weights (see :func:`vision.detector.int8_model_for`); after
retraining, run this again (``python -m models.train`` does it after its export).

Scores and speed of the result::

    python -m models.evaluate --runtime openvino --precision int8
    python -m bench.detector

Other weights (a site's own fine-tune, or COCO ``yolo11n.pt`` copied in) with no labelled data:
calibrate on the site's own footage, ``python -m models.quantize --weights site.pt --from recordings/``.
"""

from __future__ import annotations

import argparse
import ast
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from models.dataset import DEFAULT_DATA_ROOT, IMAGE_SUFFIXES, available_sources, source_dir
from vision.detector import SHIPPED_WEIGHTS, export_onnx, file_digest, int8_model_dir
from vision.runtimes import NCHW_F32, Letterbox, read_model_info

#: Operation types kept in float (see the module docstring).
KEEP_FLOAT_TYPES: tuple[str, ...] = ("Multiply", "Subtract", "Sigmoid")

#: Calibration images used by default: enough for stable activation ranges (270 and all 1,341 train
#: images gave the same scores within a box or two), about 20 s of statistics on 2 cores.
DEFAULT_IMAGES = 300


class QuantizeError(Exception):
    """The model cannot be quantized (missing tools, weights or calibration images)."""


def log(msg: str) -> None:
    print(f"[models.quantize] {msg}", file=sys.stderr, flush=True)


def calibration_images(
    train_root: Path, count: int = DEFAULT_IMAGES, sources: Sequence[str] | None = None
) -> list[Path]:
    """About ``count`` images spread evenly over the train splits of the source sets.

    Each set gives a share in proportion to its size, evenly spaced in name order from its
    first file to its last (the km39 set is video frames in time order, so this spreads over
    the whole clip).

    Args:
        train_root: Folder of the shared labelled sets.
        count: Images wanted.
        sources: Sets to draw from (default: the sets trained on, :func:`models.dataset.available_sources`:
            the shared ones and the extra ones present).

    Raises:
        QuantizeError: no training images under ``train_root``.
    """
    names = tuple(sources) if sources is not None else available_sources(train_root)
    per_set: dict[str, list[Path]] = {}
    for source in names:
        folder = source_dir(train_root, source) / "images" / "train"
        if folder.is_dir():
            per_set[source] = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    total = sum(len(v) for v in per_set.values())
    if total == 0:
        raise QuantizeError(f"no training images under {train_root}/<set>/images/train (sets: {', '.join(names)})")
    out: list[Path] = []
    for files in per_set.values():
        share = min(len(files), max(1, round(count * len(files) / total)))
        picks = np.unique(np.round(np.linspace(0, len(files) - 1, share)).astype(int))
        out.extend(files[int(i)] for i in picks)
    return out


VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".m4v", ".ts", ".webm")


def media_files(paths: Sequence[Path], count: int = DEFAULT_IMAGES) -> list[Path]:
    """Calibration media from files and folders: images (at most ``count``, spread evenly) and videos.

    A site without labelled data calibrates on its own cameras: a few recorded clips or saved
    frames are enough (post-training quantization needs no labels).

    Raises:
        QuantizeError: a path does not exist, or no image or video is found.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES))
        elif path.is_file():
            files.append(path)
        else:
            raise QuantizeError(f"calibration media not found: {path}")
    images = [p for p in files if p.suffix.lower() not in VIDEO_SUFFIXES]
    videos = [p for p in files if p.suffix.lower() in VIDEO_SUFFIXES]
    if not images and not videos:
        raise QuantizeError(f"no images or videos in {', '.join(map(str, paths))}")
    if len(images) > count:
        step = len(images) / count
        images = [images[int(i * step)] for i in range(count)]
    return images + videos


def video_frames(path: Path, count: int) -> list[np.ndarray]:
    """``count`` frames spread evenly over a video (fewer when it is shorter or ends early)."""
    cap = cv2.VideoCapture(str(path))
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or count
    wanted = {int(i * total / count) for i in range(count)} if total > count else set(range(total))
    frames: list[np.ndarray] = []
    index = 0
    while len(frames) < len(wanted):
        ok = cap.grab()
        if not ok:
            break
        if index in wanted:
            ok, frame = cap.retrieve()
            if ok and frame is not None:
                frames.append(frame)
        index += 1
    cap.release()
    return frames


def _parse_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def export_metadata(onnx_path: Path) -> dict[str, Any]:
    """The ultralytics metadata of an ONNX export, as the values it stands for (names as a dict, ...)."""
    import onnx

    proto = onnx.load(str(onnx_path), load_external_data=False)
    return {p.key: _parse_value(p.value) for p in proto.metadata_props}


def calibration_batches(
    images: Sequence[Path], letterbox: Letterbox, frames_per_video: int, progress: Callable[[str], None]
) -> tuple[list[np.ndarray], Counter[str], int]:
    """Letterboxed calibration frames of ``images`` (videos: ``frames_per_video`` frames each).

    Returns:
        (one batch per frame, frames per set or video name, number of unreadable files).
    """
    batches: list[np.ndarray] = []
    sets: Counter[str] = Counter()
    unreadable = 0
    for i, path in enumerate(images, 1):
        if path.suffix.lower() in VIDEO_SUFFIXES:
            frames, group = video_frames(path, frames_per_video), path.name
        else:
            image = cv2.imread(str(path))
            frames = [] if image is None else [image]
            group = path.parents[2].name if len(path.parents) > 2 else path.parent.name  # <set>/images/train/x.jpg
        if not frames:
            unreadable += 1
        for frame in frames:
            batch, _ = letterbox([frame])
            batches.append(batch.copy())  # the letterbox buffer is reused
            sets[group] += 1
        if i % 100 == 0 or i == len(images):
            progress(f"calibration media: {i}/{len(images)} read, {len(batches)} frames")
    return batches, sets, unreadable


def int8_metadata(
    onnx_path: Path, weights: Path, n_frames: int, sets: Counter[str], nncf_version: str, ov_version: str
) -> dict[str, Any]:
    """The export's metadata, marked int8, with how the model was quantized (tied to ``weights`` by digest)."""
    meta = export_metadata(onnx_path)
    meta["description"] = f"{meta.get('description', 'YOLO detector')} (int8, OpenVINO)"
    meta["quantization"] = {
        "method": "NNCF post-training quantization, MIXED preset (symmetric weights, asymmetric activations)",
        "kept_float": list(KEEP_FLOAT_TYPES),
        "source": weights.name,
        "source_sha256": file_digest(weights),
        "calibration_images": n_frames,
        "calibration_sets": dict(sorted(sets.items())),
        "nncf": nncf_version,
        "openvino": ov_version,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return meta


def save_model(quantized: Any, meta: dict[str, Any], out_dir: Path, stem: str) -> None:
    """Write ``<stem>.xml`` and ``metadata.yaml`` into a temporary directory, then swap it in as ``out_dir``."""
    import openvino as ov

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out_dir.name}-", dir=out_dir.parent) as tmp:
        staged = Path(tmp) / out_dir.name
        staged.mkdir()
        ov.save_model(quantized, str(staged / f"{stem}.xml"), compress_to_fp16=False)
        (staged / "metadata.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
        if out_dir.exists():
            old = Path(tmp) / "old"
            out_dir.rename(old)
        staged.rename(out_dir)


def quantize(
    weights: Path,
    images: Sequence[Path],
    out_dir: Path | None = None,
    progress: Callable[[str], None] = log,
    frames_per_video: int = 30,
) -> Path:
    """Quantize ``weights`` to an int8 OpenVINO model calibrated on ``images``.

    Args:
        weights: ``.pt`` weights (exported to ONNX first, cached) or an ``.onnx`` export.
        images: Calibration images (files OpenCV reads; unreadable ones are skipped and counted)
            and videos (:data:`VIDEO_SUFFIXES`: ``frames_per_video`` frames each, spread evenly).
        out_dir: Output directory (default :func:`vision.detector.int8_model_dir` of the weights).
            Written to a temporary directory first and swapped in when complete.
        progress: Where progress lines go.

    Returns:
        The output directory.

    Raises:
        QuantizeError: NNCF missing, weights missing, or no readable calibration image.
    """
    try:
        import nncf
        import openvino as ov
    except ImportError as e:
        raise QuantizeError(f"quantization needs nncf and openvino (pip install -r requirements.txt): {e}") from e
    weights = weights.resolve()
    if not weights.is_file():
        raise QuantizeError(f"weights not found: {weights}")
    out_dir = (out_dir or int8_model_dir(weights)).resolve()
    onnx_path = export_onnx(weights) if weights.suffix.lower() == ".pt" else weights
    info = read_model_info(onnx_path)
    letterbox = Letterbox(max(info.imgsz), info.stride, layout=NCHW_F32)
    batches, sets, unreadable = calibration_batches(images, letterbox, frames_per_video, progress)
    if not batches:
        raise QuantizeError(f"none of the {len(images)} calibration files could be read")
    progress(f"quantizing {onnx_path.name} on {len(batches)} frames ({unreadable} unreadable files)")
    t0 = time.perf_counter()
    model = ov.Core().read_model(str(onnx_path))
    quantized = nncf.quantize(
        model,
        nncf.Dataset(batches),
        preset=nncf.QuantizationPreset.MIXED,
        subset_size=len(batches),
        ignored_scope=nncf.IgnoredScope(types=list(KEEP_FLOAT_TYPES), validate=False),
    )
    seconds = time.perf_counter() - t0
    meta = int8_metadata(onnx_path, weights, len(batches), sets, str(nncf.__version__), str(ov.__version__))
    save_model(quantized, meta, out_dir, weights.stem)
    size = sum(f.stat().st_size for f in out_dir.iterdir()) / 1e6
    progress(f"wrote {out_dir} ({size:.1f} MB) in {seconds:.0f} s")
    return out_dir


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m models.quantize",
        description="Quantize a YOLO detector to int8 for OpenVINO, calibrated on the training images (offline).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--weights", type=Path, default=SHIPPED_WEIGHTS, help=".pt weights (or their .onnx export)")
    p.add_argument(
        "--train-root", type=Path, default=DEFAULT_DATA_ROOT, help="labelled sets; their train splits calibrate"
    )
    p.add_argument("--images", type=int, default=DEFAULT_IMAGES, help="calibration frames in all")
    p.add_argument(
        "--from",
        dest="media",
        type=Path,
        nargs="+",
        default=None,
        help="calibrate on these images, folders or videos instead (e.g. recordings of the site's own cameras; "
        "no labels needed)",
    )
    p.add_argument(
        "--out", type=Path, default=None, help="output dir (default: <weights dir>/<stem>_int8_openvino_model)"
    )
    args = p.parse_args(argv)
    try:
        if args.media:
            files = media_files(args.media, args.images)
            videos = sum(f.suffix.lower() in VIDEO_SUFFIXES for f in files)
            per_video = max(1, (args.images - (len(files) - videos)) // max(videos, 1))
            out = quantize(args.weights, files, args.out, frames_per_video=per_video)
        else:
            out = quantize(args.weights, calibration_images(args.train_root, args.images), args.out)
    except QuantizeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if out == int8_model_dir(args.weights.resolve()):
        log(
            f"used by default on OpenVINO for {args.weights}; score it: python -m models.evaluate --weights {args.weights} --runtime openvino --precision int8"
        )
    else:
        log(
            f"not beside the weights: point detector.weights at {out}; score it: python -m models.evaluate --weights {out} --runtime openvino"
        )
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
