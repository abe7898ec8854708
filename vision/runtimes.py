"""CPU inference runtimes for exported YOLO detectors: onnxruntime and OpenVINO.

With :mod:`vision.detectors` this is the only module that imports onnxruntime or
openvino (both lazily, when a session is built). It knows nothing about our
labels: it turns BGR frames into the model's raw rows and back into boxes in
frame pixels. :class:`vision.detectors.exported.OnnxDetector` and
:class:`vision.detectors.exported.OpenVinoDetector` put labels on them.

The pieces, shared by both runtimes:

* :class:`Letterbox`: resize + pad each frame exactly as ultralytics' ``LetterBox``
  does (same ratio, rounding, centring, grey 114 padding, minimum rectangle for a
  single frame shape), straight into a preallocated batch that is reused from frame
  to frame while the shapes stay the same: ``float32`` NCHW RGB ``/255`` (the model's
  own input, for onnxruntime) or the letterboxed BGR ``uint8`` NHWC pixels as they are
  (OpenVINO, whose graph then does the conversion, colour swap and scaling itself, in
  its own optimised kernels: :class:`OpenVinoSession`).
* :func:`decode_yolo`: the YOLOv8/11 head output ``(batch, 4 + classes [+ mask
  coefficients], anchors)`` -> per image ``xyxy`` boxes in frame pixels, scores and
  class ids: confidence filter, class filter, class-aware NMS (OpenCV), the same
  steps and order as ultralytics' ``non_max_suppression``, boxes mapped back with
  the resize ratio actually applied (as ``ultralytics.utils.ops.scale_boxes``).
* :class:`OrtSession` / :class:`OpenVinoSession`: one model, one ``run(batch)``.
"""

from __future__ import annotations

import ast
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

#: Runtimes in this module, in the order ``auto`` tries them.
RUNTIMES: tuple[str, ...] = ("openvino", "onnxruntime")

#: Precisions a detector may be asked for: ``auto`` (int8 where a quantized model is there, else the
#: runtime's default float), ``int8``, ``bf16`` (the float model at the runtime's default: bf16 where the CPU
#: has it), ``f32``.
PRECISIONS: tuple[str, ...] = ("auto", "int8", "bf16", "f32")

#: Padding grey of ultralytics' letterbox.
PAD_VALUE = 114

#: Input layouts a session takes: the model's own ``(n, 3, H, W)`` float32 RGB in 0..1, or
#: letterboxed ``(n, H, W, 3)`` uint8 BGR pixels that the session converts itself.
NCHW_F32 = "nchw_f32"
NHWC_U8 = "nhwc_u8"

#: Class offset for class-aware NMS (boxes of different classes never overlap), as ultralytics.
_MAX_WH = 7680


#: Devices a detector may be asked to run on (``detector.device``): ``cpu``; ``gpu`` / ``cuda``
#: (OpenVINO's ``GPU`` plugin, onnxruntime's CUDA provider, torch's CUDA), with an optional index (``cuda:1``).
DEVICE_HELP = "cpu, gpu or cuda (optionally with an index: cuda:1, gpu.1)"


def parse_device(device: str) -> tuple[str, int | None]:
    """``"cpu"`` -> ("cpu", None); ``"cuda"``, ``"gpu"`` -> ("gpu", None); ``"cuda:1"``, ``"GPU.1"`` -> ("gpu", 1).

    Raises:
        ValueError: anything else.
    """
    text = str(device).strip().lower()
    if text == "cpu":
        return "cpu", None
    for prefix in ("cuda", "gpu"):
        if text == prefix:
            return "gpu", None
        if text.startswith(prefix) and text[len(prefix)] in ":." and text[len(prefix) + 1 :].isdigit():
            return "gpu", int(text[len(prefix) + 1 :])
    raise ValueError(f"unknown device {device!r} (expected {DEVICE_HELP})")


def openvino_device(device: str) -> str:
    """OpenVINO's name for a device: ``CPU``, ``GPU`` or ``GPU.<n>``."""
    kind, index = parse_device(device)
    if kind == "cpu":
        return "CPU"
    return "GPU" if index is None else f"GPU.{index}"


