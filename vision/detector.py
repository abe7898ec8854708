"""Object detectors: frame in, :class:`core.types.Detection` list out.

This is the only module that imports ultralytics (and through it onnxruntime /
openvino). It never downloads anything: ultralytics is switched to offline mode
before it is first imported, and weights must be local files.

Detectors:

* :class:`MotionDetector`: background subtraction for fixed cameras, needs no weights.
* :class:`YoloDetector`: an ultralytics YOLO model (``.pt``, ``.onnx`` or an
  OpenVINO export directory) run by ultralytics' own predictor: the reference.
* :class:`OpenVinoDetector` / :class:`OnnxDetector`: the same models on OpenVINO or
  onnxruntime with our own letterbox and decoding (:mod:`vision.runtimes`, the one
  other module that imports those runtimes); a ``.pt`` is exported to ONNX once, into
  ``var/cache/detector``. Several times faster on a CPU than the reference.
* :class:`MotionGatedDetector`: runs a detector only when and where the motion
  detector sees change (as Frigate does); the pipeline carries tracks meanwhile.

Every model's class names are mapped to the project's labels through one table,
:data:`CLASS_MAP`. :func:`build_detector` builds what a camera's config asks for,
choosing the fastest runtime at start-up (``runtime: auto``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from config.settings import REPO_ROOT, DetectorConfig, resolve_path
from core.types import Detection, nms_group
from vision.detectors.base import (
    CLASS_MAP,
    SHIPPED_WEIGHTS,
    Detector,
    DetectorError,
    label_table,
    map_class_name,
    missing_weights_message,
    normalise_class_name,
    weights_format,
)
from vision.detectors.gate import GATE_WIDTH, MotionGatedDetector
from vision.detectors.motion import MotionDetector, merge_boxes
from vision.runtimes import (
    PRECISIONS,
    RUNTIMES,
    Letterbox,
    RawDetections,
    Session,
    available_runtimes,
    cpu_count,
    decode_yolo,
    open_session,
    parse_device,
    read_model_info,
    resolve_model_file,
)
from vision.shared import SharedDetector
from vision.tiling import TiledDetector

log = logging.getLogger("vision.detector")


#: Where ``.pt`` weights are exported to ONNX (once per weights file content).
EXPORT_CACHE: Path = REPO_ROOT / "var" / "cache" / "detector"

#: Suffix of the directory that holds a model's int8 OpenVINO version (``python -m models.quantize``), beside
#: the weights: ``models/vehicles.pt`` -> ``models/vehicles_int8_openvino_model/``.
INT8_DIR_SUFFIX = "_int8_openvino_model"

#: Bumped when the export changes (v2: traced at the model's training size, which its metadata then carries).
EXPORT_VERSION = "v2"

#: Inference size of a model that does not say what size it was trained at (ultralytics' default).
DEFAULT_IMGSZ = 640


# --------------------------------------------------------------------------- YOLO

_ULTRALYTICS_LOCK = threading.Lock()


def _ultralytics_offline() -> None:
    """Put ultralytics in offline mode; must run before ultralytics is first imported.

    ``YOLO_OFFLINE`` makes ``ultralytics.utils.ONLINE`` False at import, which turns
    off its DNS probe, analytics events and hub calls; weights are always passed as
    existing local paths, so nothing is fetched.
    """
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_VERBOSE", "False")
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")  # an export must never pip-install anything


_TRACKER_CLASSES: dict[str, type] = {}


def byte_tracker_class(motion_model: str = "xywh") -> type:
    """Ultralytics' ``BYTETracker``, imported here so ultralytics stays behind this module.

    Args:
        motion_model: ``"xyah"``: the stock BYTETracker (Kalman state centre, aspect ratio,
            height). ``"xywh"``: the same BYTETracker association with ultralytics'
            ``KalmanFilterXYWH`` / ``BOTrack`` state (centre, width, height), as BoT-SORT uses
            it. The aspect-ratio state lags badly when a box's shape changes fast (a vehicle
            entering the frame grows from a sliver to its full size): its width estimate
            explodes and the track is lost, so ``xywh`` is the default.

    Returns:
        A class constructed with a tracker-args namespace, as ``BYTETracker(args)``.
    """
    if motion_model not in {"xyah", "xywh"}:
        raise ValueError(f"unknown motion model {motion_model!r} (expected 'xyah' or 'xywh')")
    cls = _TRACKER_CLASSES.get(motion_model)
    if cls is not None:
        return cls
    _ultralytics_offline()
    from ultralytics.trackers.bot_sort import BOTrack
    from ultralytics.trackers.byte_tracker import BYTETracker
    from ultralytics.trackers.utils.kalman_filter import KalmanFilterXYWH

    if motion_model == "xyah":
        cls = BYTETracker
    else:

        class ByteTrackXYWH(BYTETracker):
            """BYTETracker with the centre/width/height Kalman state of ultralytics' BOTrack."""

            track_class = BOTrack

            def get_kalmanfilter(self) -> KalmanFilterXYWH:
                return KalmanFilterXYWH()

            def multi_predict(self, tracks: list[Any]) -> None:
                BOTrack.multi_predict(tracks)

        cls = ByteTrackXYWH
    _TRACKER_CLASSES[motion_model] = cls
    return cls


