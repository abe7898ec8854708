"""Train the plate detector (one class, ``plate``) on the openly licensed plate boxes, on CPU, offline.

Steps (each resumable, as :mod:`models.train`):

1. the data: ``data/extra/plates`` (``python -m models.plate_data --mirror-root DIR`` rebuilds it from the
   snapshots named in ``models/plate_data_sources.yaml``);
2. a YOLO11n detection model with ``nc=1``, every tensor whose name and shape match copied from the shipped
   vehicle model ``models/vehicles.pt`` (backbone and neck already know vehicles; the class branch is new);
3. ultralytics training at 320 px (a vehicle crop's plate is large at that size), checkpoints every epoch
   in ``var/runs/<name>``; ``last.pt`` resumes;
4. ``models/plates.pt`` + ONNX + OpenVINO exports, and the int8 OpenVINO model the workers run
   (``models/plates_int8_openvino_model``), calibrated on the plate training images.

    nohup nice -n 10 .venv/bin/python -m models.train_plates >> var/runs/plates.log 2>&1 &
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "false")

from models.plate_data.manifest import DEFAULT_MANIFEST, load_manifest  # noqa: E402
from models.train import (  # noqa: E402
    MODELS_DIR,
    RUNS_DIR,
    SHIPPED_PT,
    build_init_checkpoint,
    is_resumable,
    log,
    ship,
    train_then_export,
    training_device,
)

PLATES_PT = MODELS_DIR / "plates.pt"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m models.train_plates",
        description="Train the one-class plate detector (resumable; CPU unless a GPU is seen), export and "
        "quantize it to models/plates*.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--data", type=Path, default=None, help="data.yaml (default: the manifest's out/data.yaml)")
    p.add_argument("--name", default="plates", help="run name; checkpoints in var/runs/<name>/weights")
    p.add_argument("--imgsz", type=int, default=320, help="train/export size (multiple of 32)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--time-hours", type=float, default=0.0, help="stop after this many hours (0: by epochs)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--device", default="auto", help="auto | cpu | 0 | 0,1 ...")
    p.add_argument("--init", type=Path, default=SHIPPED_PT, help="weights whose matching tensors start the model")
    p.add_argument("--fresh", action="store_true", help="start over even if last.pt exists")
    p.add_argument("--export-only", action="store_true", help="skip training; export best.pt of the run")
    p.add_argument("--no-export", action="store_true", help="train only")
    return p.parse_args(argv)


def train(args: argparse.Namespace, run_dir: Path, last: Path) -> int | None:
    """Resume from ``last`` or start a new run; an exit status on error, else None."""
    from ultralytics import YOLO

    if last.is_file() and not args.fresh and is_resumable(last):
        log(f"resuming from {last}")
        YOLO(str(last)).train(resume=True, workers=args.workers, plots=False)
        return None
    if last.is_file() and not args.fresh:
        log(f"{last} is a finished run; exporting it (--fresh trains again)")
        return None
    data = args.data or load_manifest(DEFAULT_MANIFEST).out / "data.yaml"
    if not data.is_file():
        log(f"error: {data} missing: rebuild it with python -m models.plate_data --mirror-root DIR")
        return 2
    if run_dir.exists():
        shutil.rmtree(run_dir)
    init = RUNS_DIR / f"{args.name}_init.pt"
    n_ok, n_all = build_init_checkpoint(init, 1, {0: "plate"}, source=args.init)
    log(f"init model {init}: {n_ok}/{n_all} tensors from {args.init}")
    kw: dict[str, object] = {
        "data": str(data),
        "imgsz": args.imgsz,
        "epochs": args.epochs,
        "batch": args.batch,
        "workers": args.workers,
        "device": training_device(args.device),
        "cache": "ram",
        "project": str(RUNS_DIR),
        "name": args.name,
        "exist_ok": True,
        "plots": False,
        "amp": False,
        "close_mosaic": 5,
        "patience": 100,
        "seed": 0,
        "deterministic": False,
        "warmup_epochs": 1.0,
        "degrees": 5.0,  # plates are seen a little rotated from pole cameras
        "fliplr": 0.0,  # a mirrored plate is not a plate
        "scale": 0.6,
        "verbose": True,
    }
    if args.time_hours > 0:
        kw["time"] = args.time_hours
    log("training: " + ", ".join(f"{k}={v}" for k, v in kw.items()))
    YOLO(str(init)).train(**kw)
    return None


def export_and_quantize(best: Path, args: argparse.Namespace) -> int:
    """``best`` as models/plates.pt (+ ONNX, OpenVINO) and its int8 model, calibrated on ~300 training images."""

    def calibration() -> list[Path]:
        data = args.data or load_manifest(DEFAULT_MANIFEST).out / "data.yaml"
        images = sorted((data.parent / "images" / "train").glob("*.jpg"))
        return images[:: max(1, len(images) // 300)]

    return ship(best, args.imgsz, PLATES_PT, calibration)


def main(argv: list[str] | None = None) -> int:
    return train_then_export(parse_args(argv), train, export_and_quantize)


if __name__ == "__main__":
    raise SystemExit(main())