def cpu_count() -> int:
    """CPU cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def available_runtimes() -> list[str]:
    """The runtimes of :data:`RUNTIMES` whose Python package imports."""
    out: list[str] = []
    for name, module in (("openvino", "openvino"), ("onnxruntime", "onnxruntime")):
        try:
            __import__(module)
        except ImportError:
            continue
        out.append(name)
    return out


# --------------------------------------------------------------------------- letterbox


@dataclass(frozen=True, slots=True)
class LetterboxInfo:
    """How one frame was placed in the network input.

    Attributes:
        frame_hw: Height and width of the original frame.
        gain_x: Resize ratio applied along x (resized width / frame width).
        gain_y: Resize ratio applied along y.
        pad_x: Pixels of padding left of the resized frame.
        pad_y: Pixels of padding above the resized frame.
    """

    frame_hw: tuple[int, int]
    gain_x: float
    gain_y: float
    pad_x: int
    pad_y: int


def letterbox_params(
    frame_hw: tuple[int, int], new_hw: tuple[int, int], auto: bool, stride: int
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Letterbox geometry, computed exactly as ultralytics' ``LetterBox.get_params``.

    Args:
        frame_hw: Frame height and width.
        new_hw: Target height and width (the model size).
        auto: Minimum rectangle: pad only up to the next multiple of ``stride``.
        stride: Model stride.

    Returns:
        ``(input_hw, resized_wh, (left, top))``: network input height/width, the size the
        frame is resized to (width, height, as OpenCV takes it), and the top-left padding.
    """
    h, w = frame_hw
    r = min(new_hw[0] / h, new_hw[1] / w)
    new_unpad = max(round(w * r), 1), max(round(h * r), 1)
    dw, dh = new_hw[1] - new_unpad[0], new_hw[0] - new_unpad[1]
    if auto:
        dw, dh = int(np.mod(dw, stride)), int(np.mod(dh, stride))
    top, bottom = round(dh / 2 - 0.1), round(dh / 2 + 0.1)
    left, right = round(dw / 2 - 0.1), round(dw / 2 + 0.1)
    return (new_unpad[1] + top + bottom, new_unpad[0] + left + right), new_unpad, (left, top)


