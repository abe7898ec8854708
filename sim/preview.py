"""Preview the synthetic road: ``python -m sim.preview --help``.

Renders a video, or with ``--frame`` one frame as an image, optionally with the truth
boxes drawn, and reports how long simulating and rendering a frame take.
"""

from __future__ import annotations

import argparse
import sys
import time

import cv2

from config.settings import SyntheticSource as SyntheticConfig
from core.clock import now_ms
from sim.scene import SyntheticScene


def main(argv: list[str] | None = None, prog: str = "python -m sim.preview") -> int:
    """Render a preview of the scene (video or one frame) and print the simulate/render times."""
    ap = argparse.ArgumentParser(prog=prog, description="Render the synthetic road scene.")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--width", type=int, default=960)
    ap.add_argument("--height", type=int, default=540)
    ap.add_argument("--fps", type=float, default=10.0)
    ap.add_argument("--lanes", type=int, default=2, help="lanes per direction")
    ap.add_argument("--vpm", type=float, default=30.0, help="vehicles per minute")
    ap.add_argument("--speed", type=float, default=45.0, help="mean speed km/h")
    ap.add_argument("--congestion-period", type=float, default=None)
    ap.add_argument("--seconds", type=float, default=10.0, help="scene seconds to render")
    ap.add_argument("--out", help="write a video (.mp4/.avi) or, with --frame, a PNG")
    ap.add_argument("--frame", type=int, default=None, help="only write this frame index as an image")
    ap.add_argument("--boxes", action="store_true", help="draw the truth boxes")
    args = ap.parse_args(argv)
    cfg = SyntheticConfig(
        seed=args.seed,
        width=args.width,
        height=args.height,
        fps=args.fps,
        realtime=False,
        lanes_per_direction=args.lanes,
        vehicles_per_minute=args.vpm,
        speed_kmh=args.speed,
        congestion_period_s=args.congestion_period,
    )
    t_init = time.perf_counter()
    scene = SyntheticScene(cfg, None, now_ms())
    t_init = time.perf_counter() - t_init
    n = max(1, int(round(args.seconds * args.fps)))
    writer = None
    if args.out and args.frame is None:
        fourcc = cv2.VideoWriter.fourcc(*("mp4v" if args.out.endswith(".mp4") else "MJPG"))
        writer = cv2.VideoWriter(args.out, fourcc, args.fps, (args.width, args.height))
    t_sim = t_draw = 0.0
    for k in range(n):
        t0 = time.perf_counter()
        truth = scene.advance()
        t1 = time.perf_counter()
        img = scene.render()
        t2 = time.perf_counter()
        t_sim += t1 - t0
        t_draw += t2 - t1
        if args.boxes:
            for v in truth.visible:
                x, y, w, h = v.box
                cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)), (0, 255, 0), 1)
        if writer is not None:
            writer.write(img)
        if args.frame is not None and k == args.frame and args.out:
            cv2.imwrite(args.out, img)
            break
        if k % max(1, n // 10) == 0:
            print(f"frame {k}/{n}: {len(truth.visible)} vehicles visible", file=sys.stderr)
    if writer is not None:
        writer.release()
    frames = k + 1
    total = t_sim + t_draw
    if total > 0:
        print(
            f"init {t_init:.2f} s; {frames} frames: simulate {1000 * t_sim / frames:.2f} ms/frame, "
            f"render {1000 * t_draw / frames:.2f} ms/frame -> {frames / total:.0f} fps",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