class YoloDetector:
    """Detector over an ultralytics YOLO model, on CPU by default.

    The model's own class names are mapped to project labels with
    :data:`CLASS_MAP`; other classes are dropped (and not even predicted: the
    model is asked only for mapped class ids). Segmentation and detection models
    both work (boxes are used).

    This is the reference implementation (and ultralytics trains the models); for speed
    on a CPU use :class:`OpenVinoDetector` or :class:`OnnxDetector`.

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
        _ultralytics_offline()
        try:
            with _ULTRALYTICS_LOCK:
                from ultralytics import YOLO

                self._model: Any = YOLO(str(self.weights))
                names = self._model.names or {}
        except Exception as e:  # noqa: BLE001 - any load failure becomes one clear error
            raise DetectorError(f"cannot load detector weights {self.weights}: {type(e).__name__}: {e}") from e
        self.imgsz = int(imgsz) if imgsz is not None else _size_of(self._model.overrides.get("imgsz"))
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


# --------------------------------------------------------------------------- exported models: OpenVINO / onnxruntime

_EXPORT_LOCK = threading.Lock()


def file_digest(path: Path) -> str:
    """First 16 hex digits of the SHA-256 of a file's content."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


_DIGESTS: dict[tuple[str, int, int], str] = {}


def weights_digest(path: Path) -> str:
    """:func:`file_digest` of a weights file, hashed once per process while the file stays the same (by stat)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    digest = _DIGESTS.get(key)
    if digest is None:
        digest = _DIGESTS[key] = file_digest(path)
    return digest


def int8_model_dir(weights: Path) -> Path:
    """Where the int8 version of ``weights`` lives: ``<dir>/<stem>_int8_openvino_model``."""
    return weights.parent / f"{weights.stem}{INT8_DIR_SUFFIX}"


def int8_model_for(weights: Path) -> tuple[Path | None, str]:
    """The int8 OpenVINO model quantized from exactly these weights, or None and why there is none.

    A quantized model records the digest of the weights it was made from; one made from other
    weights (the ``.pt`` was retrained or replaced since) is not used.
    """
    where = int8_model_dir(weights)
    remedy = f"make it with: python -m models.quantize --weights {weights}"
    if not where.is_dir():
        return None, f"no int8 model for {weights.name} at {where}; {remedy}"
    try:
        info = read_model_info(where)
    except (ValueError, FileNotFoundError) as e:
        return None, f"{where} is not a usable int8 model ({e}); {remedy}"
    if info.quantization is None:
        return None, f"{where} is not an int8 model (no 'quantization' in its metadata.yaml); {remedy}"
    made_from, have = str(info.quantization["source_sha256"]), weights_digest(weights)
    if made_from != have:
        return (
            None,
            f"{where} was quantized from other weights (digest {made_from}, {weights.name} is {have}); {remedy}",
        )
    return info.path, ""


_STALE_WARNED: set[str] = set()


def _size_of(raw: Any) -> int:
    """A model's inference size (longest side) from ultralytics' ``imgsz`` (int or [h, w]); 640 when unknown."""
    if isinstance(raw, int | float) and raw > 0:
        return int(raw)
    if isinstance(raw, list | tuple) and raw and all(isinstance(v, int | float) and v > 0 for v in raw):
        return int(max(raw))
    return DEFAULT_IMGSZ


def export_onnx(weights: Path, cache_dir: Path = EXPORT_CACHE) -> Path:
    """The ONNX export of a ``.pt`` model, made on first use and cached by the weights' content.

    The export (ultralytics, offline, on the CPU) has a dynamic batch and input size and
    keeps ultralytics' metadata (class names, stride, and as ``imgsz`` the size the model
    was trained at, which is the size it is traced at). It is written beside a copy of the
    weights in a temporary directory under ``cache_dir`` and moved into place when
    complete, so an interrupted or concurrent export never leaves a half-written model.

    Args:
        weights: Local ``.pt`` file.
        cache_dir: Cache root; the model goes to ``<cache_dir>/<stem>-<digest>/<stem>.onnx``.

    Returns:
        Path of the ONNX model.

    Raises:
        DetectorError: the export failed.
    """
    weights = weights.resolve()
    digest = weights_digest(weights)
    target = cache_dir / f"{weights.stem}-{digest}-{EXPORT_VERSION}" / f"{weights.stem}.onnx"
    if target.is_file():
        return target
    with _EXPORT_LOCK:
        if target.is_file():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        log.info("exporting %s to ONNX (once; cached in %s)", weights, target.parent)
        _ultralytics_offline()
        with tempfile.TemporaryDirectory(prefix="export-", dir=target.parent) as tmp:
            copy = Path(tmp) / weights.name
            shutil.copyfile(weights, copy)
            if file_digest(copy) != digest:  # weights replaced while we copied them (a training run saving)
                raise DetectorError(f"{weights} changed while it was being exported; try again")
            try:
                with _ULTRALYTICS_LOCK:
                    from ultralytics import YOLO

                    model = YOLO(str(copy))
                    out = model.export(
                        format="onnx",
                        dynamic=True,
                        simplify=True,
                        imgsz=_size_of(model.overrides.get("imgsz")),
                        device="cpu",
                        verbose=False,
                    )
            except Exception as e:  # noqa: BLE001 - any export failure becomes one clear error
                raise DetectorError(f"cannot export {weights} to ONNX: {type(e).__name__}: {e}") from e
            os.replace(out, target)
    return target


class ExportedYoloDetector:
    """A YOLOv8/11 detection (or segmentation) model on a CPU runtime, with our own pre/post-processing.

    Per call: one letterbox of each frame into a reused input buffer
    (:class:`vision.runtimes.Letterbox`, identical to ultralytics'), one inference, one
    decode with class-aware NMS (:func:`vision.runtimes.decode_yolo`). Model classes go
    through :data:`CLASS_MAP`; unmapped classes are dropped before NMS, as
    :class:`YoloDetector` does. Boxes agree with ultralytics' predictor on the same
    weights (see tests/integration/test_runtimes.py).

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
                self.runtime, self.model_file, self.threads, precision=precision, device=device
            )
        except DetectorError:
            raise
        except Exception as e:  # noqa: BLE001 - any load failure becomes one clear error
            raise DetectorError(f"cannot load {self.model_file} on {self.runtime}: {type(e).__name__}: {e}") from e
        self.precision = "int8" if info.is_int8 else str(getattr(self.session, "float_precision", "f32"))
        self.class_names = info.names
        self.label_of = label_table(self.class_names, self.weights)
        self._keep = np.array(sorted(self.label_of), dtype=np.int64)
        self._groups = np.array(
            [nms_group(self.label_of.get(k, "")) for k in range(len(self.class_names))], dtype=np.int64
        )
        if self.session.fixed_hw is not None:
            self.imgsz = max(self.session.fixed_hw)
        else:
            self.imgsz = int(imgsz) if imgsz is not None else max(info.imgsz)
        self.letterbox = Letterbox(
            self.imgsz, info.stride, fixed_hw=self.session.fixed_hw, layout=self.session.input_layout
        )
        self._lock = threading.Lock()

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


