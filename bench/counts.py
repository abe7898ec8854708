"""Per-frame vehicle counts of ``python -m vision.track_cli`` against labelled video boxes.

For every video of ``../shared/data/videos/boxes.csv`` this runs the real command-line tool
(``python -m vision.track_cli VIDEO --json``, as a user would; ``--tiles`` passed on) and compares,
frame by frame, the number of tracked vehicles with the number of labelled boxes:

* relative MAE = sum over frames of |tracked - labelled| / sum of labelled;
* bias = (sum tracked - sum labelled) / sum labelled (positive: the tool sees more than is labelled).

The labels leave far vehicles near the horizon out (see ../shared/data/README.md), so a
detector that finds them counts "too many": the bias says which way the error goes.

Prints one JSON line per video and mode::

    python -m bench.counts [--tiles 2x2]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from config.settings import REPO_ROOT

DATA = REPO_ROOT.parent / "shared" / "data" / "videos"


def labelled_counts(boxes_csv: Path) -> dict[str, Counter[int]]:
    """video -> frame -> labelled boxes."""
    out: dict[str, Counter[int]] = {}
    with boxes_csv.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["video"], Counter())[int(row["frame"])] += 1
    return out


def tracked_counts(video: Path, extra: list[str]) -> Counter[int]:
    """frame -> vehicles tracked by ``python -m vision.track_cli`` (its JSON lines)."""
    cmd = [sys.executable, "-m", "vision.track_cli", str(video), "--json", *extra]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    out: Counter[int] = Counter()
    for line in proc.stdout.splitlines():
        row = json.loads(line)
        if "frame" in row:
            out[int(row["frame"])] = len(row["vehicles"])
    return out


def compare(labelled: Counter[int], tracked: Counter[int]) -> dict[str, float | int]:
    """Relative MAE and bias over the labelled frames."""
    frames = sorted(labelled)
    total = sum(labelled[f] for f in frames)
    err = sum(abs(tracked.get(f, 0) - labelled[f]) for f in frames)
    bias = sum(tracked.get(f, 0) for f in frames) - total
    return {
        "frames": len(frames),
        "labelled_boxes": total,
        "relative_mae": round(err / total, 4) if total else float("nan"),
        "bias": round(bias / total, 4) if total else float("nan"),
        "mean_labelled": round(total / len(frames), 2) if frames else 0.0,
        "mean_tracked": round(sum(tracked.get(f, 0) for f in frames) / len(frames), 2) if frames else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(prog="python -m bench.counts", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DATA, help="folder with boxes.csv and the videos")
    p.add_argument("--tiles", default="", help="also run vision.track_cli --tiles with this grid, e.g. 2x2")
    p.add_argument(
        "--weights", type=Path, default=None, help="weights for vision.track_cli (default: the shipped model)"
    )
    args = p.parse_args(argv)
    boxes = args.data / "boxes.csv"
    if not boxes.is_file():
        print(f"error: no labelled video boxes at {boxes}", file=sys.stderr)
        return 2
    modes = [("whole", [])] + ([(f"tiled {args.tiles}", ["--tiles", args.tiles])] if args.tiles else [])
    base = ["--weights", str(args.weights)] if args.weights else []
    for video, labelled in sorted(labelled_counts(boxes).items()):
        for mode, extra in modes:
            print(f"{video}: vision.track_cli ({mode})", file=sys.stderr, flush=True)
            row = {"video": video, "mode": mode, **compare(labelled, tracked_counts(args.data / video, base + extra))}
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
