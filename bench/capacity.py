"""Capacity: how many cameras does this machine hold at the target analysed fps?

``python -m bench.capacity --cameras 4,8,12 --workers 2`` runs, for each N, N live cameras
shared through Redis leases by K real ``python -m ingest.worker`` processes on a real
redis-server, and prints one JSON line per N:

* ``analysed_fps_min`` / ``analysed_fps_mean``: frames analysed per second per camera
  (from the heartbeats' counters over the measured window);
* ``latency_ms_p50`` / ``latency_ms_p95``: frame capture -> event in Redis, for every
  ``traffic.density``/``traffic.crossing`` event of the window (Redis stream id time minus
  the event's ``ts_ms``, the frame's capture time; same clock);
* ``cpu_ms_per_frame``: CPU time (user + system, all worker processes) per analysed
  frame, decoding included: ``cameras_per_core = 1000 / (cpu_ms_per_frame * fps)`` is the
  load-independent capacity figure on a machine shared with other work;
* ``holds``: every camera analysed at >= 90 % of the target fps;
* ``plates_asked_per_s`` / ``plates_read_per_s`` / ``plates_dropped``: vehicle crops sent to the plate
  readers (one per worker process), reads that found a plate, and crops dropped because a reader was
  behind (with ``evidence.read_plates: all``, the default, every vehicle is read up to 3 times).

Cameras: each loops a video file at its native fps like a live camera (the decode cost
of a real stream is paid): by default a 60 s clip of the demo city's synthetic road
camera (960x540, 10 fps, ~40 vehicles/min, with its counting line and zones), rendered
once into the work dir; ``--video`` uses another file (a line across the middle and the
lower half as zone). Detector: ``--detector motion`` (default) or ``yolo`` (motion-gated
unless ``--no-gate``; one model per worker process shared by its cameras, with their
concurrent frames batched, unless ``--no-share``; ``--weights`` for other weights than
the shipped model).

``--profile`` instead runs one camera's loop in this process as fast as it goes and
prints where the time goes per analysed frame (decode, detector, tracker + counting,
annotation + JPEG, publishing) and the top functions (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import yaml

from bus.embedded import client_for_url, free_port, start_embedded_redis
from bus.schema import stream_of
from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import DEFAULT_CONFIG, REPO_ROOT, CameraConfig, load_config
from core.clock import now_ms
from core.types import DensityReport, LineCrossing
from vision.tiling import parse_tiles

CLK_TCK = os.sysconf("SC_CLK_TCK")


def detector_name(args: Any) -> str:
    """e.g. ``yolo+motion_gate+shared``."""
    if args.detector == "motion":
        return "motion"
    tiles = f"+tiles{args.tiles}" if getattr(args, "tiles", "") else ""
    return "yolo" + tiles + ("" if args.no_gate else "+motion_gate") + ("" if args.no_share else "+shared")


def say(msg: str) -> None:
    print(f"[capacity {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def render_demo_video(path: Path, seconds: float = 60.0) -> dict[str, Any]:
    """Render the demo city's first camera (synthetic) into a video; returns that camera's config."""
    from sim.scene import SyntheticScene

    base = yaml.safe_load(DEFAULT_CONFIG.read_text())
    cam = base["cameras"][0]
    cfg = load_config().cameras[0]
    src = cfg.source.model_copy(update={"realtime": False, "duration_s": None, "congestion_period_s": None})
    scene = SyntheticScene(src, cfg.calibration, start_ts_ms=0)  # type: ignore[arg-type]
    fps = float(src.fps)  # type: ignore[union-attr]
    w = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (src.width, src.height))  # type: ignore[union-attr]
    for _ in range(int(seconds * fps)):
        img, _truth = scene.step()
        w.write(img)
    w.release()
    return cam


def camera_template(video: Path | None, work: Path) -> tuple[dict[str, Any], Path]:
    if video is None:
        path = work / "demo-road.mp4"
        say(f"rendering the demo road camera into {path.name} (once)")
        cam = render_demo_video(path)
        return cam, path
    cap = cv2.VideoCapture(str(video))
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    cap.release()
    if not w or not h:
        raise SystemExit(f"{video}: cannot read the video")
    cam = {
        "lines": [{"id": "main", "a": [0, h * 0.6], "b": [w, h * 0.6]}],
        "zones": [{"id": "lower", "polygon": [[0, h / 2], [w, h / 2], [w, h], [0, h]]}],
    }
    return cam, video


def make_config(n: int, template: dict[str, Any], video: Path, args: argparse.Namespace, out: Path) -> Path:
    base = yaml.safe_load(DEFAULT_CONFIG.read_text())
    detector: dict[str, Any] = {"kind": args.detector}
    if args.detector == "yolo":
        detector["motion_gate"] = not args.no_gate
        detector["share"] = not args.no_share
        if args.weights:
            detector["weights"] = str(args.weights)
        if args.tiles:
            detector["tiles"] = list(parse_tiles(args.tiles))
    cams = []
    for i in range(n):
        cams.append(
            {
                "id": f"cap-{i:02d}",
                "name": f"Capacity camera {i}",
                "location": [34.0 + i * 1e-3, 71.5],
                "segment": base["segments"][0]["id"],
                "analysis_fps": args.fps,
                "source": {"kind": "file", "path": str(video), "loop": True, "realtime": True},
                "detector": detector,
                "lines": template.get("lines", []),
                "zones": template.get("zones", []),
                **({"calibration": template["calibration"]} if "calibration" in template else {}),
            }
        )
    base["cameras"] = cams
    base["evidence"] = {**base.get("evidence", {}), "read_plates": args.read_plates}
    base["worker"] = {**base.get("worker", {}), "spool_dir": str(out.parent / "spool")}
    out.write_text(yaml.safe_dump(base, sort_keys=False))
    return out


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q / 100 * (len(xs) - 1))))]


def run_n(n: int, template: dict[str, Any], video: Path, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    d = Path(tempfile.mkdtemp(prefix=f"n{n}-", dir=work))
    cfg_path = make_config(n, template, video, args, d / "capacity.yaml")
    redis = start_embedded_redis(d / "redis", free_port())
    procs = []
    try:
        env = {**os.environ, "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
        for k in range(args.workers):
            log = open(d / f"worker-{k}.log", "wb")  # noqa: SIM115 - closed with the process
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "ingest.worker",
                        "--config",
                        str(cfg_path),
                        "--redis-url",
                        redis.url,
                        "--worker-id",
                        f"cap-w{k}",
                    ],
                    env=env,
                    cwd=REPO_ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        client = client_for_url(redis.url, socket_timeout=10)
        store, bus = LiveStore(client), EventBus(client)
        cams = [f"cap-{i:02d}" for i in range(n)]
        deadline = time.monotonic() + args.warmup + 120
        while time.monotonic() < deadline:
            st = store.camera_statuses()
            if all(c in st and st[c].state.value == "online" and st[c].frames_analysed > 0 for c in cams):
                break
            time.sleep(1.0)
        else:
            raise RuntimeError(f"N={n}: cameras not all online: {sorted(store.camera_statuses())}")
        say(f"N={n}: all cameras online; warming up {args.warmup:g} s")
        time.sleep(args.warmup)
        before = store.camera_statuses()
        cpu0 = sum(cpu_seconds(p.pid) for p in procs)
        t0, t0_ms = time.monotonic(), now_ms()
        time.sleep(args.seconds)
        after = store.camera_statuses()
        cpu1 = sum(cpu_seconds(p.pid) for p in procs)
        span = time.monotonic() - t0
        fps, frames = [], 0
        for c in cams:
            # heartbeat counters; scale by each camera's own heartbeat interval
            b, a = before[c], after[c]
            dt = max((a.ts_ms - b.ts_ms) / 1000, 1e-3)
            fps.append((a.frames_analysed - b.frames_analysed) / dt)
            frames += a.frames_analysed - b.frames_analysed
        lat: list[float] = []
        for stream in (stream_of(DensityReport), stream_of(LineCrossing)):
            for m in bus.history(stream, start_ms=t0_ms, count=1_000_000):
                lat.append(int(m.msg_id.split("-")[0]) - int(getattr(m.envelope.obj, "ts_ms", 0)))
        cpu_ms = (cpu1 - cpu0) * 1000 / max(frames, 1)
        plates = {
            k: sum(getattr(after[c], k) - getattr(before[c], k) for c in cams)
            for k in ("plates_asked", "plates_read", "plates_dropped")
        }
        owners = Counter_of(st.worker_id for st in after.values())
        return {
            "cameras": n,
            "workers": args.workers,
            "detector": detector_name(args),
            "read_plates": args.read_plates,
            "target_fps": args.fps,
            "seconds": round(span, 1),
            "analysed_fps_min": round(min(fps), 2),
            "analysed_fps_mean": round(statistics.fmean(fps), 2),
            "holds": min(fps) >= 0.9 * args.fps,
            "latency_ms_p50": round(percentile(lat, 50), 1),
            "latency_ms_p95": round(percentile(lat, 95), 1),
            "events": len(lat),
            "cpu_ms_per_frame": round(cpu_ms, 1),
            "plates_asked_per_s": round(plates["plates_asked"] / span, 2),
            "plates_read_per_s": round(plates["plates_read"] / span, 2),
            "plates_dropped": plates["plates_dropped"],
            "cameras_per_core_at_target": round(1000 / (cpu_ms * args.fps), 2) if cpu_ms > 0 else None,
            "cameras_per_worker": owners,
            "load_avg_1m": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(),
        }
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        redis.stop()


def Counter_of(items: Any) -> dict[str, int]:  # noqa: N802 - tiny helper
    out: dict[str, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return dict(sorted(out.items()))


# --------------------------------------------------------------------------- profile


def profile(template: dict[str, Any], video: Path, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """One camera's analysis loop in this process, timed stage by stage."""
    import numpy as np

    from ingest.sources import FileSource
    from vision.annotate import annotate
    from vision.pipeline import CameraPipeline

    cfg_path = make_config(1, template, video, args, work / "profile.yaml")
    cam: CameraConfig = load_config(cfg_path).cameras[0]
    src = FileSource(cam.id, video, loop=True, realtime=False)
    src.open()
    pipe = CameraPipeline(cam, frame_rate=cam.analysis_fps)
    step = max(1, round(src.nominal_fps / cam.analysis_fps)) if src.nominal_fps else 1
    stages = {"decode": 0.0, "pipeline": 0.0, "annotate_jpeg": 0.0, "encode_event": 0.0}
    from bus.schema import encode

    def loop(frames: int) -> int:
        analysed = 0
        for i in range(frames * step):
            t = time.perf_counter()
            frame = src.read()
            stages["decode"] += time.perf_counter() - t
            if i % step:
                continue
            t = time.perf_counter()
            res = pipe.process(frame)
            stages["pipeline"] += time.perf_counter() - t
            t = time.perf_counter()
            img = annotate(frame.image, res, cam)
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 70])
            np.asarray(buf).tobytes()
            stages["annotate_jpeg"] += time.perf_counter() - t
            t = time.perf_counter()
            for c in res.crossings:
                encode(c)
            stages["encode_event"] += time.perf_counter() - t
            analysed += 1
        return analysed

    loop(20)  # warm up (background model, imports)
    for k in stages:
        stages[k] = 0.0
    det = pipe.detector
    gate0 = (
        getattr(det, "motion_seconds", 0.0),
        getattr(det, "detector_seconds", 0.0),
        getattr(det, "frames", 0),
        getattr(det, "runs", 0),
    )
    prof = cProfile.Profile()
    cpu0, t0 = time.process_time(), time.perf_counter()
    prof.enable()
    n = loop(args.profile_frames)
    prof.disable()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    stats = pstats.Stats(prof)
    top = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:15]  # type: ignore[attr-defined]
    out = {
        "profile": True,
        "detector": detector_name(args),
        "analysed_frames": n,
        "decoded_frames": n * step,
        "ms_per_analysed_frame": {k: round(v * 1000 / n, 2) for k, v in stages.items()},
        "wall_ms_per_analysed_frame": round(wall * 1000 / n, 2),
        "cpu_ms_per_analysed_frame": round(cpu * 1000 / n, 2),
        "top_functions_tottime_ms_per_frame": [
            {"function": f"{Path(fn).name}:{line}({name})", "ms": round(v[2] * 1000 / n, 3)}
            for (fn, line, name), v in top
        ],
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    if hasattr(det, "motion_seconds"):
        frames = max(1, det.frames - gate0[2])  # type: ignore[attr-defined]
        out["gate"] = {
            "motion_ms_per_frame": round((det.motion_seconds - gate0[0]) * 1000 / n, 2),  # type: ignore[attr-defined]
            "detector_ms_per_frame": round((det.detector_seconds - gate0[1]) * 1000 / n, 2),  # type: ignore[attr-defined]
            "detector_ran_share": round((det.runs - gate0[3]) / frames, 3),  # type: ignore[attr-defined]
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", default="4,8,12", help="comma-separated camera counts to try (default 4,8,12)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes sharing the cameras (default 2)")
    ap.add_argument("--fps", type=float, default=5.0, help="target analysed fps per camera (default 5)")
    ap.add_argument("--seconds", type=float, default=30.0, help="measured window per N (default 30)")
    ap.add_argument("--warmup", type=float, default=10.0, help="running before the window (default 10)")
    ap.add_argument("--detector", choices=["motion", "yolo"], default="motion")
    ap.add_argument("--no-gate", action="store_true", help="yolo on every analysed frame (no motion gate)")
    ap.add_argument(
        "--read-plates",
        choices=["off", "violators", "all"],
        default="all",
        help="evidence.read_plates of the cameras (default all: every vehicle's plate, as the demo)",
    )
    ap.add_argument(
        "--no-share", action="store_true", help="yolo: one model per camera instead of one per worker (batched)"
    )
    ap.add_argument("--weights", type=Path, help="yolo weights (default: the shipped model)")
    ap.add_argument(
        "--tiles",
        default="",
        help="yolo: tiled inference, e.g. 2x2 (detector.tiles: tiles + the whole frame); default: whole frame only",
    )
    ap.add_argument("--video", type=Path, help="video every camera loops (default: the demo road camera, rendered)")
    ap.add_argument("--stop-when-fails", action="store_true", help="stop the sweep at the first N that does not hold")
    ap.add_argument("--profile", action="store_true", help="profile one camera's loop in-process instead")
    ap.add_argument("--profile-frames", type=int, default=150, help="analysed frames profiled (default 150)")
    ap.add_argument("--work-dir", type=Path, help="keep rendered video, configs and logs here")
    args = ap.parse_args(argv)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bench-capacity-"))
    work.mkdir(parents=True, exist_ok=True)
    template, video = camera_template(args.video, work)
    if args.profile:
        print(json.dumps(profile(template, video, args, work)), flush=True)
        return 0
    for n in (int(x) for x in args.cameras.split(",")):
        say(f"N={n} cameras over {args.workers} worker(s), target {args.fps:g} fps, detector {args.detector}")
        r = run_n(n, template, video, args, work)
        print(json.dumps(r), flush=True)
        if args.stop_when_fails and not r["holds"]:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
