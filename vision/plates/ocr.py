"""The OCR engine: rapidocr's bundled PP-OCR text detector and recogniser, loaded once per process."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from core.anpr import OcrLine
from vision.plates.ctc import _N, _decode, _fold_table

log = logging.getLogger("vision.plates")  # one logger for every plates module, as before the split


class PlateReaderError(RuntimeError):
    """The OCR models cannot be loaded (e.g. rapidocr is not installed)."""


class OcrEngine:
    """Thin wrapper over rapidocr's bundled PP-OCR detector and recogniser (CPU).

    Use :func:`get_engine` for the per-process instance; construction loads nothing,
    the models load on first use.

    Args:
        runtime: ``openvino`` (the default: the same bundled ONNX models, 1.5-3x faster on these CPUs) or
            ``onnxruntime`` (rapidocr's own default, what plate reading ran on before).
    """

    def __init__(
        self, threads: int = 0, unclip_ratio: float = 1.3, box_thresh: float = 0.5, runtime: str = "openvino"
    ) -> None:
        if runtime not in ("openvino", "onnxruntime"):
            raise ValueError(f"OCR runtime must be openvino or onnxruntime, got {runtime!r}")
        self.runtime = runtime
        self._threads = threads
        self.unclip_ratio = unclip_ratio
        self.box_thresh = box_thresh
        self._lock = threading.Lock()
        self._infer_lock = threading.Lock()  # rapidocr's detector keeps per-call state
        self._ocr: Any = None
        self._det: Any = None
        self._rec: Any = None
        self._fold: np.ndarray | None = None
        self._det_limit = 736

    def load(self) -> None:
        """Load the models now (they otherwise load on first use); safe to call again."""
        with self._lock:
            if self._rec is not None:
                return
            try:
                from rapidocr import RapidOCR  # lazy: heavy import
            except ImportError as e:  # pragma: no cover - depends on the environment
                raise PlateReaderError("rapidocr is not installed: pip install rapidocr") from e
            logging.getLogger("RapidOCR").setLevel(logging.WARNING)
            params: dict[str, Any] = {
                "Global.log_level": "warning",
                "Global.use_cls": False,
                "Det.unclip_ratio": self.unclip_ratio,
                "Det.box_thresh": self.box_thresh,
            }
            if self._threads > 0:
                params["EngineConfig.onnxruntime.intra_op_num_threads"] = self._threads
                params["EngineConfig.openvino.inference_num_threads"] = self._threads
            if self.runtime == "openvino":
                import rapidocr
                from rapidocr.utils.typings import EngineType

                bundled = Path(rapidocr.__file__).parent / "models"
                for task in ("Det", "Rec"):
                    found = sorted(bundled.glob(f"*_{task.lower()}_*.onnx"))
                    if not found:
                        raise PlateReaderError(f"no bundled {task} model in {bundled}")
                    params[f"{task}.engine_type"] = EngineType.OPENVINO
                    params[f"{task}.model_path"] = str(found[-1])  # given, so nothing is downloaded
            t0 = time.perf_counter()
            ocr = RapidOCR(params=params)
            det = ocr._load_det_model()  # noqa: SLF001 - rapidocr exposes no public accessor
            self._det_limit = int(det.limit_side_len or 736)
            rec = ocr._load_rec_model()  # noqa: SLF001
            self._fold = _fold_table(list(rec.postprocess_op.character))
            self._ocr, self._det = ocr, det
            self._rec = rec
            log.info("plate OCR models loaded on %s in %.1f s", self.runtime, time.perf_counter() - t0)

    def detect(self, image: np.ndarray, min_side: int = 736, max_side: int = 1408) -> list[np.ndarray]:
        """Text quadrilaterals (4x2 float32, clockwise from top-left) in ``image`` pixels.

        The image is scaled so its short side is ``min_side`` (its long side at most
        ``max_side``) for the detector; quads come back in the input's pixels.
        """
        self.load()
        h, w = image.shape[:2]
        scale = min(min_side / min(h, w), max_side / max(h, w))
        scaled = (
            cv2.resize(image, (max(32, round(w * scale)), max(32, round(h * scale))), interpolation=cv2.INTER_LINEAR)
            if abs(scale - 1) > 0.02
            else image
        )
        sh, sw = scaled.shape[:2]
        with self._infer_lock:
            # rapidocr upscales every image to a short side of its limit (736 by default) before the network;
            # a small plate crop keeps the size asked for (`min_side`), larger calls keep rapidocr's behaviour.
            self._det.limit_side_len = min(self._det_limit, max(32, min(sh, sw)))
            out = self._det(scaled)
        if out.boxes is None:
            return []
        quads = []
        for q in np.asarray(out.boxes, dtype=np.float32):
            q = q.copy()
            q[:, 0] *= w / sw
            q[:, 1] *= h / sh
            quads.append(q)
        return quads

    def recognize(self, crops: Sequence[np.ndarray], tight: bool = False) -> list[OcrLine]:
        """Read text lines (BGR crops, any size) with per-character plate-alphabet probabilities.

        ``tight``: the recogniser's input is as wide as the widest crop of the batch needs, not at least
        its nominal width (320 px): about half the work for short plate lines.
        """
        self.load()
        assert self._fold is not None
        if not crops:
            return []
        _, img_h, base_w = self._rec.rec_image_shape
        ratios = [c.shape[1] / max(c.shape[0], 1) for c in crops]
        order = np.argsort(ratios)
        results: list[OcrLine | None] = [None] * len(crops)
        batch = 6
        for b in range(0, len(crops), batch):
            idx = order[b : b + batch]
            floor = 2.0 if tight else base_w / img_h
            max_ratio = max(floor, *(ratios[i] for i in idx))
            width = int(img_h * max_ratio)
            if tight:  # widths in steps of 32 px: few distinct input shapes, so the runtime's per-shape caches hold
                width = int(np.ceil(width / 32) * 32)
            arr = np.zeros((len(idx), 3, img_h, width), dtype=np.float32)
            for j, i in enumerate(idx):
                rw = min(width, int(np.ceil(img_h * ratios[i])))
                r = cv2.resize(crops[i], (max(rw, 1), img_h), interpolation=cv2.INTER_CUBIC).astype(np.float32)
                arr[j, :, :, :rw] = (r.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
            with self._infer_lock:
                preds = np.asarray(self._rec.session(arr), dtype=np.float32)
            for j, i in enumerate(idx):
                rw = min(width, int(np.ceil(img_h * ratios[i])))
                results[i] = _decode(preds[j], self._fold, width / max(rw, 1))
        return [r if r is not None else OcrLine("", np.zeros((0, _N))) for r in results]


_ENGINE: OcrEngine | None = None
_ENGINE_LOCK = threading.Lock()


def get_engine() -> OcrEngine:
    """The process-wide OCR engine (models load on first use)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = OcrEngine()
        return _ENGINE