@dataclass(frozen=True, slots=True)
class RuntimeChoice:
    """What ``runtime: auto`` picked at start-up, and the timings it picked from.

    Attributes:
        runtime: The chosen runtime.
        threads: The chosen number of inference threads.
        timings_ms: ``"<runtime>/<threads>"`` -> median ms per 16:9 frame in the start-up trial.
    """

    runtime: str
    threads: int
    timings_ms: tuple[tuple[str, float], ...]


#: A multi-threaded candidate must beat the best single-threaded one by this factor to be chosen:
#: the worker runs one analysis thread per camera, so single-threaded inference keeps every core
#: busy with less overhead as soon as there are as many busy cameras as cores.
MULTI_THREAD_MARGIN = 0.75

_AUTO_CHOICES: dict[tuple[str, int, str, int, str, str], RuntimeChoice] = {}
_AUTO_LOCK = threading.Lock()


def _trial_ms(
    dets: dict[tuple[str, int], ExportedYoloDetector], frame: np.ndarray, repeats: int
) -> dict[tuple[str, int], float]:
    """Median ms per frame of each candidate, timed in interleaved rounds.

    Round after round every candidate runs the frame once, so a burst of load from
    elsewhere (on a shared virtual machine a single run now and then takes 1.5x as long)
    falls on all candidates alike instead of deciding the choice.
    """
    times: dict[tuple[str, int], list[float]] = {k: [] for k in dets}
    for det in dets.values():
        det.detect(frame)  # first runs: compilation, allocation
        det.detect(frame)
    for _ in range(repeats):
        for k, det in dets.items():
            t0 = time.perf_counter()
            det.detect(frame)
            times[k].append((time.perf_counter() - t0) * 1000.0)
    return {k: statistics.median(v) for k, v in times.items()}


