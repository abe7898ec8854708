"""The ultralytics runtime: :class:`YoloDetector`, the reference predictor, and the offline switch.

ultralytics never downloads anything here: :func:`ultralytics_offline` switches it to
offline mode before it is first imported (every module that imports ultralytics calls it
first), and weights must be local files. :func:`tracker_classes` hands ultralytics'
ByteTrack classes to :mod:`vision.tracker`, so that the import stays behind this package.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from core.types import Detection
from vision.detectors.base import DetectorError, label_table, missing_weights_message, weights_format

#: Held while ultralytics loads or exports a model (its model loading is not thread-safe).
ULTRALYTICS_LOCK = threading.Lock()

#: Inference size of a model that does not say what size it was trained at (ultralytics' default).
DEFAULT_IMGSZ = 640


def ultralytics_offline() -> None:
    """Put ultralytics in offline mode; must run before ultralytics is first imported.

    ``YOLO_OFFLINE`` makes ``ultralytics.utils.ONLINE`` False at import, which turns
    off its DNS probe, analytics events and hub calls; weights are always passed as
    existing local paths, so nothing is fetched.
    """
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_VERBOSE", "False")
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")  # an export must never pip-install anything


def imgsz_of(raw: Any) -> int:
    """A model's inference size (longest side) from ultralytics' ``imgsz`` (int or [h, w]); 640 when unknown."""
    if isinstance(raw, int | float) and raw > 0:
        return int(raw)
    if isinstance(raw, list | tuple) and raw and all(isinstance(v, int | float) and v > 0 for v in raw):
        return int(max(raw))
    return DEFAULT_IMGSZ


def tracker_classes() -> tuple[type[Any], type[Any], type[Any]]:
    """Ultralytics' ``BYTETracker``, ``BOTrack`` and ``KalmanFilterXYWH``, imported in offline mode.

    Returns:
        The three classes, for :func:`vision.tracker.byte_tracker_class` to assemble a tracker from.
    """
    ultralytics_offline()
    from ultralytics.trackers.bot_sort import BOTrack
    from ultralytics.trackers.byte_tracker import BYTETracker
    from ultralytics.trackers.utils.kalman_filter import KalmanFilterXYWH

    return BYTETracker, BOTrack, KalmanFilterXYWH


class YoloDetector:
    """Detector over an ultralytics YOLO model, on CPU by default.

    The model's own class names are mapped to project labels with
    :data:`~vision.detectors.base.CLASS_MAP`; other classes are dropped (and not even predicted: the
    model is asked only for mapped class ids). Segmentation and detection models
    both work (boxes are used).

    This is the reference implementation (and ultralytics trains the models); for speed
    on a CPU use :class:`~vision.detectors.exported.OpenVinoDetector` or
    :class:`~vision.detectors.exported.OnnxDetector`.

    Attributes:
        calibrated_scores: True: confidences are the model's scores (ByteTrack may fuse them).
        runtime: ``"ultralytics"``.
    """

    calibrated_scores = True
    runtime = "ultralytics"

    def __init__(
        self,
        weights: str | os.PathLike[str],
        conf: float = 0.3,
        iou: float = 0.5,
        imgsz: int | None = None,
        device: str | None = None,
        agnostic: bool = False,
    ) -> None:
        """Load a model.

        Args:
            weights: Local ``.pt``/``.onnx`` file or OpenVINO export directory.
            conf: Minimum confidence.
            iou: NMS IoU threshold.
            agnostic: NMS across classes (one box per vehicle); False: per class, as ultralytics' default.
            imgsz: Inference size; None: the size the model was trained at (ultralytics keeps it
                in the checkpoint), else 640.
            device: Torch device string (``"cpu"``, ``"0"``...); None lets ultralytics choose
                (the GPU when torch sees one, else the CPU).

        Raises:
            DetectorError: weights missing, unsupported, unreadable, or with no class we can use.
        """
        path = Path(weights).expanduser()
        if not path.exists():
            raise DetectorError(missing_weights_message(path))
        self.weights = path.resolve()
        self.format = weights_format(self.weights)
        self.conf = float(conf)
        self.iou = float(iou)
        self.agnostic = bool(agnostic)
        self.device = device
        ultralytics_offline()
        try:
            with ULTRALYTICS_LOCK:
                from ultralytics import YOLO

                self._model: Any = YOLO(str(self.weights))
                names = self._model.names or {}
        except Exception as e:  # noqa: BLE001 - any load failure becomes one clear error
            raise DetectorError(f"cannot load detector weights {self.weights}: {type(e).__name__}: {e}") from e
        self.imgsz = int(imgsz) if imgsz is not None else imgsz_of(self._model.overrides.get("imgsz"))
        self.class_names: dict[int, str] = {int(k): str(v) for k, v in dict(names).items()}
        self.label_of = label_table(self.class_names, self.weights)
        self._lock = threading.Lock()

    @property
    def dropped_classes(self) -> list[str]:
        """Model classes that are not mapped (and therefore never reported)."""
        return sorted(n for c, n in self.class_names.items() if c not in self.label_of)

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Run the model on one BGR image.

        Args:
            image: BGR uint8 ``(H, W, 3)``.

        Returns:
            Detections in pixels of ``image``.
        """
        if image is None or image.size == 0:
            return []
        with self._lock:  # ultralytics predictors are not thread-safe
            results = self._model.predict(
                image,
                conf=self.conf,
                iou=self.iou,
                agnostic_nms=self.agnostic,
                imgsz=self.imgsz,
                classes=sorted(self.label_of) or None,
                verbose=False,
                **({"device": self.device} if self.device is not None else {}),
            )
        out: list[Detection] = []
        if not results:
            return out
        boxes = results[0].boxes
        if boxes is None or len(boxes) == 0:
            return out
        xyxy = boxes.xyxy.cpu().numpy()
        confs = boxes.conf.cpu().numpy()
        clss = boxes.cls.cpu().numpy().astype(int)
        h, w = image.shape[:2]
        for (x1, y1, x2, y2), c, k in zip(xyxy, confs, clss, strict=True):
            label = self.label_of.get(int(k))
            if label is None:
                continue
            x1, x2 = float(np.clip(x1, 0, w)), float(np.clip(x2, 0, w))
            y1, y2 = float(np.clip(y1, 0, h)), float(np.clip(y2, 0, h))
            if x2 <= x1 or y2 <= y1:
                continue
            out.append(Detection(label=label, confidence=round(float(c), 4), box=(x1, y1, x2 - x1, y2 - y1)))
        return out


__all__ = ["DEFAULT_IMGSZ", "YoloDetector", "imgsz_of", "tracker_classes", "ultralytics_offline"]