class Letterbox:
    """Letterboxes BGR frames into a reusable batch: ``float32`` NCHW RGB in 0..1, or ``uint8`` NHWC BGR.

    One frame (or several of one shape) gets the minimum rectangle of the model
    size (``rect``, as ultralytics predicts with a PyTorch or dynamic model): a 16:9
    camera at 640 runs at 640x384 instead of 640x640. Frames of different shapes in
    one batch share the smallest input that holds each one's rectangle. A model with
    a fixed input size gets exactly that size. The padding of a reused buffer is
    written once, when the buffer is made; later frames only overwrite the image area.

    Not thread-safe (the buffer is reused); one per detector.
    """

    def __init__(
        self, imgsz: int, stride: int = 32, fixed_hw: tuple[int, int] | None = None, layout: str = NCHW_F32
    ) -> None:
        """Create a letterboxer.

        Args:
            imgsz: Model size (longest side of the input).
            stride: Model stride; rectangles are rounded up to multiples of it.
            fixed_hw: The model's fixed input height and width, or None when it takes any size.
            layout: :data:`NCHW_F32` or :data:`NHWC_U8`.

        Raises:
            ValueError: unknown layout.
        """
        if layout not in (NCHW_F32, NHWC_U8):
            raise ValueError(f"unknown input layout {layout!r} (expected {NCHW_F32!r} or {NHWC_U8!r})")
        self.imgsz = int(imgsz)
        self.stride = int(stride)
        self.fixed_hw = fixed_hw
        self.layout = layout
        self._batch: np.ndarray | None = None
        self._layout: tuple[Any, ...] | None = None

    def plan(self, shapes: list[tuple[int, int]]) -> tuple[tuple[int, int], bool]:
        """Input height/width for frames of these shapes, and whether each frame uses its minimum rectangle."""
        if self.fixed_hw is not None:
            return self.fixed_hw, False
        square = (self.imgsz, self.imgsz)
        if len(set(shapes)) == 1:
            return letterbox_params(shapes[0], square, True, self.stride)[0], True
        rects = [letterbox_params(s, square, True, self.stride)[0] for s in shapes]
        return (max(r[0] for r in rects), max(r[1] for r in rects)), False

    def __call__(self, images: list[np.ndarray]) -> tuple[np.ndarray, list[LetterboxInfo]]:
        """Letterbox frames into the batch buffer.

        Args:
            images: BGR uint8 frames ``(H, W, 3)``.

        Returns:
            The ``(len(images), 3, H, W)`` float32 (or ``(len(images), H, W, 3)`` uint8) batch,
            a view of the reused buffer, valid until the next call; and where each frame went.
        """
        shapes = [(int(im.shape[0]), int(im.shape[1])) for im in images]
        input_hw, auto = self.plan(shapes)
        key = (len(images), input_hw, tuple(shapes))
        if self._batch is None or key != self._layout:
            if self.layout == NHWC_U8:
                self._batch = np.full((len(images), *input_hw, 3), PAD_VALUE, dtype=np.uint8)
            else:
                self._batch = np.full((len(images), 3, *input_hw), PAD_VALUE / 255.0, dtype=np.float32)
            self._layout = key
        batch = self._batch
        assert batch is not None
        infos: list[LetterboxInfo] = []
        scale = np.float32(1.0 / 255.0)
        for i, (im, shape) in enumerate(zip(images, shapes, strict=True)):
            _, (rw, rh), (left, top) = letterbox_params(shape, input_hw, auto, self.stride)
            same = (rw, rh) == (shape[1], shape[0])
            resized = im if same else cv2.resize(im, (rw, rh), interpolation=cv2.INTER_LINEAR)
            if self.layout == NHWC_U8:
                batch[i, top : top + rh, left : left + rw] = resized
            else:
                for c in range(3):  # RGB plane c is BGR channel 2 - c
                    np.multiply(resized[:, :, 2 - c], scale, out=batch[i, c, top : top + rh, left : left + rw])
            infos.append(LetterboxInfo(shape, rw / shape[1], rh / shape[0], left, top))
        return batch, infos

    @staticmethod
    def input_hw(batch: np.ndarray) -> tuple[int, int]:
        """Height and width of a batch this letterboxer made (either layout)."""
        if batch.dtype == np.uint8:
            return int(batch.shape[1]), int(batch.shape[2])
        return int(batch.shape[2]), int(batch.shape[3])


# --------------------------------------------------------------------------- decoding


@dataclass(frozen=True, slots=True)
class RawDetections:
    """Detections of one frame, in frame pixels, highest score first.

    Attributes:
        xyxy: ``(n, 4)`` float32 corners, clipped to the frame.
        scores: ``(n,)`` float32 confidences.
        classes: ``(n,)`` int model class ids.
    """

    xyxy: np.ndarray
    scores: np.ndarray
    classes: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)


def _empty() -> RawDetections:
    return RawDetections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))


