"""Benchmark the live push: N websocket + M MJPEG viewers on loopback, alert latency and server CPU.

``python -m bench.live`` starts the server side as child processes - the dashboard
(``python -m dashboard``: pages, MJPEG relay) and the websocket server
(``python -m dashboard.live``) - against a real redis-server (embedded unless
``--redis-url``), then, from this second process:

* writes annotated-size JPEG frames for every camera at ``--fps`` (what the workers do);
* logs in as the demo operator and opens ``--ws`` websocket clients on the operator
  channel and ``--mjpeg`` MJPEG viewers (``/camera/<id>/stream.mjpg``, round-robin
  over the cameras), all asyncio in this process;
* publishes ``--rate`` warden alerts a second on ``alert.warden`` for ``--duration`` s;
* measures, for every alert at every websocket client, the latency from the Redis
  stream entry (its id's millisecond time) to the client's receipt, and the MJPEG frames
  each viewer got; samples the CPU time of the server processes (and Redis) over the
  measured window.

Prints the figures (``--json`` for one JSON line). Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import psutil
from websockets.asyncio.client import connect as ws_connect

from bus.embedded import start_embedded_redis
from bus.redis_client import client_for_url
from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import load_config
from core.clock import now_ms
from core.types import IncidentKind, Priority, WardenAlert
from dashboard.process import DashboardProcess, cookie_header, login

DEMO_OPERATOR = ("operator", "operator-demo")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def make_jpeg(seed: int, quality: int = 70) -> bytes:
    """A 960x540 road-like JPEG of realistic size (textured, so it compresses like a camera frame)."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(110, 35, (540, 960, 3)).clip(0, 255).astype(np.uint8)
    img = cv2.GaussianBlur(noise, (5, 5), 0)
    cv2.rectangle(img, (300, 200), (420, 280), (0, 200, 0), 2)
    cv2.putText(img, f"camera {seed}", (20, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


class FrameWriter(threading.Thread):
    """Overwrites each camera's latest-frame key at ``fps`` (like the workers)."""

    def __init__(self, url: str, cameras: Sequence[str], fps: float) -> None:
        super().__init__(name="frames", daemon=True)
        self.client = client_for_url(url)
        self.store = LiveStore(self.client, notify=True)
        self.cameras = list(cameras)
        self.period = 1.0 / fps
        self.jpegs = {c: [make_jpeg(i * 10 + k) for k in range(3)] for i, c in enumerate(self.cameras)}
        self.stop_event = threading.Event()
        self.bytes_per_frame = int(np.mean([len(j) for js in self.jpegs.values() for j in js]))

    def run(self) -> None:
        k = 0
        while not self.stop_event.is_set():
            t = now_ms()
            for c in self.cameras:
                self.store.put_frame(c, self.jpegs[c][k % 3], t)
            k += 1
            self.stop_event.wait(self.period)


class Publisher(threading.Thread):
    """Publishes warden alerts at ``rate`` a second for ``duration`` seconds."""

    def __init__(self, url: str, rate: float, duration: float, segments: Sequence[str]) -> None:
        super().__init__(name="publisher", daemon=True)
        self.bus = EventBus(client_for_url(url))
        self.rate = rate
        self.duration = duration
        self.segments = list(segments)
        self.published: list[str] = []

    def run(self) -> None:
        start = time.monotonic()
        i = 0
        while (now := time.monotonic()) - start < self.duration:
            t = now_ms()
            aid = f"bench{i:015d}"
            seg = self.segments[i % len(self.segments)]
            self.bus.publish(
                WardenAlert(
                    aid,
                    f"inc-bench-{i}",
                    seg,
                    ("warden1",),
                    t,
                    kind=IncidentKind.CONGESTION,
                    priority=Priority.MEDIUM,
                    summary=f"bench alert {i}",
                )
            )
            self.published.append(aid)
            i += 1
            next_at = start + i / self.rate
            time.sleep(max(0.0, next_at - time.monotonic()))
        del now


async def ws_viewer(
    url: str,
    cookie: str,
    origin: str,
    latencies: list[float],
    seen: dict[str, int],
    ready: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    async with ws_connect(
        url, additional_headers={"Cookie": cookie, "Origin": origin}, open_timeout=30, max_size=2**22, compression=None
    ) as ws:
        await ws.recv()  # hello
        ready.set()
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            recv_ms = time.time() * 1000.0
            m = json.loads(raw)
            for x in m["messages"] if m.get("type") == "batch" else [m]:
                if x.get("type") == "alert" and str(x["alert"]["id"]).startswith("bench"):
                    latencies.append(recv_ms - float(x.get("stream_ms") or m.get("stream_ms")))
                    seen[x["alert"]["id"]] = seen.get(x["alert"]["id"], 0) + 1


async def mjpeg_viewer(port: int, path: str, cookie: str, counts: list[int], idx: int, stop: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"MJPEG {path}: {status!r}")
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    try:
        while not stop.is_set():
            line = await asyncio.wait_for(reader.readline(), timeout=5)
            if not line:
                break
            if line.lower().startswith(b"content-length:"):
                n = int(line.split(b":", 1)[1])
                await reader.readline()  # X-Frame-Timestamp-Ms
                await reader.readline()  # blank
                await reader.readexactly(n)
                counts[idx] += 1
    finally:
        writer.close()


def cpu_seconds(procs: dict[str, psutil.Process]) -> dict[str, float]:
    out = {}
    for name, p in procs.items():
        try:
            t = p.cpu_times()
            out[name] = t.user + t.system
        except psutil.Error:
            out[name] = float("nan")
    return out


def percentile(xs: Sequence[float], q: float) -> float:
    s = sorted(xs)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, int(round(q / 100.0 * (len(s) - 1)))))
    return s[k]


async def run_clients(
    args: argparse.Namespace,
    dash: DashboardProcess,
    cookie: str,
    cameras: list[str],
    server: dict[str, psutil.Process],
    redis_url: str,
    segments: list[str],
) -> dict[str, Any]:
    stop = asyncio.Event()
    latencies: list[float] = []
    seen: dict[str, int] = {}
    readies = [asyncio.Event() for _ in range(args.ws)]
    tasks = [
        asyncio.create_task(
            ws_viewer(f"{dash.live_url}?channel=ops", cookie, dash.url, latencies, seen, readies[i], stop)
        )
        for i in range(args.ws)
    ]
    counts = [0] * args.mjpeg
    tasks += [
        asyncio.create_task(
            mjpeg_viewer(
                dash.port, f"/camera/{cameras[i % len(cameras)]}/stream.mjpg?fps={args.fps}", cookie, counts, i, stop
            )
        )
        for i in range(args.mjpeg)
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=60)
    log(f"{args.ws} websocket and {args.mjpeg} MJPEG viewers connected; warming up {args.warmup:.0f} s")
    await asyncio.sleep(args.warmup)
    for i in range(len(counts)):
        counts[i] = 0
    cpu0, t0 = cpu_seconds(server), time.monotonic()
    pub = Publisher(redis_url, args.rate, args.duration, segments)
    pub.start()
    while pub.is_alive():
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # let the last alerts arrive
    wall = time.monotonic() - t0
    cpu1 = cpu_seconds(server)
    frames = list(counts)
    stop.set()
    await asyncio.sleep(0.6)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    expected = len(pub.published) * args.ws
    return {
        "viewers_ws": args.ws,
        "viewers_mjpeg": args.mjpeg,
        "alerts_published": len(pub.published),
        "alerts_delivered": sum(seen.values()),
        "alerts_expected": expected,
        "latency_ms": {
            "p50": round(percentile(latencies, 50), 1),
            "p95": round(percentile(latencies, 95), 1),
            "p99": round(percentile(latencies, 99), 1),
            "max": round(max(latencies), 1) if latencies else None,
            "mean": round(statistics.fmean(latencies), 1) if latencies else None,
        },
        "mjpeg_fps_per_viewer": round(sum(frames) / max(1, len(frames)) / wall, 2) if frames else None,
        "window_s": round(wall, 1),
        "cpu_percent_of_one_core": {k: round(100.0 * (cpu1[k] - cpu0[k]) / wall, 1) for k in server},
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__.split("\n\n")[0])
    ap.add_argument("--ws", type=int, default=50, help="websocket viewers (operator channel)")
    ap.add_argument("--mjpeg", type=int, default=50, help="MJPEG viewers (round-robin over the cameras)")
    ap.add_argument("--rate", type=float, default=10.0, help="alerts published per second")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of publishing")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    ap.add_argument("--fps", type=float, default=5.0, help="frames per second written per camera (and MJPEG rate)")
    ap.add_argument("--redis-url", help="use this Redis (default: an embedded redis-server)")
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    args = ap.parse_args(argv)
    cfg = load_config()
    cameras = [c.id for c in cfg.cameras]
    tmp = Path(tempfile.mkdtemp(prefix="bench-live-"))
    embedded = None
    url = args.redis_url
    if url is None:
        embedded = start_embedded_redis(tmp / "redis")
        url = embedded.url
    frames = FrameWriter(url, cameras, args.fps)
    frames.start()
    try:
        with DashboardProcess(
            url, archive_url=f"sqlite:///{tmp / 'dash.db'}", log_path=tmp / "server.log", live=True
        ) as dash:
            cookie = cookie_header(login(dash.url, *DEMO_OPERATOR))
            pids = dash.pids
            server = {"dashboard (Flask, MJPEG)": psutil.Process(pids[0]), "live (websockets)": psutil.Process(pids[1])}
            if embedded is not None:
                server["redis-server"] = (
                    psutil.Process(embedded.pid) if hasattr(embedded, "pid") else _redis_proc(embedded.port)
                )
            server["bench clients (this process)"] = psutil.Process(os.getpid())
            res = asyncio.run(run_clients(args, dash, cookie, cameras, server, url, [s.id for s in cfg.segments]))
            res["frame_bytes"] = frames.bytes_per_frame
            res["cpus"] = psutil.cpu_count()
            res["load_avg_1m"] = round(os.getloadavg()[0], 2)
    finally:
        frames.stop_event.set()
        frames.join(5)
        if embedded is not None:
            embedded.stop()
    if args.json:
        print(json.dumps(res))
    else:
        lat = res["latency_ms"]
        print(
            f"viewers: {res['viewers_ws']} websocket + {res['viewers_mjpeg']} MJPEG on loopback ({res['cpus']} CPUs, load {res['load_avg_1m']})"
        )
        print(
            f"alerts: {res['alerts_published']} published, {res['alerts_delivered']}/{res['alerts_expected']} deliveries"
        )
        print(
            f"alert latency Redis -> client (ms): p50 {lat['p50']}  p95 {lat['p95']}  p99 {lat['p99']}  max {lat['max']}"
        )
        print(f"MJPEG: {res['mjpeg_fps_per_viewer']} frames/s per viewer ({res['frame_bytes'] // 1024} KiB frames)")
        for k, v in res["cpu_percent_of_one_core"].items():
            print(f"CPU {k}: {v}% of one core over {res['window_s']} s")
    return 0


def _redis_proc(port: int) -> psutil.Process:
    for c in psutil.net_connections(kind="tcp"):
        if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN and c.pid:
            return psutil.Process(c.pid)
    raise RuntimeError(f"no process listens on port {port}")


if __name__ == "__main__":
    sys.exit(main())
