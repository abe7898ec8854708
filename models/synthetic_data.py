"""Synthetic training frames from the demo city's renderer, as an *extra* to the real labelled sets.

The demo cameras are rendered (:mod:`sim`); for ``make run`` to exercise the real
vision path the shipped model must find what the renderer draws. These frames, with the
renderer's exact boxes, teach it that look. They are an extra, never a source of a class on
their own, and never used for evaluation:

* only classes that also have real training data are drawn and labelled (car, bus, truck,
  motorcycle); the renderer's vans are labelled ``car``, as the real sets label vans and
  minivans; rickshaws, which no reachable real set labels, are left out of the traffic mix
  altogether (not drawn unlabelled either, which would teach the model to ignore them);
* frames come from the demo cameras' geometries and from varied ones (lanes, size, traffic,
  congestion), several seconds apart, so they are not near-duplicates.

Writes an ultralytics YOLO set (``images/train``, ``labels/train``, ``data.yaml`` with the
project's labels) into an ignored folder; :func:`models.dataset.build_dataset` merges it when
asked (``python -m models.train --synthetic N``).

Usage::

    python -m models.synthetic_data --frames 300 --out var/synth_data
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from config.settings import REPO_ROOT, SyntheticVehicleMix, load_config
from config.settings import SyntheticSource as SyntheticConfig
from core.types import LABELS
from sim.scene import SceneTruth, SyntheticScene

DEFAULT_OUT = REPO_ROOT / "var" / "synth_data"

#: Renderer class -> training label (None: not drawn at all, see the module docstring).
LABEL_OF: dict[str, str | None] = {
    "car": "car",
    "van": "car",
    "bus": "bus",
    "truck": "truck",
    "motorcycle": "motorcycle",
    "rickshaw": None,
}

#: Truth boxes narrower or lower than this many pixels are not labelled (a few pixels of a far vehicle).
MIN_BOX_PX = 5.0


def training_mix(mix: SyntheticVehicleMix) -> SyntheticVehicleMix:
    """The camera's vehicle mix without the classes that are not drawn for training."""
    return mix.model_copy(update={k: 0.0 for k, v in LABEL_OF.items() if v is None})


def yolo_lines(truth: SceneTruth, hw: tuple[int, int]) -> list[str]:
    """YOLO label lines (``class xc yc w h``, normalised) of the visible vehicles of one frame."""
    h, w = hw
    out: list[str] = []
    for v in truth.vehicles:
        label = LABEL_OF.get(v.label)
        x, y, bw, bh = v.box
        if not v.visible or label is None or bw < MIN_BOX_PX or bh < MIN_BOX_PX:
            continue
        out.append(f"{LABELS.index(label)} {(x + bw / 2) / w:.6f} {(y + bh / 2) / h:.6f} {bw / w:.6f} {bh / h:.6f}")
    return out


def scene_configs(n_scenes: int, seed: int) -> list[tuple[SyntheticConfig, object]]:
    """The demo cameras' scenes, then varied ones, each with its calibration (None: the renderer's default camera)."""
    cfg = load_config(None)
    scenes: list[tuple[SyntheticConfig, object]] = []
    for cam in cfg.cameras:
        if isinstance(cam.source, SyntheticConfig):
            scenes.append((cam.source, cam.calibration))
    rng = np.random.default_rng(seed)
    k = 0
    while len(scenes) < n_scenes:
        w = int(rng.choice([640, 960, 1280]))
        scenes.append(
            (
                SyntheticConfig(
                    seed=1000 + seed * 100 + k,
                    width=w,
                    height=w * 9 // 16,
                    lanes_per_direction=int(rng.integers(1, 4)),
                    vehicles_per_minute=float(rng.uniform(20, 70)),
                    speed_kmh=float(rng.uniform(25, 70)),
                    congestion_period_s=float(rng.uniform(60, 240)) if rng.random() < 0.5 else None,
                    road_length_m=float(rng.uniform(60, 140)),
                    noise=float(rng.uniform(1, 5)),
                ),
                None,
            )
        )
        k += 1
    return scenes


def write_set(out: Path, frames: int, gap_s: float = 3.0, seed: int = 0, n_scenes: int = 12) -> Counter[str]:
    """Render ``frames`` labelled frames into ``out`` (recreated). Returns box counts per label."""
    import yaml

    if out.exists():
        shutil.rmtree(out)
    img_dir, lbl_dir = out / "images" / "train", out / "labels" / "train"
    img_dir.mkdir(parents=True)
    lbl_dir.mkdir(parents=True)
    (out / "images" / "val").mkdir(parents=True)  # no val: synthetic frames are never evaluated on
    (out / "labels" / "val").mkdir(parents=True)
    scenes = scene_configs(n_scenes, seed)
    per_scene = -(-frames // len(scenes))
    counts: Counter[str] = Counter()
    written = 0
    for s, (src, calib) in enumerate(scenes):
        src = src.model_copy(update={"realtime": False, "fps": 5.0, "vehicle_mix": training_mix(src.vehicle_mix)})
        scene = SyntheticScene(src, calib, 0)  # type: ignore[arg-type]
        step = max(1, int(round(gap_s * src.fps)))
        for _ in range(per_scene):
            if written >= frames:
                break
            for _ in range(step - 1):
                scene.advance()
            image, truth = scene.step()
            lines = yolo_lines(truth, image.shape[:2])
            name = f"synth_s{s:02d}_f{truth.frame_index:05d}"
            cv2.imwrite(str(img_dir / f"{name}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 85])
            (lbl_dir / f"{name}.txt").write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
            for line in lines:
                counts[LABELS[int(line.split()[0])]] += 1
            written += 1
        print(f"\r  synthetic frames: {written}/{frames}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    (out / "data.yaml").write_text(
        "# Synthetic renders (models/synthetic_data.py): an extra for training, never for evaluation\n"
        + yaml.safe_dump({"train": "images/train", "val": "images/val", "names": list(LABELS)}, sort_keys=False),
        encoding="utf-8",
    )
    return counts


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(prog="python -m models.synthetic_data", description=__doc__.split("\n\n")[0])
    p.add_argument("--frames", type=int, default=300, help="frames to render")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (recreated; git-ignored)")
    p.add_argument("--gap-s", type=float, default=3.0, help="scene seconds between frames of one scene")
    p.add_argument("--scenes", type=int, default=12, help="scenes: the demo cameras, then varied ones")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    counts = write_set(args.out, args.frames, args.gap_s, args.seed, args.scenes)
    print(f"wrote {args.frames} frames to {args.out}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