def choose_runtime(
    weights: Path,
    runtimes: Sequence[str] | None = None,
    thread_options: Sequence[int] | None = None,
    imgsz: int | None = None,
    cache_dir: Path = EXPORT_CACHE,
    repeats: int = 7,
    precision: str = "auto",
    device: str = "cpu",
) -> tuple[ExportedYoloDetector, RuntimeChoice]:
    """Build the fastest detector among runtimes x thread counts, timed on this machine now.

    Each candidate runs two warm-ups and ``repeats`` timed inferences of a 16:9 frame (in
    interleaved rounds, see :func:`_trial_ms`); the lowest median wins, except that a multi-threaded candidate must be faster than
    :data:`MULTI_THREAD_MARGIN` x the best single-threaded one. The choice is remembered
    for the process (per weights, size and options), so further cameras build the chosen
    detector directly.

    Args:
        weights: ``.pt``/``.onnx``/OpenVINO weights.
        runtimes: Candidates (default: the available ones of :data:`vision.runtimes.RUNTIMES`;
            onnxruntime is left out for OpenVINO IR weights).
        thread_options: Thread counts to try (default: 1 and all cores).
        imgsz: Inference size; None: the model's own (see :class:`ExportedYoloDetector`).
        cache_dir: Export cache.
        repeats: Timed inferences per candidate.
        precision: Passed to the detectors (see :class:`ExportedYoloDetector`).
        device: Passed to the detectors (``cpu``, ``gpu``/``cuda``).

    Returns:
        The chosen detector and the choice.

    Raises:
        DetectorError: no runtime can load the weights.
    """
    is_ir = weights_format(weights) == "openvino"
    candidates = [r for r in (runtimes or available_runtimes()) if r in RUNTIMES and not (is_ir and r == "onnxruntime")]
    if not candidates:
        raise DetectorError(f"no CPU runtime available for {weights} (install openvino or onnxruntime)")
    threads = sorted({max(1, int(t)) for t in (thread_options or (1, cpu_count()))})
    key = (str(weights), int(imgsz or 0), ",".join(candidates), threads[-1], precision, device)
    with _AUTO_LOCK:
        known = _AUTO_CHOICES.get(key)
    if known is not None:
        det = DETECTOR_CLASSES[known.runtime](
            weights, imgsz=imgsz, threads=known.threads, cache_dir=cache_dir, precision=precision, device=device
        )
        return det, known
    frame: np.ndarray | None = None
    built: dict[tuple[str, int], ExportedYoloDetector] = {}
    errors: list[str] = []
    for rt in candidates:
        for n in threads:
            try:
                det = DETECTOR_CLASSES[rt](
                    weights, imgsz=imgsz, threads=n, cache_dir=cache_dir, precision=precision, device=device
                )
                if frame is None:  # a 16:9 camera frame at the model's size
                    size = det.imgsz
                    frame = np.random.default_rng(0).integers(0, 256, size=(size * 9 // 16, size, 3), dtype=np.uint8)
                built[(rt, n)] = det
            except DetectorError as e:
                errors.append(str(e))
                break
    if not built or frame is None:
        raise DetectorError("; ".join(errors))
    timings = _trial_ms(built, frame, repeats)
    single = {k: v for k, v in timings.items() if k[1] == 1} or timings
    best = min(single, key=lambda k: single[k])
    multi = [k for k in timings if k[1] > 1 and timings[k] < MULTI_THREAD_MARGIN * timings[best]]
    if multi:
        best = min(multi, key=lambda k: timings[k])
    choice = RuntimeChoice(
        runtime=best[0],
        threads=best[1],
        timings_ms=tuple((f"{rt}/{n}", round(ms, 1)) for (rt, n), ms in sorted(timings.items())),
    )
    log.info(
        "detector runtime: %s (%s) with %d thread(s); start-up trial ms/frame: %s",
        best[0],
        built[best].precision,
        best[1],
        dict(choice.timings_ms),
    )
    with _AUTO_LOCK:
        _AUTO_CHOICES[key] = choice
    return built[best], choice


# --------------------------------------------------------------------------- factory


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


class _OneByOne:
    """``detect_batch`` over a detector that only has ``detect`` (the ultralytics reference)."""

    def __init__(self, detector: Detector) -> None:
        self.detector = detector
        self.runtime = str(getattr(detector, "runtime", type(detector).__name__))
        self.calibrated_scores = bool(getattr(detector, "calibrated_scores", True))

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
    "CLASS_MAP",
    "DETECTOR_CLASSES",
    "EXPORT_CACHE",
    "INT8_DIR_SUFFIX",
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
    "shared_detector",
    "byte_tracker_class",
    "choose_runtime",
    "describe_detector",
    "export_onnx",
    "exported_detector",
    "int8_model_dir",
    "int8_model_for",
    "label_table",
    "map_class_name",
    "merge_boxes",
    "normalise_class_name",
    "weights_digest",
]
