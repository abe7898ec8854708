"""Object detectors, one runtime per module: frame in, :class:`core.types.Detection` list out.

* :mod:`~vision.detectors.base`: the :class:`~vision.detectors.base.Detector` protocol,
  :class:`~vision.detectors.base.DetectorError`, the one class table
  (:data:`~vision.detectors.base.CLASS_MAP`) and the weights checks every runtime shares.
* :mod:`~vision.detectors.motion`: background subtraction for fixed cameras, no weights.
* :mod:`~vision.detectors.ultralytics`: the ultralytics predictor (the reference), and the
  offline switch that must precede any ultralytics import.
* :mod:`~vision.detectors.export`: ``.pt`` -> ONNX export cache, weights digests, int8 model lookup.
* :mod:`~vision.detectors.exported`: the same models on OpenVINO / onnxruntime with our own
  pre/post-processing (:mod:`vision.runtimes`).
* :mod:`~vision.detectors.autochoice`: ``runtime: auto``, the fastest runtime measured at start-up.
* :mod:`~vision.detectors.gate`: run a detector only on frames with motion.
* :mod:`~vision.detectors.factory`: what a camera's ``detector`` config section asks for.

These modules (with :mod:`vision.runtimes`) are the only ones in ``vision`` that import
ultralytics, onnxruntime or openvino. :mod:`vision.detector` re-exports their public names.
The package itself imports nothing, so importing one module does not load the others.
"""
