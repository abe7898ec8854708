"""CPU inference runtimes for exported YOLO detectors: onnxruntime and OpenVINO.

With :mod:`vision.detectors` this is the only package that imports onnxruntime or
openvino (both lazily, in :mod:`vision.runtimes.sessions`, when a session is built).
It knows nothing about our labels: it turns BGR frames into the model's raw rows and back into boxes in
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

One module per idea, every name re-exported here (import them from ``vision.runtimes``):
:mod:`~vision.runtimes.letterbox`, :mod:`~vision.runtimes.decode`,
:mod:`~vision.runtimes.model_info` (:func:`read_model_info`), :mod:`~vision.runtimes.sessions`
(runtimes, precisions, sessions) and :mod:`~vision.runtimes.devices` (device names, CPU count).
"""

from __future__ import annotations

from vision.runtimes.decode import RawDetections, decode_yolo
from vision.runtimes.decode import expected_anchors as expected_anchors  # public, not in __all__ (as before)
from vision.runtimes.devices import DEVICE_HELP, cpu_count, openvino_device, parse_device
from vision.runtimes.letterbox import NCHW_F32, NHWC_U8, PAD_VALUE, Letterbox, LetterboxInfo, letterbox_params
from vision.runtimes.model_info import ModelInfo, read_model_info, resolve_model_file
from vision.runtimes.sessions import (
    PRECISIONS,
    RUNTIMES,
    OpenVinoSession,
    OrtSession,
    Session,
    available_runtimes,
    open_session,
)

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
