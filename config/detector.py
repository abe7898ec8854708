"""Which detector a camera runs, and how (model, runtime, precision, tiling, motion gate, batching)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator

from config.base import ConfigModel


class DetectorConfig(ConfigModel):
    """Which detector a camera runs."""

    kind: Literal["motion", "yolo"] = "motion"
    weights: Path | None = Field(None, description="YOLO weights (.pt/.onnx/OpenVINO dir); None = the shipped model.")
    conf: float = Field(0.3, gt=0, lt=1)
    iou: float = Field(0.5, gt=0, lt=1)
    agnostic_nms: bool = Field(
        True,
        description="yolo: one box per vehicle: non-maximum suppression across classes (a vehicle scored as both "
        "car and truck keeps its best box only, instead of being counted and tracked twice); false = per class, "
        "as ultralytics predicts by default.",
    )
    imgsz: int | None = Field(
        None,
        ge=64,
        le=2048,
        description="yolo: inference size (longest side, pixels); None = the size the model was trained at "
        "(512 for the shipped model; 640 for a model that does not say).",
    )
    tiles: tuple[Annotated[int, Field(ge=1, le=8)], Annotated[int, Field(ge=1, le=8)]] | None = Field(
        None,
        description="yolo: tiled inference for wide views with small, far vehicles: [columns, rows] of overlapping "
        "tiles, each run at the model's size, merged with the whole-frame pass (tile_full_frame) by NMS; "
        "None = the whole frame only. Costs about columns x rows + 1 passes per frame (bench.detector --tiles).",
    )
    tile_overlap: float = Field(
        0.2, ge=0, lt=0.9, description="yolo with tiles: fraction of a tile shared with its neighbour."
    )
    tile_full_frame: bool = Field(
        True,
        description="yolo with tiles: also run the whole frame (vehicles larger than a tile, close to the camera).",
    )
    device: str = Field(
        "cpu",
        description="yolo inference device: cpu, or gpu / cuda (optionally cuda:N / gpu.N): OpenVINO's GPU plugin, "
        "onnxruntime's CUDA provider (onnxruntime-gpu), torch's CUDA for runtime ultralytics.",
    )
    min_area_px: int = Field(150, ge=1, description="Motion detector: smallest blob area kept.")

    @field_validator("device")
    @classmethod
    def _device_name(cls, v: str) -> str:
        import re

        if not re.fullmatch(r"cpu|(gpu|cuda)([:.]\d+)?", v.strip().lower()):
            raise ValueError(f"unknown device {v!r} (expected cpu, gpu or cuda, optionally with an index: cuda:1)")
        return v.strip().lower()

    runtime: Literal["auto", "openvino", "onnxruntime", "ultralytics"] = Field(
        "auto",
        description="yolo: inference runtime. auto = the fastest of OpenVINO and onnxruntime, measured at start-up; "
        "ultralytics = the reference (PyTorch) predictor. A .pt is exported to ONNX once, into var/cache/detector.",
    )
    threads: int = Field(
        0,
        ge=0,
        le=256,
        description="yolo: inference threads per camera; 0 = chosen at start-up (1, or all cores if clearly faster).",
    )
    precision: Literal["auto", "int8", "bf16", "f32"] = Field(
        "auto",
        description="yolo on OpenVINO/onnxruntime: auto = the fastest available: on OpenVINO the int8 model quantized "
        "from these weights (<stem>_int8_openvino_model/ beside them, made by python -m models.quantize) when there "
        "is one, else bf16; int8 = that model (an error when missing); bf16 = the float model at the runtime's "
        "default (bf16 on CPUs with AMX/AVX512-BF16, else f32; onnxruntime: f32); f32 = full precision.",
    )
    motion_gate: bool = Field(
        True,
        description="yolo: run the detector only on frames where the motion detector sees change (tracks are carried "
        "over the others).",
    )
    share: bool = Field(
        True,
        description="yolo on OpenVINO/onnxruntime: cameras of one worker with the same detector settings share one "
        "loaded model; frames they need detected at the same moment go through it as one batch.",
    )
    max_batch: int = Field(8, ge=1, le=64, description="yolo with share: most frames run through the model at once.")
    gate_refresh_frames: int = Field(
        10,
        ge=1,
        le=100_000,
        description="yolo with motion_gate: run the detector at least every this many analysed frames.",
    )


__all__ = [
    "DetectorConfig",
]
