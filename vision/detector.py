"""Object detectors: the names of :mod:`vision.detectors`, one import away.

The detectors live in the package :mod:`vision.detectors`, one runtime per module (see
its docstring); this module re-exports their public names, so ``from vision.detector
import build_detector`` keeps working. New code may import from either.

Detectors:

* :class:`MotionDetector`: background subtraction for fixed cameras, needs no weights.
* :class:`YoloDetector`: an ultralytics YOLO model (``.pt``, ``.onnx`` or an
  OpenVINO export directory) run by ultralytics' own predictor: the reference.
* :class:`OpenVinoDetector` / :class:`OnnxDetector`: the same models on OpenVINO or
  onnxruntime with our own letterbox and decoding (:mod:`vision.runtimes`); a ``.pt`` is
  exported to ONNX once, into ``var/cache/detector``. Several times faster on a CPU than
  the reference.
* :class:`MotionGatedDetector`: runs a detector only when and where the motion
  detector sees change (as Frigate does); the pipeline carries tracks meanwhile.

Every model's class names are mapped to the project's labels through one table,
:data:`CLASS_MAP`. :func:`build_detector` builds what a camera's config asks for,
choosing the fastest runtime at start-up (``runtime: auto``).
"""

from __future__ import annotations

from vision.detectors.autochoice import MULTI_THREAD_MARGIN, RuntimeChoice, choose_runtime
from vision.detectors.base import (
    CLASS_MAP,
    SHIPPED_WEIGHTS,
    Detector,
    DetectorError,
    label_table,
    map_class_name,
    missing_weights_message,
    normalise_class_name,
)
from vision.detectors.export import (
    EXPORT_CACHE,
    EXPORT_VERSION,
    INT8_DIR_SUFFIX,
    export_onnx,
    file_digest,
    int8_model_dir,
    int8_model_for,
    weights_digest,
)
from vision.detectors.exported import DETECTOR_CLASSES, ExportedYoloDetector, OnnxDetector, OpenVinoDetector
from vision.detectors.factory import (
    as_batch_detector,
    build_detector,
    describe_detector,
    exported_detector,
    shared_detector,
    torch_device,
)
from vision.detectors.gate import GATE_WIDTH, MotionGatedDetector
from vision.detectors.motion import MotionDetector, merge_boxes
from vision.detectors.ultralytics import DEFAULT_IMGSZ, YoloDetector
from vision.tracker import byte_tracker_class

__all__ = [
    "CLASS_MAP",
    "DEFAULT_IMGSZ",
    "DETECTOR_CLASSES",
    "EXPORT_CACHE",
    "EXPORT_VERSION",
    "GATE_WIDTH",
    "INT8_DIR_SUFFIX",
    "MULTI_THREAD_MARGIN",
    "SHIPPED_WEIGHTS",
    "Detector",
    "DetectorError",
    "ExportedYoloDetector",
    "MotionDetector",
    "MotionGatedDetector",
    "OnnxDetector",
    "OpenVinoDetector",
    "RuntimeChoice",
    "YoloDetector",
    "as_batch_detector",
    "build_detector",
    "byte_tracker_class",
    "choose_runtime",
    "describe_detector",
    "export_onnx",
    "exported_detector",
    "file_digest",
    "int8_model_dir",
    "int8_model_for",
    "label_table",
    "map_class_name",
    "merge_boxes",
    "missing_weights_message",
    "normalise_class_name",
    "shared_detector",
    "torch_device",
    "weights_digest",
]
