"""Build what a camera's ``detector`` config section asks for, and describe it for operators.

:func:`build_detector` picks the runtime (:mod:`vision.detectors.ultralytics`,
:mod:`vision.detectors.exported`, ``auto`` through :mod:`vision.detectors.autochoice`),
shares one model between cameras (:func:`shared_detector`), tiles it
(:class:`vision.tiling.TiledDetector`) and gates it by motion
(:class:`vision.detectors.gate.MotionGatedDetector`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from config.settings import DetectorConfig, resolve_path
from core.types import Detection
from vision.detectors.autochoice import RuntimeChoice, choose_runtime
from vision.detectors.base import SHIPPED_WEIGHTS, Detector, DetectorError, missing_weights_message
from vision.detectors.export import EXPORT_CACHE
from vision.detectors.exported import DETECTOR_CLASSES, ExportedYoloDetector
from vision.detectors.gate import GATE_WIDTH, MotionGatedDetector
from vision.detectors.motion import MotionDetector
from vision.detectors.ultralytics import YoloDetector
from vision.runtimes import available_runtimes, parse_device
from vision.shared import SharedDetector
from vision.tiling import TiledDetector
from vision.wrapper import WrappedDetector

log = logging.getLogger("vision.detector")  # one logger for every detector module, as before the split


def describe_detector(det: object) -> str:
    """What a camera detects with, in a few words for operators: ``yolo openvino/int8 x1 shared + motion gate``."""
    if isinstance(det, MotionGatedDetector):
        return f"{describe_detector(det.detector)} + motion gate"
    if isinstance(det, TiledDetector):
        whole = " + whole frame" if det.full_frame else ""
        return f"{describe_detector(det.detector)} tiled {det.grid[0]}x{det.grid[1]}{whole}"
    if isinstance(det, _OneByOne):
        return describe_detector(det.detector)
    if isinstance(det, SharedDetector):
        return f"{describe_detector(det.detector)} shared"
    if isinstance(det, ExportedYoloDetector):
        where = "" if det.device == "cpu" else f" on {det.device}"
        return f"yolo {det.runtime}/{det.precision} x{det.threads}{where}"
    if isinstance(det, YoloDetector):
        return "yolo ultralytics"
    if isinstance(det, MotionDetector):
        return "motion"
    return type(det).__name__


def exported_detector(
    weights: Path, cfg: DetectorConfig, cache_dir: Path = EXPORT_CACHE
) -> tuple[ExportedYoloDetector, RuntimeChoice | None]:
    """An OpenVINO/onnxruntime detector as ``cfg`` asks (``auto`` runtime or threads: the fastest measured now).

    Returns:
        The detector, and the start-up trial it was chosen by (None when ``cfg`` fixed both).
    """
    runtimes = None if cfg.runtime == "auto" else [cfg.runtime]
    threads = [cfg.threads] if cfg.threads > 0 else None
    choice: RuntimeChoice | None = None
    if runtimes is not None and threads is not None:
        exported = DETECTOR_CLASSES[cfg.runtime](
            weights,
            imgsz=cfg.imgsz,
            threads=cfg.threads,
            cache_dir=cache_dir,
            precision=cfg.precision,
            device=cfg.device,
        )
    else:
        exported, choice = choose_runtime(
            weights,
            runtimes,
            threads,
            imgsz=cfg.imgsz,
            cache_dir=cache_dir,
            precision=cfg.precision,
            device=cfg.device,
        )
    exported.conf, exported.iou, exported.agnostic = float(cfg.conf), float(cfg.iou), cfg.agnostic_nms
    return exported, choice


_SHARED: dict[tuple[object, ...], SharedDetector] = {}
_SHARED_LOCK = threading.Lock()


def shared_detector(weights: Path, cfg: DetectorConfig, cache_dir: Path = EXPORT_CACHE) -> SharedDetector:
    """The process's one :class:`~vision.shared.SharedDetector` for these weights and settings.

    Cameras whose detector settings agree (weights file and its version, runtime, threads, size,
    precision, thresholds) get the same loaded model; frames they need detected at the
    same moment go through it as one batch.
    """
    st = weights.stat()
    key = (
        str(weights.resolve()),
        st.st_mtime_ns,  # replaced weights get a new model; a stat, not a re-read of the file per camera
        st.st_size,
        cfg.runtime,
        cfg.threads,
        cfg.imgsz,
        cfg.precision,
        cfg.conf,
        cfg.iou,
        cfg.agnostic_nms,
        cfg.max_batch,
        cfg.device,
    )
    with _SHARED_LOCK:
        shared = _SHARED.get(key)
        if shared is None:
            shared = _SHARED[key] = SharedDetector(exported_detector(weights, cfg, cache_dir)[0], cfg.max_batch)
            log.info(
                "detector %s shared by this process's cameras (batches of up to %d frames)", weights.name, cfg.max_batch
            )
    return shared


def torch_device(device: str) -> str:
    """ultralytics' (torch's) name for a configured device: ``cpu``, ``0``, ``1``..."""
    kind, index = parse_device(device)
    return "cpu" if kind == "cpu" else str(index or 0)


class _OneByOne(WrappedDetector):
    """``detect_batch`` over a detector that only has ``detect`` (the ultralytics reference)."""

    def __init__(self, detector: Detector) -> None:
        self.detector = detector

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        return [self.detector.detect(im) for im in images]


def as_batch_detector(det: Detector) -> Any:
    """The detector itself when it has ``detect_batch``, else a wrapper that runs its frames one by one."""
    return det if hasattr(det, "detect_batch") else _OneByOne(det)


def build_detector(cfg: DetectorConfig, cache_dir: Path = EXPORT_CACHE) -> Detector:
    """Build the detector a camera's config asks for.

    Args:
        cfg: Detector section of a camera config. For ``yolo`` with ``weights``
            None the shipped model ``models/vehicles.pt`` is used; ``runtime`` picks
            OpenVINO / onnxruntime (``auto``: the faster, measured now) or the ultralytics
            reference; ``share`` gives cameras with the same settings one model
            (:func:`shared_detector`); ``motion_gate`` wraps it in a :class:`MotionGatedDetector`
            (one per camera: the gate holds that camera's background); ``tiles`` runs it on
            overlapping tiles of each frame, plus the whole frame (:class:`vision.tiling.TiledDetector`).
        cache_dir: Where the ONNX export of ``.pt`` weights is cached.

    Returns:
        A ready detector.

    Raises:
        DetectorError: e.g. the YOLO weights are missing (the message says where to put them).
    """
    if cfg.kind == "motion":
        return MotionDetector(min_area_px=cfg.min_area_px)
    if cfg.kind != "yolo":
        raise DetectorError(f"unknown detector kind {cfg.kind!r} (expected 'motion' or 'yolo')")
    weights = resolve_path(cfg.weights) if cfg.weights is not None else SHIPPED_WEIGHTS
    if not weights.exists():
        raise DetectorError(missing_weights_message(weights))
    det: Detector
    if cfg.runtime == "ultralytics":
        det = YoloDetector(
            weights,
            conf=cfg.conf,
            iou=cfg.iou,
            imgsz=cfg.imgsz,
            agnostic=cfg.agnostic_nms,
            device=torch_device(cfg.device),
        )
    elif cfg.runtime == "auto" and not available_runtimes():
        log.warning("neither openvino nor onnxruntime is installed: using the (slower) ultralytics predictor")
        det = YoloDetector(weights, conf=cfg.conf, iou=cfg.iou, imgsz=cfg.imgsz, agnostic=cfg.agnostic_nms)
    elif cfg.share:
        det = shared_detector(weights, cfg, cache_dir)
    else:
        det = exported_detector(weights, cfg, cache_dir)[0]
    if cfg.tiles is not None:
        det = TiledDetector(
            as_batch_detector(det),
            grid=cfg.tiles,
            overlap=cfg.tile_overlap,
            full_frame=cfg.tile_full_frame,
            iou=cfg.iou,
            agnostic=cfg.agnostic_nms,
        )
    if cfg.motion_gate:
        gate = MotionDetector(min_area_px=cfg.min_area_px, max_width=GATE_WIDTH)
        det = MotionGatedDetector(det, gate, refresh_frames=cfg.gate_refresh_frames)
    return det


__all__ = [
    "as_batch_detector",
    "build_detector",
    "describe_detector",
    "exported_detector",
    "shared_detector",
    "torch_device",
]
