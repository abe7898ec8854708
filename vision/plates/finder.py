"""The plate detector: number-plate boxes in a vehicle crop (or a whole photo), one small YOLO model.

``models/plates.pt`` is a one-class YOLO11n trained by :mod:`models.train_plates` on openly licensed plate
boxes (``models/plate_data_sources.yaml``); like the vehicle model it runs on our own runtime
(:class:`vision.detectors.exported.ExportedYoloDetector`), int8 on OpenVINO when its quantized model is beside
it. One pass at 320 px costs a few milliseconds, against the full-image text detection it replaces.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from config.settings import REPO_ROOT
from core.types import Box
from vision.detectors.exported import DETECTOR_CLASSES, ExportedYoloDetector

#: The shipped plate detector.
DEFAULT_PLATE_WEIGHTS = REPO_ROOT / "models" / "plates.pt"


@dataclass(frozen=True, slots=True)
class PlateBox:
    """A plate found by the detector: its box in pixels of the image searched, and the model's score."""

    box: Box
    score: float


class PlateFinder:
    """Finds number plates with the plate detector.

    Args:
        weights: ``.pt``/``.onnx`` weights (the int8 OpenVINO model beside them is used when present).
        conf: Smallest score kept.
        runtime: ``openvino`` or ``onnxruntime``.
        threads: Inference threads.
        precision: ``auto`` | ``int8`` | ``bf16`` | ``f32`` (see :class:`ExportedYoloDetector`).
        max_plates: Most plates returned per image (best first).

    Raises:
        vision.detectors.DetectorError: weights missing or unreadable (the message says what to do).
    """

    def __init__(
        self,
        weights: Path | str = DEFAULT_PLATE_WEIGHTS,
        conf: float = 0.25,
        runtime: str = "openvino",
        threads: int = 1,
        precision: str = "auto",
        max_plates: int = 2,
    ) -> None:
        self.detector: ExportedYoloDetector = DETECTOR_CLASSES[runtime](
            weights,
            conf=conf,
            iou=0.4,
            threads=threads,
            precision=precision,
            labels={"plate": "plate"},
            square_input=True,  # vehicle crops come in every aspect: one input shape, compiled once
        )
        self.max_plates = max_plates
        self.precision = self.detector.precision
        self.imgsz = self.detector.imgsz

    def find(self, image: np.ndarray) -> list[PlateBox]:
        """Plates in one BGR image, best first."""
        return self.find_batch([image])[0]

    def find_batch(self, images: Sequence[np.ndarray]) -> list[list[PlateBox]]:
        """Plates in each of several images (one model call where the model takes a batch)."""
        out = []
        for dets in self.detector.detect_batch(images):
            dets = sorted(dets, key=lambda d: -d.confidence)[: self.max_plates]
            out.append([PlateBox(d.box, d.confidence) for d in dets])
        return out


_FINDER: PlateFinder | None = None
_FINDER_LOCK = threading.Lock()


def get_finder() -> PlateFinder:
    """The process-wide plate finder (loaded on first call).

    Raises:
        vision.detectors.DetectorError: the shipped plate model is missing.
    """
    global _FINDER
    with _FINDER_LOCK:
        if _FINDER is None:
            _FINDER = PlateFinder()
        return _FINDER
