"""Exported models on disk: the ``.pt`` -> ONNX export cache, weights digests, int8 model lookup.

A ``.pt`` is exported to ONNX once per weights content (:func:`export_onnx`, into
:data:`EXPORT_CACHE`); an int8 OpenVINO model made by ``python -m models.quantize`` lives
beside its weights (:func:`int8_model_dir`) and is used only while it was made from exactly
those weights (:func:`int8_model_for`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

from config.settings import REPO_ROOT
from vision.detectors.base import DetectorError
from vision.detectors.ultralytics import ULTRALYTICS_LOCK, imgsz_of, ultralytics_offline
from vision.runtimes import read_model_info

log = logging.getLogger("vision.detector")  # one logger for every detector module, as before the split

#: Where ``.pt`` weights are exported to ONNX (once per weights file content).
EXPORT_CACHE: Path = REPO_ROOT / "var" / "cache" / "detector"

#: Suffix of the directory that holds a model's int8 OpenVINO version (``python -m models.quantize``), beside
#: the weights: ``models/vehicles.pt`` -> ``models/vehicles_int8_openvino_model/``.
INT8_DIR_SUFFIX = "_int8_openvino_model"

#: Bumped when the export changes (v2: traced at the model's training size, which its metadata then carries).
EXPORT_VERSION = "v2"

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
        ultralytics_offline()
        with tempfile.TemporaryDirectory(prefix="export-", dir=target.parent) as tmp:
            copy = Path(tmp) / weights.name
            shutil.copyfile(weights, copy)
            if file_digest(copy) != digest:  # weights replaced while we copied them (a training run saving)
                raise DetectorError(f"{weights} changed while it was being exported; try again")
            try:
                with ULTRALYTICS_LOCK:
                    from ultralytics import YOLO

                    model = YOLO(str(copy))
                    out = model.export(
                        format="onnx",
                        dynamic=True,
                        simplify=True,
                        imgsz=imgsz_of(model.overrides.get("imgsz")),
                        device="cpu",
                        verbose=False,
                    )
            except Exception as e:  # noqa: BLE001 - any export failure becomes one clear error
                raise DetectorError(f"cannot export {weights} to ONNX: {type(e).__name__}: {e}") from e
            os.replace(out, target)
    return target


__all__ = [
    "EXPORT_CACHE",
    "EXPORT_VERSION",
    "INT8_DIR_SUFFIX",
    "export_onnx",
    "file_digest",
    "int8_model_dir",
    "int8_model_for",
    "weights_digest",
]
