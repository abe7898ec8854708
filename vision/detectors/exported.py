"""The OpenVINO and onnxruntime runtimes: a YOLO model with our own pre/post-processing.

:class:`ExportedYoloDetector` letterboxes, runs and decodes a YOLOv8/11 model through
:mod:`vision.runtimes` (the one other module that imports those runtimes);
:class:`OpenVinoDetector` and :class:`OnnxDetector` fix the runtime. A ``.pt`` is run as
its ONNX export (:func:`vision.detectors.export.export_onnx`). Several times faster on a
CPU than the ultralytics reference (:class:`vision.detectors.ultralytics.YoloDetector`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from core.types import Detection, nms_group
from vision.detectors.base import DetectorError, label_table, missing_weights_message, weights_format
from vision.detectors.export import EXPORT_CACHE, export_onnx, int8_model_dir, int8_model_for
from vision.runtimes import (
    PRECISIONS,
    Letterbox,
    ModelInfo,
    RawDetections,
    Session,
    decode_yolo,
    open_session,
    read_model_info,
    resolve_model_file,
)

log = logging.getLogger("vision.detector")  # one logger for every detector module, as before the split

_STALE_WARNED: set[str] = set()


class ExportedYoloDetector:
    """A YOLOv8/11 detection (or segmentation) model on a CPU runtime, with our own pre/post-processing.

    Per call: one letterbox of each frame into a reused input buffer
    (:class:`vision.runtimes.Letterbox`, identical to ultralytics'), one inference, one
    decode with class-aware NMS (:func:`vision.runtimes.decode_yolo`). Model classes go
    through :data:`~vision.detectors.base.CLASS_MAP`; unmapped classes are dropped before NMS, as
    :class:`~vision.detectors.ultralytics.YoloDetector` does. Boxes agree with ultralytics' predictor on the same
    weights (see tests/integration/vision/test_runtimes_models.py).

    Subclasses fix the runtime: :class:`OpenVinoDetector`, :class:`OnnxDetector`.

    Attributes:
        calibrated_scores: True: confidences are the model's scores.
        runtime: Runtime name.
        threads: Inference threads.
        model_file: The ``.onnx``/``.xml`` model run.
        class_names: Model class id -> name.
        label_of: Model class id -> project label (mapped classes only).
    """

    calibrated_scores = True
    runtime = ""

    def __init__(
        self,
        weights: str | os.PathLike[str],
        conf: float = 0.3,
        iou: float = 0.5,
        imgsz: int | None = None,
        threads: int = 1,
        cache_dir: Path = EXPORT_CACHE,
        precision: str = "auto",
        agnostic: bool = False,
        device: str = "cpu",
        labels: dict[str, str] | None = None,
        square_input: bool = False,
    ) -> None:
        """Load a model.

        Args:
            device: ``cpu``, or ``gpu``/``cuda`` (``cuda:N``): the runtime's GPU (see
                :func:`vision.runtimes.open_session`); an error when the runtime has none here.
            weights: Local ``.pt`` (exported to ONNX on first use), ``.onnx``, or (OpenVINO only)
                an OpenVINO export directory or ``.xml``.
            conf: Minimum confidence.
            iou: NMS IoU threshold.
            agnostic: NMS across classes (one box per vehicle); False: per class, as ultralytics' default.
            labels: Model class name -> label, for a model that does not detect road users (e.g. the plate
                detector: ``{"plate": "plate"}``); None: through :data:`~vision.detectors.base.CLASS_MAP`.
            square_input: Letterbox every image into one ``imgsz`` square: images of every aspect (vehicle
                crops) then share one input shape, compiled once; False: the smallest input that holds each.
            imgsz: Inference size (longest side); None: the size the model was trained (exported)
                at, from its metadata. A model with a fixed input size always uses its own.
            threads: Inference threads.
            cache_dir: Where the ONNX export of a ``.pt`` is cached.
            precision: ``auto``: the fastest this runtime offers: on OpenVINO the int8 model
                quantized from these weights (:func:`int8_model_for`) when there is one, else the
                float model as ``bf16``; ``int8``: that int8 model, an error when there is none;
                ``bf16``: the float model at the runtime's default (OpenVINO: bf16 on CPUs with
                AMX/AVX512-BF16, f32 elsewhere; onnxruntime: f32); ``f32``: full precision
                (matches ultralytics to ~1e-3). Weights that are themselves an int8 model run as int8.

        Attributes set:
            precision: What actually runs: ``int8``, ``bf16`` or ``f32``.

        Raises:
            DetectorError: weights missing, unsupported, unreadable, or with no class we can use;
                ``int8`` asked for where there is no matching int8 model or on onnxruntime.
        """
        path = Path(weights).expanduser()
        if not path.exists():
            raise DetectorError(missing_weights_message(path))
        self.weights = path.resolve()
        self.model_file = self._model_file(precision, cache_dir)
        self.conf = float(conf)
        self.iou = float(iou)
        self.agnostic = bool(agnostic)
        self.device = str(device)
        self.threads = max(1, int(threads))
        info = self._open(precision)
        self.precision = "int8" if info.is_int8 else str(getattr(self.session, "float_precision", "f32"))
        self._set_classes(info.names, labels)
        if self.session.fixed_hw is not None:
            self.imgsz = max(self.session.fixed_hw)
        else:
            self.imgsz = int(imgsz) if imgsz is not None else max(info.imgsz)
        fixed_hw = self.session.fixed_hw or ((self.imgsz, self.imgsz) if square_input else None)
        self.letterbox = Letterbox(self.imgsz, info.stride, fixed_hw=fixed_hw, layout=self.session.input_layout)
        self._lock = threading.Lock()

    def _open(self, precision: str) -> ModelInfo:
        """Read :attr:`model_file`'s metadata, check it against ``precision`` and open :attr:`session` on it.

        Raises:
            DetectorError: the precision does not fit the model, or the runtime cannot load it.
        """
        try:
            info = read_model_info(self.model_file)
            if info.is_int8 and precision == "f32":
                raise DetectorError(f"{self.weights} is an int8 model; precision f32 needs float weights (.pt/.onnx)")
            if precision == "int8" and not info.is_int8:
                raise DetectorError(
                    f"{self.weights} is a float model and precision int8 was asked for: give the .pt/.onnx weights "
                    f"(their int8 model is looked for beside them) or an int8 model made by python -m models.quantize"
                )
            self.session: Session = open_session(
                self.runtime, self.model_file, self.threads, precision=precision, device=self.device
            )
        except DetectorError:
            raise
        except Exception as e:  # noqa: BLE001 - any load failure becomes one clear error
            raise DetectorError(f"cannot load {self.model_file} on {self.runtime}: {type(e).__name__}: {e}") from e
        return info

    def _set_classes(self, class_names: dict[int, str], labels: dict[str, str] | None = None) -> None:
        """The model's classes, their labels, the ids kept and each class's NMS group."""
        self.class_names = class_names
        if labels is None:
            self.label_of = label_table(self.class_names, self.weights)
        else:
            self.label_of = {k: labels[n] for k, n in class_names.items() if n in labels}
            if not self.label_of:
                raise DetectorError(f"{self.weights}: none of the model's classes is one of {sorted(labels)}")
        self._keep = np.array(sorted(self.label_of), dtype=np.int64)
        self._groups = np.array(
            [nms_group(self.label_of.get(k, "")) for k in range(len(self.class_names))], dtype=np.int64
        )

    def _model_file(self, precision: str, cache_dir: Path) -> Path:
        """The model file to run for the requested precision (see ``__init__``)."""
        fmt = weights_format(self.weights)
        if precision not in PRECISIONS:
            raise DetectorError(f"unknown precision {precision!r} (expected one of {', '.join(PRECISIONS)})")
        if precision == "int8" and self.runtime != "openvino":
            raise DetectorError(f"precision int8 runs on openvino, not {self.runtime}")
        if self.runtime == "openvino" and fmt != "openvino" and precision in ("auto", "int8"):
            found, why = int8_model_for(self.weights)
            if found is not None:
                return found
            if precision == "int8":
                raise DetectorError(why)
            if int8_model_dir(self.weights).is_dir() and why not in _STALE_WARNED:
                _STALE_WARNED.add(why)
                log.warning("not using the int8 model: %s; running the float model", why)
        return export_onnx(self.weights, cache_dir) if fmt == "pt" else resolve_model_file(self.weights)

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Run the model on one BGR image.

        Args:
            image: BGR uint8 ``(H, W, 3)``.

        Returns:
            Detections in pixels of ``image``.
        """
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        """Run the model on several frames (e.g. one from each of several cameras) at once.

        Frames go through the model as one batch when it has a dynamic batch size (frames
        of different shapes share the smallest input that holds each); otherwise one by one.

        Args:
            images: BGR uint8 frames; empty or missing frames give empty lists.

        Returns:
            One detection list per frame, in pixels of that frame.
        """
        out: list[list[Detection]] = [[] for _ in images]
        todo = [(i, _as_bgr(im)) for i, im in enumerate(images) if im is not None and im.size > 0]
        if not todo:
            return out
        groups = [todo] if self.session.fixed_batch in (None, len(todo)) else [[t] for t in todo]
        with self._lock:  # the letterbox buffer is reused
            for group in groups:
                batch, infos = self.letterbox([im for _, im in group])
                raw = decode_yolo(
                    self.session.run(batch),
                    infos,
                    num_classes=len(self.class_names),
                    conf=self.conf,
                    iou=self.iou,
                    classes=self._keep,
                    input_hw=Letterbox.input_hw(batch),
                    agnostic=self.agnostic,
                    groups=self._groups,
                )
                for (i, _), dets in zip(group, raw, strict=True):
                    out[i] = self._to_detections(dets)
        return out

    def _to_detections(self, raw: RawDetections) -> list[Detection]:
        out: list[Detection] = []
        for (x1, y1, x2, y2), c, k in zip(raw.xyxy.tolist(), raw.scores.tolist(), raw.classes.tolist(), strict=True):
            label = self.label_of.get(int(k))
            if label is None or x2 <= x1 or y2 <= y1:
                continue
            out.append(Detection(label=label, confidence=round(float(c), 4), box=(x1, y1, x2 - x1, y2 - y1)))
        return out


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


class OpenVinoDetector(ExportedYoloDetector):
    """:class:`ExportedYoloDetector` on OpenVINO (CPU plugin, latency hint, compiled per input shape)."""

    runtime = "openvino"


class OnnxDetector(ExportedYoloDetector):
    """:class:`ExportedYoloDetector` on onnxruntime (CPU execution provider, full graph optimisation)."""

    runtime = "onnxruntime"


DETECTOR_CLASSES: dict[str, type[ExportedYoloDetector]] = {"openvino": OpenVinoDetector, "onnxruntime": OnnxDetector}


__all__ = ["DETECTOR_CLASSES", "ExportedYoloDetector", "OnnxDetector", "OpenVinoDetector"]
