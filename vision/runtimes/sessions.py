"""Sessions of the CPU runtimes: one loaded model on onnxruntime or OpenVINO, one ``run(batch)``.

With :mod:`vision.detectors` this is the only module that imports onnxruntime or
openvino (both lazily, when a session is built or the runtimes are listed).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vision.runtimes.devices import openvino_device, parse_device
from vision.runtimes.letterbox import NCHW_F32, NHWC_U8

#: Runtimes in this module, in the order ``auto`` tries them.
RUNTIMES: tuple[str, ...] = ("openvino", "onnxruntime")

#: Precisions a detector may be asked for: ``auto`` (int8 where a quantized model is there, else the
#: runtime's default float), ``int8``, ``bf16`` (the float model at the runtime's default: bf16 where the CPU
#: has it), ``f32``.
PRECISIONS: tuple[str, ...] = ("auto", "int8", "bf16", "f32")


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
