"""Device names of the detector runtimes (``cpu``, ``gpu``/``cuda`` with an index) and the CPU count."""

from __future__ import annotations

import os

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
