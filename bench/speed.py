"""Speed accuracy on the synthetic camera: the real vision pipeline + speed estimator vs ground truth.

``python -m bench.speed [--seconds 60] [--vpm 20] [--fps 10] [--seed 5] [--json]``

Every analysed frame, each track with a speed is matched to the rendered vehicle whose
true box overlaps it most (IoU >= 0.5), and its smoothed speed is compared with the
vehicle's true mean speed over the same window (what a smoothed speed measures).
Reported: the error over all samples (median, 90th percentile, share within 5%) and
per vehicle (the median of its samples, as a ticket would quote).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from config.settings import CameraConfig
from config.settings import SyntheticSource as SyntheticConfig
from core.geometry import Homography, box_iou
from core.speed import SpeedEstimator
from core.types import Frame
from ingest.enforce import speed_params
from sim.camera import default_calibration
from sim.scene import SyntheticScene
from vision.pipeline import CameraPipeline

T0 = 1_772_438_400_000


@dataclass(frozen=True)
class SpeedFigures:
    samples: int
    vehicles: int
    median_abs_error: float
    p90_abs_error: float
    within_5pct: float
    vehicle_median_abs_error: float
    vehicle_max_abs_error: float
    vehicles_within_5pct: float


def measure(
    seconds: float = 60.0, vpm: float = 20.0, fps: float = 10.0, seed: int = 5, speed_kmh: float = 45.0
) -> SpeedFigures:
    """Run the scene and compare measured with true speeds."""
    src = SyntheticConfig(seed=seed, fps=fps, realtime=False, vehicles_per_minute=vpm, speed_kmh=speed_kmh, noise=2.0)
    cal = default_calibration(src)
    cam = CameraConfig(
        id="bench", name="bench", location=(34.0, 71.5), segment="s", source=src, calibration=cal, analysis_fps=fps
    )
    scene = SyntheticScene(src, cal, T0)
    pipe = CameraPipeline(cam, frame_rate=fps)
    est = SpeedEstimator(Homography(cal.image_points, cal.ground_points_m), speed_params(cam))
    window_ms = cam.speed.window_s * 1000
    history: dict[int, list[tuple[int, tuple[float, float]]]] = defaultdict(list)
    errors: dict[int, list[float]] = defaultdict(list)
    for k in range(int(seconds * fps)):
        image, truth = scene.step()
        for v in truth.vehicles:
            history[v.vehicle_id].append((truth.ts_ms, v.ground_xy_m))
        result = pipe.process(Frame("bench", k, truth.ts_ms, image))
        motions = est.update(truth.ts_ms, result.tracks, (src.width, src.height))
        for tr in result.tracks:
            m = motions.get(tr.track_id)
            if m is None or m.speed_kmh is None:
                continue
            best = max(truth.visible, key=lambda v: box_iou(v.box, tr.box), default=None)
            if best is None or box_iou(best.box, tr.box) < 0.5:
                continue
            span = [(t, g) for t, g in history[best.vehicle_id] if t >= truth.ts_ms - window_ms]
            (t0, g0), (t1, g1) = span[0], span[-1]
            if t1 - t0 < 500:
                continue
            true_kmh = math.hypot(g1[0] - g0[0], g1[1] - g0[1]) / ((t1 - t0) / 1000) * 3.6
            if true_kmh < 5.0:
                continue
            errors[best.vehicle_id].append((m.speed_kmh - true_kmh) / true_kmh)
    flat = np.abs(np.concatenate([np.asarray(e) for e in errors.values()])) if errors else np.zeros(0)
    per_vehicle = np.abs([np.median(e) for e in errors.values() if len(e) >= 3])
    return SpeedFigures(
        samples=int(flat.size),
        vehicles=int(per_vehicle.size),
        median_abs_error=float(np.median(flat)) if flat.size else math.nan,
        p90_abs_error=float(np.percentile(flat, 90)) if flat.size else math.nan,
        within_5pct=float(np.mean(flat < 0.05)) if flat.size else math.nan,
        vehicle_median_abs_error=float(np.median(per_vehicle)) if per_vehicle.size else math.nan,
        vehicle_max_abs_error=float(np.max(per_vehicle)) if per_vehicle.size else math.nan,
        vehicles_within_5pct=float(np.mean(per_vehicle < 0.05)) if per_vehicle.size else math.nan,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--vpm", type=float, default=20.0, help="vehicles per minute")
    ap.add_argument("--fps", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--speed", type=float, default=45.0, help="mean free-flow speed, km/h")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    print(f"rendering and analysing {args.seconds:.0f} s of synthetic traffic ...", file=sys.stderr)
    f = measure(args.seconds, args.vpm, args.fps, args.seed, args.speed)
    if args.json:
        print(json.dumps(f.__dict__))
    else:
        print(f"{f.samples} speed samples of {f.vehicles} vehicles vs ground truth:")
        print(
            f"  all samples: median |error| {100 * f.median_abs_error:.1f}%, 90th pct {100 * f.p90_abs_error:.1f}%, within 5%: {100 * f.within_5pct:.0f}%"
        )
        print(
            f"  per vehicle (median of its samples): median {100 * f.vehicle_median_abs_error:.1f}%, "
            f"worst {100 * f.vehicle_max_abs_error:.1f}%, within 5%: {100 * f.vehicles_within_5pct:.0f}%"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