def expected_anchors(input_hw: tuple[int, int]) -> tuple[int, int]:
    """Anchor counts of a YOLOv8/11 head for an input size: P3-P5 (strides 8-32) and P3-P6 (8-64) models."""
    h, w = input_hw
    p5 = sum(-(-h // s) * -(-w // s) for s in (8, 16, 32))
    return p5, p5 + -(-h // 64) * -(-w // 64)


def decode_yolo(
    output: np.ndarray,
    infos: list[LetterboxInfo],
    num_classes: int,
    conf: float,
    iou: float,
    classes: np.ndarray | None = None,
    max_det: int = 300,
    max_nms: int = 30000,
    input_hw: tuple[int, int] | None = None,
    agnostic: bool = False,
    groups: np.ndarray | None = None,
) -> list[RawDetections]:
    """Decode a YOLOv8/11 detection head and run NMS (class-aware, as ultralytics, or across classes).

    Args:
        output: ``(batch, 4 + num_classes [+ extra], anchors)``: centre x, centre y, width,
            height in input pixels, then per-class scores (extra rows, e.g. mask coefficients
            of a segmentation model, are ignored).
        infos: Letterbox placement of each image of the batch.
        num_classes: Number of classes of the model.
        conf: Minimum confidence.
        iou: NMS IoU threshold.
        classes: Model class ids to keep (None: all).
        max_det: Most detections kept per image.
        max_nms: Most candidates (by score) given to NMS.
        input_hw: Network input height and width; when given, the number of anchors is
            checked against the strides 8/16/32 (and 64 for P6 models).
        agnostic: Suppress overlapping boxes whatever their classes (one box per object, the
            best-scored class; ultralytics' ``agnostic_nms``); False: only within a class.
        groups: With ``agnostic``: model class id -> suppression group (``(num_classes,)`` ints);
            classes of one group suppress each other, other groups never (people are not
            suppressed by the vehicle they ride). None: one group.

    Returns:
        One :class:`RawDetections` per image.

    Raises:
        ValueError: the output does not have the expected shape.
    """
    if (
        output.ndim != 3
        or output.shape[0] != len(infos)
        or output.shape[1] < 4 + num_classes
        or (input_hw is not None and output.shape[2] not in expected_anchors(input_hw))
    ):
        raise ValueError(
            f"unexpected model output shape {output.shape}; expected (batch={len(infos)}, 4+{num_classes}[+extra], anchors) "
            "of a YOLOv8/YOLO11 detection or segmentation head"
        )
    out: list[RawDetections] = []
    for b, info in enumerate(infos):
        scores_all = output[b, 4 : 4 + num_classes]  # (nc, anchors)
        best = scores_all.max(axis=0)
        cand = np.flatnonzero(best > conf)
        if cand.size == 0:
            out.append(_empty())
            continue
        cls = scores_all[:, cand].argmax(axis=0)
        score = best[cand]
        if classes is not None:
            keep = np.isin(cls, classes)
            cand, cls, score = cand[keep], cls[keep], score[keep]
            if cand.size == 0:
                out.append(_empty())
                continue
        if cand.size > max_nms:
            top = np.argsort(-score, kind="stable")[:max_nms]
            cand, cls, score = cand[top], cls[top], score[top]
        cx, cy, w, h = (output[b, k, cand] for k in range(4))
        xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1).astype(np.float32)
        if agnostic:
            offset = ((groups[cls] if groups is not None else np.zeros_like(cls)) * _MAX_WH).astype(np.float32)[:, None]
        else:
            offset = (cls * _MAX_WH).astype(np.float32)[:, None]
        shifted = xyxy + offset
        rects = np.concatenate([shifted[:, :2], shifted[:, 2:] - shifted[:, :2]], axis=1)
        picked = cv2.dnn.NMSBoxes(rects.tolist(), score.astype(float).tolist(), float(conf), float(iou))
        idx = np.asarray(picked, dtype=np.int64).reshape(-1)
        idx = idx[np.argsort(-score[idx], kind="stable")][:max_det]
        boxes = xyxy[idx]
        boxes[:, [0, 2]] = (boxes[:, [0, 2]] - info.pad_x) / info.gain_x
        boxes[:, [1, 3]] = (boxes[:, [1, 3]] - info.pad_y) / info.gain_y
        fh, fw = info.frame_hw
        np.clip(boxes, 0, np.array([fw, fh, fw, fh], dtype=np.float32), out=boxes)
        out.append(RawDetections(boxes, score[idx].astype(np.float32), cls[idx].astype(np.int64)))
    return out


# --------------------------------------------------------------------------- model files


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What an exported model says about itself (ultralytics export metadata).

    Attributes:
        path: The model file (``.onnx`` or OpenVINO ``.xml``).
        names: Class id -> class name.
        stride: Largest model stride.
        imgsz: Size the model was exported at (height, width).
        quantization: For an int8 model (``python -m models.quantize``), how it was made: at
            least ``source_sha256``, the :func:`vision.detectors.export.file_digest` of the weights it was
            quantized from; None for a float model.
    """

    path: Path
    names: dict[int, str]
    stride: int
    imgsz: tuple[int, int]
    quantization: dict[str, Any] | None = None

    @property
    def is_int8(self) -> bool:
        """True for a model quantized to int8 by ``python -m models.quantize``."""
        return self.quantization is not None


def _parse_names(raw: Any) -> dict[int, str]:
    if isinstance(raw, str):
        raw = ast.literal_eval(raw)
    if isinstance(raw, list | tuple):
        raw = dict(enumerate(raw))
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"no class names in the model metadata (got {raw!r})")
    return {int(k): str(v) for k, v in raw.items()}


def _parse_imgsz(raw: Any) -> tuple[int, int]:
    if isinstance(raw, str):
        raw = ast.literal_eval(raw)
    if isinstance(raw, int):
        return raw, raw
    h, w = (int(v) for v in raw)
    return h, w


def resolve_model_file(path: Path) -> Path:
    """The model file for a path: an ``.onnx``/``.xml`` file, or the ``.xml`` in an OpenVINO export dir."""
    if path.is_dir():
        xmls = sorted(path.glob("*.xml"))
        if not xmls:
            raise FileNotFoundError(f"{path}: no OpenVINO model (*.xml) in this directory")
        return xmls[0]
    return path


def read_model_info(path: Path) -> ModelInfo:
    """Class names, stride and export size of an ultralytics ``.onnx`` file or OpenVINO export.

    ONNX keeps them in the model's metadata properties; an OpenVINO export directory in
    ``metadata.yaml`` next to the ``.xml``.

    Raises:
        ValueError: the model carries no ultralytics metadata (class names).
        FileNotFoundError: no model file there.
    """
    file = resolve_model_file(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such model file")
    meta: dict[str, Any]
    if file.suffix.lower() == ".onnx":
        import onnx

        proto = onnx.load(str(file), load_external_data=False)
        meta = {p.key: p.value for p in proto.metadata_props}
    else:
        yaml_path = file.parent / "metadata.yaml"
        if not yaml_path.is_file():
            raise ValueError(f"{file}: no metadata.yaml beside the OpenVINO model (class names unknown)")
        import yaml

        meta = yaml.safe_load(yaml_path.read_text(encoding="utf-8")) or {}
    if "names" not in meta:
        raise ValueError(f"{file}: no class names in the model metadata; export it with ultralytics")
    stride = meta.get("stride", 32)
    quant = meta.get("quantization")
    if quant is not None and not (isinstance(quant, dict) and quant.get("source_sha256")):
        raise ValueError(f"{file}: metadata 'quantization' must be a mapping with source_sha256 (got {quant!r})")
    return ModelInfo(
        path=file,
        names=_parse_names(meta["names"]),
        stride=int(json.loads(str(stride))) if isinstance(stride, str) else int(stride),
        imgsz=_parse_imgsz(meta.get("imgsz", 640)),
        quantization=quant,
    )


# --------------------------------------------------------------------------- sessions


class Session(Protocol):
    """One loaded model on one runtime."""

    runtime: str
    threads: int
    fixed_hw: tuple[int, int] | None  # the model's fixed input height/width, None when dynamic
    fixed_batch: int | None  # the model's fixed batch size, None when dynamic
    input_layout: str  # NCHW_F32 or NHWC_U8: what run() takes

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Run the model on a batch in :attr:`input_layout`; returns its first output."""
        ...


def _static(dim: Any) -> int | None:
    return int(dim) if isinstance(dim, int) and dim > 0 else None


class OrtSession:
    """An onnxruntime CPU session.

    Tuned for a CPU shared by several cameras: ``threads`` intra-op threads (no
    inter-op parallelism: YOLO is one chain of layers), full graph optimisation,
    and no spinning of idle worker threads, which on a loaded machine burns the
    time other cameras' threads need.
    """

    runtime = "onnxruntime"
    input_layout = NCHW_F32

    def __init__(self, model: Path, threads: int, device: str = "cpu") -> None:
        """Load an ``.onnx`` model.

        Args:
            model: The ``.onnx`` file.
            threads: Intra-op threads (CPU work).
            device: ``cpu``, or ``cuda``/``gpu`` (``cuda:N``): onnxruntime's CUDA provider, which must be
                available (the ``onnxruntime-gpu`` build); CPU kernels take what it does not.

        Raises:
            RuntimeError / onnxruntime errors: the model cannot be loaded, or the device is not available.
        """
        import onnxruntime as ort

        kind, index = parse_device(device)
        providers: list[Any] = ["CPUExecutionProvider"]
        if kind == "gpu":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise RuntimeError(
                    f"device {device!r}: onnxruntime has no CUDA provider here (install onnxruntime-gpu); "
                    f"available: {', '.join(ort.get_available_providers())}"
                )
            providers = [("CUDAExecutionProvider", {"device_id": index or 0}), "CPUExecutionProvider"]
        self.device = device

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.threads = int(threads)
        self._session = ort.InferenceSession(str(model), sess_options=opts, providers=providers)
        inp = self._session.get_inputs()[0]
        self._input = inp.name
        shape = list(inp.shape)
        self.fixed_batch = _static(shape[0])
        h, w = _static(shape[2]), _static(shape[3])
        self.fixed_hw = (h, w) if h is not None and w is not None else None

    def run(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self._session.run(None, {self._input: batch})[0])


class OpenVinoSession:
    """An OpenVINO CPU model (read from ``.onnx`` or IR ``.xml``).

    The model takes the letterboxed frames as they are (``uint8`` NHWC BGR,
    :data:`NHWC_U8`): a pre-processing step added to the graph converts them to the
    network's float32 NCHW RGB in 0..1, fused into the first convolution's input
    handling instead of three numpy passes per frame. Compiled per input shape (a
    static shape lets the CPU plugin plan its memory and
    pick kernels once), with the ``LATENCY`` performance hint (one request at a time
    per camera) and ``threads`` inference threads. ``precision`` None keeps
    OpenVINO's default inference precision: bf16 on CPUs with AMX or AVX512-BF16
    (about 1.6x faster than f32 there; scores move by a few hundredths), else f32;
    ``"f32"`` forces full precision. An int8 model (``python -m models.quantize``) runs its
    quantized convolutions in int8 (VNNI) and the layers kept in float at that same
    precision. At most ``max_shapes`` compiled shapes are kept.
    Compiling takes about a second per shape; OpenVINO's on-disk blob cache would save
    most of that at the price of a cache that grows with every model, shape and thread
    count, so it is not used.
    """

    runtime = "openvino"
    input_layout = NHWC_U8

    def __init__(
        self,
        model: Path,
        threads: int,
        hint: str = "LATENCY",
        max_shapes: int = 4,
        precision: str | None = None,
        device: str = "cpu",
    ) -> None:
        """Read a model.

        Args:
            model: ``.onnx`` or IR ``.xml``.
            threads: Inference threads (CPU plugin).
            hint: OpenVINO performance hint.
            max_shapes: Compiled input shapes kept.
            precision: None (the device's default) or ``f32``.
            device: ``cpu``, or ``gpu``/``cuda`` (``gpu.N``): OpenVINO's GPU plugin (Intel GPUs).

        Raises:
            RuntimeError / openvino errors: the model cannot be read, or the device is not available.
        """
        import openvino as ov
        from openvino.preprocess import ColorFormat, PrePostProcessor

        self.device = openvino_device(device)
        self.threads = int(threads)
        self.hint = hint
        self.precision = precision
        self.max_shapes = max(1, int(max_shapes))
        self._core = ov.Core()
        if self.device not in self._core.available_devices and not (
            self.device == "GPU" and any(d.startswith("GPU") for d in self._core.available_devices)
        ):
            raise RuntimeError(
                f"device {device!r}: OpenVINO has no {self.device} here (available: {', '.join(self._core.available_devices)})"
            )
        caps = self._core.get_property(self.device, "OPTIMIZATION_CAPABILITIES")
        #: What the float layers compute in: bf16 (OpenVINO's default where the CPU has it) or f32.
        if self.device != "CPU":  # the GPU plugin computes in f16 by default
            self.float_precision = "f16" if precision is None and "FP16" in caps else "f32"
        else:
            self.float_precision = "bf16" if precision is None and "BF16" in caps else "f32"
        network = self._core.read_model(str(model))
        pshape = network.inputs[0].get_partial_shape()
        dims = [d.get_length() if d.is_static else None for d in pshape]
        self.fixed_batch = dims[0]
        self.fixed_hw = (dims[2], dims[3]) if dims[2] is not None and dims[3] is not None else None
        ppp = PrePostProcessor(network)
        ppp.input().tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC")).set_color_format(
            ColorFormat.BGR
        )
        ppp.input().model().set_layout(ov.Layout("NCHW"))
        ppp.input().preprocess().convert_element_type(ov.Type.f32).convert_color(ColorFormat.RGB).scale(255.0)
        self._model = ppp.build()
        self._compiled: dict[tuple[int, ...], Any] = {}
        self._lock = threading.Lock()

    def _request(self, shape: tuple[int, ...]) -> Any:
        req = self._compiled.get(shape)
        if req is None:
            model = self._model.clone()
            model.reshape({model.inputs[0].any_name: list(shape)})
            config: dict[str, Any] = {"PERFORMANCE_HINT": self.hint}
            if self.device == "CPU":
                config["INFERENCE_NUM_THREADS"] = self.threads
            if self.precision is not None:
                config["INFERENCE_PRECISION_HINT"] = self.precision
            compiled = self._core.compile_model(model, self.device, config)
            if len(self._compiled) >= self.max_shapes:
                self._compiled.pop(next(iter(self._compiled)))
            req = self._compiled[shape] = compiled.create_infer_request()
        return req

    def run(self, batch: np.ndarray) -> np.ndarray:
        with self._lock:
            req = self._request(tuple(batch.shape))
            req.infer({0: batch}, share_inputs=True)
            return np.array(req.get_output_tensor(0).data, copy=True)


def open_session(runtime: str, model: Path, threads: int, precision: str = "auto", device: str = "cpu") -> Session:
    """A session of ``runtime`` (``openvino`` or ``onnxruntime``) on a model file.

    Args:
        runtime: ``openvino`` or ``onnxruntime``.
        model: ``.onnx`` (either runtime) or OpenVINO ``.xml`` model (float or int8).
        threads: Inference threads.
        precision: What the float layers compute in: ``f32`` forces full precision; anything
            else (``auto``, ``bf16``, ``int8``) keeps the runtime's default (OpenVINO: bf16 where
            the CPU has it; onnxruntime: f32). Which model file is run (float or int8) is
            the caller's choice, see :class:`vision.detectors.exported.ExportedYoloDetector`.
        device: ``cpu``, ``gpu``/``cuda`` (see :func:`parse_device`).

    Raises:
        ValueError: unknown runtime or precision, or onnxruntime asked to run an OpenVINO IR.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r} (expected one of {', '.join(PRECISIONS)})")
    if runtime == "openvino":
        return OpenVinoSession(model, threads, precision="f32" if precision == "f32" else None, device=device)
    if runtime == "onnxruntime":
        if model.suffix.lower() != ".onnx":
            raise ValueError(f"onnxruntime runs .onnx models only, not {model.name}")
        return OrtSession(model, threads, device=device)
    raise ValueError(f"unknown runtime {runtime!r} (expected one of {', '.join(RUNTIMES)})")


__all__ = [
    "NCHW_F32",
    "NHWC_U8",
    "DEVICE_HELP",
    "PAD_VALUE",
    "PRECISIONS",
    "RUNTIMES",
    "Letterbox",
    "LetterboxInfo",
    "ModelInfo",
    "OpenVinoSession",
    "OrtSession",
    "RawDetections",
    "Session",
    "available_runtimes",
    "cpu_count",
    "decode_yolo",
    "letterbox_params",
    "open_session",
    "openvino_device",
    "parse_device",
    "read_model_info",
    "resolve_model_file",
]
