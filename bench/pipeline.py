"""Pipeline benchmark: N synthetic cameras through a real worker process and real Redis.

For each N in ``--cameras`` (default 1,4,8) it writes a config with N live synthetic
cameras (the demo city's first camera, repeated with different seeds), starts a real
``redis-server`` and one ``python -m ingest.worker`` process, lets it run ``--seconds``,
and reads back from Redis:

* analysed fps per camera (frames analysed / run time, from the camera heartbeats);
* frame-capture -> event-in-Redis latency, p50/p95: for every ``traffic.density`` and
  ``traffic.crossing`` event, the Redis stream id's time (set by the server on XADD)
  minus the event's ``ts_ms`` (the frame's capture time).

Prints one JSON line per N. ``python -m bench.pipeline --help``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bus.embedded import connect, start_embedded_redis
from bus.schema import stream_of
from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import DEFAULT_CONFIG, REPO_ROOT
from core.clock import now_ms
from core.types import DensityReport, LineCrossing


def make_config(n: int, target_fps: float, detector: str, out: Path) -> Path:
    base = yaml.safe_load(DEFAULT_CONFIG.read_text())
    template = base["cameras"][0]
    cams = []
    for i in range(n):
        cam = json.loads(json.dumps(template))
        cam["id"] = f"bench-{i:02d}"
        cam["name"] = f"Bench camera {i}"
        cam["analysis_fps"] = target_fps
        cam["source"] = {**cam["source"], "seed": 100 + i, "realtime": True}
        cam["source"].pop("duration_s", None)
        cam["detector"] = {"kind": detector}
        cams.append(cam)
    base["cameras"] = cams
    out.write_text(yaml.safe_dump(base, sort_keys=False))
    return out


def percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, round(q / 100 * (len(xs) - 1))))
    return xs[k]


def run_one(n: int, seconds: float, target_fps: float, detector: str, warmup: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        cfg_path = make_config(n, target_fps, detector, Path(tmp) / "bench.yaml")
        redis = start_embedded_redis(Path(tmp) / "redis")
        env = {**os.environ, "REDIS_URL": redis.url, "LOG_LEVEL": "WARNING"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "ingest.worker", "--config", str(cfg_path), "--redis-url", redis.url],
            env=env,
            cwd=REPO_ROOT,
        )
        try:
            client, _ = connect(redis.url, Path(tmp) / "redis")
            store = LiveStore(client)
            bus = EventBus(client)
            time.sleep(warmup)
            before = {k: v.frames_analysed for k, v in store.camera_statuses().items()}
            t0_ms = now_ms()
            for i in range(int(seconds)):
                time.sleep(1.0)
                print(f"\rN={n}: {i + 1}/{int(seconds)} s", end="", file=sys.stderr, flush=True)
            print(file=sys.stderr)
            after = store.camera_statuses()
            fps = [(after[k].frames_analysed - before.get(k, 0)) / seconds for k in after if k.startswith("bench-")]
            lat: list[float] = []
            for stream in (stream_of(DensityReport), stream_of(LineCrossing)):
                for m in bus.recent(stream, count=100_000):
                    t_redis = int(m.msg_id.split("-")[0])
                    ts = getattr(m.envelope.obj, "ts_ms", 0)
                    if t_redis >= t0_ms:
                        lat.append(t_redis - ts)
        finally:
            proc.terminate()
            proc.wait(15)
            redis.stop()
    return {
        "cameras": n,
        "detector": detector,
        "target_fps": target_fps,
        "seconds": seconds,
        "analysed_fps_per_camera_mean": round(statistics.fmean(fps), 2) if fps else 0.0,
        "analysed_fps_per_camera_min": round(min(fps), 2) if fps else 0.0,
        "latency_ms_p50": round(percentile(lat, 50), 1),
        "latency_ms_p95": round(percentile(lat, 95), 1),
        "events": len(lat),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", default="1,4,8", help="comma-separated camera counts")
    ap.add_argument("--seconds", type=float, default=20.0, help="measured run time per N")
    ap.add_argument("--warmup", type=float, default=8.0, help="seconds before measuring (imports, model warm-up)")
    ap.add_argument("--fps", type=float, default=5.0, help="target analysis fps per camera")
    ap.add_argument("--detector", default="motion", choices=["motion", "yolo"])
    args = ap.parse_args(argv)
    for n in (int(x) for x in args.cameras.split(",")):
        print(json.dumps(run_one(n, args.seconds, args.fps, args.detector, args.warmup)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
