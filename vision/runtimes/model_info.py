"""What an exported model says about itself: class names, stride, export size, quantization."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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
