"""Fault-injection harness: real processes, a real Redis and real streams, on loopback.

``python -m bench.faults [--json] [--only NAME ...]`` runs each scenario on a fresh rig:

* a ``redis-server`` (AOF, ``appendfsync everysec``) on a fixed local port;
* ``--workers`` real ``python -m ingest.worker`` processes sharing ``--cameras`` live
  synthetic cameras through Redis leases (plus an HTTP MJPEG camera served by this
  harness, and a camera reading a corrupt video file, where the scenario needs them);
* two consumer processes (``python -m bench.faults _consume``) in one consumer group that
  read the event streams with ``XREADGROUP``, record each handled event id in SQLite
  (primary key: a redelivered message is recognised and not handled twice), ``XACK``
  after the commit, and reclaim stalled messages of dead consumers with ``XAUTOCLAIM``.

Every worker appends the id of each event it hands to its spool to a ledger file
(``$SAFECITY_EVENT_LEDGER``): that is ``events_sent``. ``events_received`` is how many of
those the consumers handled; ``lost = events_sent - events_received``; ``duplicates``
counts stream entries whose event id was already in the stream (a replay that went
through twice) plus events handled twice. One JSON line per scenario::

    {"scenario": ..., "events_sent": n, "events_received": m, "lost": n - m,
     "duplicates": d, "recovery_s": t, "detail": {...}}

Scenarios (``recovery_s`` is measured from the end of the fault):

* ``redis_outage``: redis-server SIGKILLed, down ``--outage-s`` (30) s, restarted on the
  same port and data. Recovery: every camera online with a fresh heartbeat and every event
  ledgered until the restart handled by the consumers (spools replayed).
* ``worker_kill``: one worker SIGKILLed (not restarted). Recovery: all its cameras online
  under the surviving workers (required <= 15 s).
* ``camera_cut``: the MJPEG server stops listening and drops its connections for
  ``--cut-s`` s, then comes back. Recovery: the camera online with new frames (<= 5 s).
* ``camera_stall``: the MJPEG server keeps the connection open but sends nothing.
  ``detail.detected_s``: until the camera is shown offline as stalled (watchdog, 3 s).
* ``corrupt_video``: a camera reads a damaged video file (zeroed bytes, truncated end).
  The workers must keep running and every other camera stay online.
* ``consumer_kill``: a consumer SIGKILLed with messages delivered but not acknowledged;
  the other reclaims them (``XAUTOCLAIM``). Recovery: every event handled.
* ``malformed_flood``: thousands of malformed entries XADDed into the event streams and
  malformed HTTP requests sent to the dashboard (public and SOS APIs). Consumers
  dead-letter the bad entries and keep up; the dashboard answers 4xx, never 5xx.

CPU: about 2 cores for 4-5 minutes with the defaults. ``--help`` for the knobs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from bus.embedded import REDIS_ERRORS, EmbeddedRedis, client_for_url, free_port, start_embedded_redis
from bus.keys import dead_stream, lease_key
from bus.schema import stream_of
from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import REPO_ROOT
from config.settings import SyntheticSource as SyntheticConfig
from core.clock import now_ms
from core.types import CameraState, DensityReport, LineCrossing
from ingest.mjpeg_server import MjpegServer, SyntheticFeed

EVENT_STREAMS = (stream_of(LineCrossing), stream_of(DensityReport))
EVENT_ID = re.compile(r"[0-9a-f]{40}")
GROUP = "bench"
SCENARIOS = (
    "redis_outage",
    "worker_kill",
    "camera_cut",
    "camera_stall",
    "corrupt_video",
    "consumer_kill",
    "malformed_flood",
)


def say(msg: str) -> None:
    print(f"[faults {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def wait_for(pred: Callable[[], bool], timeout: float, step: float = 0.1) -> float | None:
    """Seconds until ``pred()`` held, or None after ``timeout``."""
    t0 = time.monotonic()
    while True:
        with contextlib.suppress(*REDIS_ERRORS, sqlite3.Error):
            if pred():
                return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            return None
        time.sleep(step)


# --------------------------------------------------------------------------- consumer process


def consume(url: str, db_path: Path, name: str, handle_delay_s: float, reclaim_idle_ms: int) -> int:
    """A consumer-group reader: read -> handle (record the id, commit) -> XACK; reclaim dead consumers' messages.

    ``handle_delay_s`` simulates slow handling between reading and handling (a consumer
    killed then leaves delivered, unhandled, unacknowledged messages behind).
    """
    bus = EventBus(client_for_url(url, socket_timeout=5, retries=0))
    db = sqlite3.connect(str(db_path), timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS handled (id TEXT PRIMARY KEY, stream TEXT, consumer TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS redelivered (id TEXT, consumer TEXT)")
    stop = False

    def _term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _term)
    groups_ok = False
    next_reclaim = 0.0
    while not stop:
        try:
            if not groups_ok:
                for s in EVENT_STREAMS:
                    bus.ensure_group(s, GROUP, "0")
                groups_ok = True
            msgs = bus.read_group(GROUP, name, list(EVENT_STREAMS), count=200, block_ms=300)
            if time.monotonic() >= next_reclaim:
                next_reclaim = time.monotonic() + 1.0
                for s in EVENT_STREAMS:
                    msgs += bus.reclaim(s, GROUP, name, min_idle_ms=reclaim_idle_ms, count=500)
            if not msgs:
                continue
            if handle_delay_s:
                time.sleep(handle_delay_s)
            db.execute("BEGIN IMMEDIATE")
            for m in msgs:
                cur = db.execute("INSERT OR IGNORE INTO handled VALUES (?, ?, ?)", (m.event_id, m.stream, name))
                if cur.rowcount == 0:
                    db.execute("INSERT INTO redelivered VALUES (?, ?)", (m.event_id, name))
            db.execute("COMMIT")
            bus.ack(GROUP, msgs)
        except REDIS_ERRORS:
            groups_ok = False
            time.sleep(0.3)
    return 0


# --------------------------------------------------------------------------- media


def corrupt_video(path: Path) -> Path:
    """A small MJPG AVI with a zeroed stretch in the middle and a truncated end."""
    w = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (320, 240))
    rng = np.random.default_rng(0)
    for i in range(60):
        img = np.full((240, 320, 3), 90, np.uint8)
        cv2.rectangle(img, (4 * i, 80), (40 + 4 * i, 120), (0, 0, 255), -1)
        w.write(img + rng.integers(0, 3, img.shape, dtype=np.uint8))
    w.release()
    data = bytearray(path.read_bytes())
    cut = len(data) // 2
    data[cut : cut + 6000] = bytes(6000)
    path.write_bytes(bytes(data[: len(data) - 4000]))
    return path


# --------------------------------------------------------------------------- the rig


class Rig:
    """Redis + workers + consumers (+ MJPEG server, + dashboard) for one scenario."""

    def __init__(
        self,
        root: Path,
        cameras: int,
        workers: int,
        *,
        http_camera: bool = False,
        corrupt_camera: bool = False,
        dashboard: bool = False,
        consumer_handle_delay_s: float = 0.0,
    ) -> None:
        self.root = root
        self.n_workers = workers
        self.redis_port = free_port()
        self.redis_dir = root / "redis"
        self.ledger_dir = root / "ledger"
        self.ledger_dir.mkdir(parents=True)
        self.db_path = root / "handled.db"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.redis: EmbeddedRedis | None = None
        self.mjpeg: MjpegServer | None = None
        self.dashboard_port = free_port() if dashboard else None
        self.consumer_handle_delay_s = consumer_handle_delay_s
        self.camera_ids = [f"cam-{i}" for i in range(cameras)]
        cams: list[dict[str, Any]] = [self._synthetic(cid, i) for i, cid in enumerate(self.camera_ids)]
        if http_camera:
            self.mjpeg = MjpegServer(
                SyntheticFeed(SyntheticConfig(seed=99, width=320, height=180, fps=5, realtime=False, noise=0)), fps=5
            ).start()
            cams.append(self._camera("cam-http", {"kind": "http", "url": self.mjpeg.url}))
        if corrupt_camera:
            video = corrupt_video(root / "corrupt.avi")
            cams.append(self._camera("cam-corrupt", {"kind": "file", "path": str(video), "loop": True}))
        self.all_cameras = [c["id"] for c in cams]
        self.config = root / "config.yaml"
        cfg: dict[str, Any] = {
            "segments": [{"id": "seg", "name": "Bench road", "path": [[34.0, 71.5], [34.01, 71.51]]}],
            "cameras": cams,
            "worker": {
                "heartbeat_s": 1.0,
                "reconnect_initial_s": 0.5,
                "reconnect_max_s": 2.0,
                "spool_dir": str(root / "spool"),
                "frame_publish_fps": 1,
            },
            "redis": {"data_dir": str(self.redis_dir)},
        }
        if dashboard:
            cfg["dashboard"] = {"port": self.dashboard_port}
            cfg["archive"] = {"url": f"sqlite:///{root / 'archive.db'}", "evidence_dir": str(root / "evidence")}
        self.config.write_text(yaml.safe_dump(cfg, sort_keys=False))
        self.url = f"redis://127.0.0.1:{self.redis_port}/0"
        self._client: Any = None

    @staticmethod
    def _camera(cid: str, source: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": cid,
            "name": cid,
            "location": [34.0, 71.5],
            "segment": "seg",
            "analysis_fps": 5,
            "source": source,
            "detector": {"kind": "motion"},
            "lines": [{"id": "main", "a": [0, 110], "b": [320, 110]}],
            "zones": [{"id": "z", "polygon": [[0, 40], [320, 40], [320, 180], [0, 180]]}],
        }

    def _synthetic(self, cid: str, i: int) -> dict[str, Any]:
        return self._camera(
            cid,
            {
                "kind": "synthetic",
                "seed": 100 + i,
                "width": 320,
                "height": 180,
                "fps": 5,
                "vehicles_per_minute": 60,
                "noise": 0,
            },
        )

    # ------------------------------------------------------------------ processes
    @property
    def client(self) -> Any:
        """A fail-fast Redis client (it reconnects by itself after a Redis restart)."""
        if self._client is None:
            self._client = client_for_url(self.url, socket_timeout=5, retries=0)
        return self._client

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.procs[name] = subprocess.Popen(
            [sys.executable, *argv],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )

    def start_redis(self) -> None:
        self.redis = start_embedded_redis(self.redis_dir, self.redis_port)

    def kill_redis(self) -> None:
        assert self.redis is not None
        os.kill(self.redis.pid, signal.SIGKILL)
        self.redis._process.wait()
        self.redis = None

    def start_worker(self, name: str) -> None:
        self._spawn(
            name,
            ["-m", "ingest.worker", "--config", str(self.config), "--redis-url", self.url, "--worker-id", name],
            {"SAFECITY_EVENT_LEDGER": str(self.ledger_dir)},
        )

    def start_consumer(self, name: str, handle_delay_s: float = 0.0) -> None:
        self._spawn(
            name,
            [
                "-m",
                "bench.faults",
                "_consume",
                "--redis-url",
                self.url,
                "--db",
                str(self.db_path),
                "--name",
                name,
                "--handle-delay-s",
                str(handle_delay_s),
            ],
        )

    def start(self) -> None:
        self.start_redis()
        self.start_consumer("c1", self.consumer_handle_delay_s)
        self.start_consumer("c2")
        for i in range(self.n_workers):
            self.start_worker(f"w{i + 1}")
        if self.dashboard_port:
            self._spawn("dashboard", ["-m", "dashboard", "--config", str(self.config)], {"REDIS_URL": self.url})
        if wait_for(lambda: self.cameras_online(), 120, 0.5) is None:
            raise RuntimeError(f"cameras did not come online: {self.status_summary()}\n{self.logs()}")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        self.procs[name].send_signal(sig)
        self.procs[name].wait(30)

    def alive(self, name: str) -> bool:
        return self.procs[name].poll() is None

    def logs(self, tail: int = 1500) -> str:
        out = []
        for name in self.procs:
            text = (self.root / f"{name}.log").read_text(errors="replace")
            out.append(f"--- {name}\n{text[-tail:]}")
        return "\n".join(out)

    # ------------------------------------------------------------------ observations
    def statuses(self) -> dict[str, Any]:
        return LiveStore(self.client).camera_statuses()

    def status_summary(self) -> dict[str, str]:
        with contextlib.suppress(*REDIS_ERRORS):
            return {k: f"{v.state.value}@{v.worker_id}" for k, v in self.statuses().items()}
        return {}

    def cameras_online(
        self, cams: Sequence[str] | None = None, frames_after_ms: int = 0, not_worker: str | None = None
    ) -> bool:
        st = self.statuses()
        t = now_ms()
        for cid in cams or self.all_cameras:
            s = st.get(cid)
            if s is None or s.state is not CameraState.ONLINE or t - s.ts_ms > 3000:
                return False
            if s.last_frame_ts_ms <= frames_after_ms or (not_worker and s.worker_id == not_worker):
                return False
        return True

    def ledgered(self) -> list[str]:
        ids: list[str] = []
        for f in sorted(self.ledger_dir.glob("*.ledger")):
            ids += [ln.split(" ", 1)[0] for ln in f.read_text().splitlines() if ln.strip()]
        return ids

    def handled(self) -> set[str]:
        if not self.db_path.exists():
            return set()
        db = sqlite3.connect(str(self.db_path), timeout=30)
        try:
            return {r[0] for r in db.execute("SELECT id FROM handled")}
        finally:
            db.close()

    def redelivered(self) -> int:
        db = sqlite3.connect(str(self.db_path), timeout=30)
        try:
            return int(db.execute("SELECT COUNT(*) FROM redelivered").fetchone()[0])
        finally:
            db.close()

    def caught_up(self, ids: Sequence[str]) -> bool:
        return set(ids) <= self.handled()

    def owners(self) -> dict[str, str | None]:
        c = self.client
        return {cid: (v.decode() if (v := c.get(lease_key(cid))) else None) for cid in self.all_cameras}

    # ------------------------------------------------------------------ end
    def finish(self, scenario: str, recovery_s: float | None, **detail: Any) -> dict[str, Any]:
        """Stop the workers (SIGTERM: flush), let the consumers catch up, count."""
        for name, p in self.procs.items():
            if name.startswith("w") and p.poll() is None:
                p.send_signal(signal.SIGTERM)
        exit_codes: dict[str, int | str] = {}
        for name, p in self.procs.items():
            if name.startswith("w"):
                try:
                    exit_codes[name] = p.wait(60)
                except subprocess.TimeoutExpired:
                    p.kill()
                    exit_codes[name] = "hung"
        sent = self.ledgered()
        wait_for(lambda: self.caught_up(sent), 60, 0.5)
        handled = self.handled()
        sent_set = set(sent)
        received = len(sent_set & handled)
        c = self.client
        stream_dups = 0
        entries = 0
        for s in EVENT_STREAMS:
            ids = [f.get(b"id", b"").decode(errors="replace") for _, f in c.xrange(s)]
            ids = [i for i in ids if EVENT_ID.fullmatch(i)]  # well-formed events (the flood's junk is not)
            entries += len(ids)
            stream_dups += sum(n - 1 for n in Counter(ids).values() if n > 1)
        spool_left = 0
        for f in sorted((self.root / "spool").glob("*.spool")):
            db = sqlite3.connect(f"file:{f}?mode=ro", uri=True, timeout=30)
            try:
                spool_left += int(db.execute("SELECT COUNT(*) FROM events").fetchone()[0])
            finally:
                db.close()
        detail.update(
            {
                "event_entries_in_streams": entries,
                "ledger_lines_repeated": len(sent) - len(sent_set),
                "handled_not_ledgered": len(handled - sent_set),
                "redelivered_and_skipped": self.redelivered(),
                "worker_exit_codes": exit_codes,
                "events_left_in_spools": spool_left,
            }
        )
        return {
            "scenario": scenario,
            "events_sent": len(sent_set),
            "events_received": received,
            "lost": len(sent_set) - received,
            "duplicates": stream_dups + (len(sent) - len(sent_set)),
            "recovery_s": None if recovery_s is None else round(recovery_s, 2),
            "detail": detail,
        }

    def close(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.mjpeg is not None:
            self.mjpeg.stop()
        if self.redis is not None:
            self.redis.stop()


# --------------------------------------------------------------------------- scenarios


def _health(port: int | None) -> tuple[int, str]:
    """(status, body status field) of the dashboard's /healthz; (0, error) when it does not answer."""
    if port is None:
        return 0, "no dashboard"
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return r.status, json.loads(r.read()).get("status", "")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read()).get("status", "")
        except ValueError:
            return e.code, ""
    except (urllib.error.URLError, OSError, ValueError) as e:
        return 0, type(e).__name__


def run_redis_outage(rig: Rig, args: argparse.Namespace) -> dict[str, Any]:
    wait_for(lambda: _health(rig.dashboard_port)[0] == 200, 90, 0.5)
    time.sleep(args.warmup_s)
    say(f"killing redis-server (SIGKILL) for {args.outage_s:g} s")
    rig.kill_redis()
    down_t = time.monotonic()
    degraded = wait_for(lambda: _health(rig.dashboard_port)[0] == 503, args.outage_s, 0.25)
    during = _health(rig.dashboard_port)
    time.sleep(max(0.0, args.outage_s - (time.monotonic() - down_t)))
    rig.start_redis()
    back_ms = now_ms()
    t0 = time.monotonic()
    say("redis-server restarted (same port, same AOF)")
    before = rig.ledgered()
    cams = wait_for(lambda: rig.cameras_online(frames_after_ms=back_ms), 60)
    events = wait_for(lambda: rig.caught_up(before), 60, 0.25)
    rec = None if cams is None or events is None else time.monotonic() - t0
    healthy = wait_for(lambda: _health(rig.dashboard_port)[0] == 200, 30, 0.25)
    healthy_s = None if healthy is None else time.monotonic() - t0  # since the restart
    time.sleep(args.settle_s)
    spooled = sum(1 for _ in before)
    return rig.finish(
        "redis_outage",
        rec,
        outage_s=args.outage_s,
        cameras_online_s=None if cams is None else round(cams, 2),
        events_replayed_s=None if events is None else round(events, 2),
        events_before_restart=spooled,
        workers_alive=all(rig.alive(f"w{i + 1}") for i in range(rig.n_workers)),
        dashboard_degraded_after_s=None if degraded is None else round(degraded, 2),
        dashboard_during_outage={"http": during[0], "status": during[1]},
        dashboard_healthy_again_s=None if healthy_s is None else round(healthy_s, 2),
        dashboard_alive=rig.alive("dashboard") if "dashboard" in rig.procs else None,
    )


def run_worker_kill(rig: Rig, args: argparse.Namespace) -> dict[str, Any]:
    time.sleep(args.warmup_s)
    owners = rig.owners()
    victim = "w1"
    orphans = [c for c, w in owners.items() if w == victim]
    say(f"SIGKILL {victim} (holding {', '.join(orphans) or 'nothing'})")
    killed_ms = now_ms()
    t0 = time.monotonic()
    rig.kill(victim)
    rec = wait_for(lambda: rig.cameras_online(orphans, frames_after_ms=killed_ms, not_worker=victim), 60, 0.1)
    say(f"re-owned after {rec if rec is None else round(rec, 1)} s")
    took = time.monotonic() - t0
    time.sleep(args.settle_s + 10)  # let the orphaned spool be adopted (every 10 s)
    return rig.finish(
        "worker_kill",
        rec,
        cameras_reowned=len(orphans),
        reowned_within_15s=rec is not None and rec <= 15.0,
        waited_s=round(took, 1),
        owners_after=rig.owners(),
    )


def run_camera_cut(rig: Rig, args: argparse.Namespace) -> dict[str, Any]:
    assert rig.mjpeg is not None
    time.sleep(args.warmup_s)
    say(f"MJPEG server down for {args.cut_s:g} s")
    rig.mjpeg.go_down()
    down_ms = now_ms()
    detected = wait_for(lambda: rig.statuses()["cam-http"].state is CameraState.OFFLINE, args.cut_s)
    time.sleep(max(0.0, args.cut_s - (now_ms() - down_ms) / 1000))
    rig.mjpeg.come_back()
    back_ms = now_ms()
    rec = wait_for(lambda: rig.cameras_online(["cam-http"], frames_after_ms=back_ms), 60, 0.05)
    say(f"camera back after {rec if rec is None else round(rec, 2)} s")
    time.sleep(args.settle_s)
    st = rig.statuses()["cam-http"]
    return rig.finish(
        "camera_cut",
        rec,
        cut_s=args.cut_s,
        offline_detected_s=None if detected is None else round(detected, 2),
        back_within_5s=rec is not None and rec <= 5.0,
        reconnects=st.reconnects,
        reconnects_1h=st.reconnects_1h,
    )


def run_camera_stall(rig: Rig, args: argparse.Namespace) -> dict[str, Any]:
    assert rig.mjpeg is not None
    time.sleep(args.warmup_s)
    say(f"MJPEG server stalls (connection open, no frames) for {args.cut_s:g} s")
    rig.mjpeg.set_stalled(True)
    t_stall = time.monotonic()

    def stalled() -> bool:
        s = rig.statuses()["cam-http"]
        return s.state is CameraState.OFFLINE and "stall" in s.error

    detected = wait_for(stalled, args.cut_s + 10, 0.05)
    time.sleep(max(0.0, args.cut_s - (time.monotonic() - t_stall)))
    rig.mjpeg.set_stalled(False)
    back_ms = now_ms()
    rec = wait_for(lambda: rig.cameras_online(["cam-http"], frames_after_ms=back_ms), 60, 0.05)
    time.sleep(args.settle_s)
    st = rig.statuses()["cam-http"]
    return rig.finish(
        "camera_stall",
        rec,
        stall_s=args.cut_s,
        detected_s=None if detected is None else round(detected, 2),
        stalls=st.stalls,
        back_within_5s=rec is not None and rec <= 5.0,
    )


def run_corrupt_video(rig: Rig, args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.monotonic()
    time.sleep(args.warmup_s + 10)
    st = rig.statuses()
    others_ok = rig.cameras_online(rig.camera_ids)
    bad = st.get("cam-corrupt")
    return rig.finish(
        "corrupt_video",
        None,
        ran_s=round(time.monotonic() - t0, 1),
        workers_alive=all(rig.alive(f"w{i + 1}") for i in range(rig.n_workers)),
        other_cameras_online=others_ok,
        corrupt_camera={
            "state": bad.state.value if bad else None,
            "frames_in": bad.frames_in if bad else 0,
            "frames_corrupt": bad.frames_corrupt if bad else 0,
            "reconnects": bad.reconnects if bad else 0,
            "error": bad.error if bad else "",
        },
    )


def run_consumer_kill(rig: Rig, args: argparse.Namespace) -> dict[str, Any]:
    time.sleep(args.warmup_s)
    c = rig.client

    def c1_pending() -> int:
        return sum(
            len(c.xpending_range(s, GROUP, min="-", max="+", count=1000, consumername="c1")) for s in EVENT_STREAMS
        )

    wait_for(lambda: c1_pending() > 0, 30, 0.02)
    pending = c1_pending()
    handled_before = rig.handled()
    say(f"SIGKILL consumer c1 while it holds {pending} delivered, unacknowledged message(s)")
    rig.kill("c1")
    t0 = time.monotonic()
    before = rig.ledgered()
    rec = wait_for(lambda: rig.caught_up(before), 60, 0.1)
    took = time.monotonic() - t0
    time.sleep(args.settle_s)
    return rig.finish(
        "consumer_kill",
        rec,
        pending_at_kill=pending,
        unhandled_at_kill=len(set(before) - handled_before),
        reclaim_min_idle_s=3.0,
        waited_s=round(took, 1),
    )


def _fuzz_requests(port: int, n: int, rng: random.Random) -> Counter[str]:
    base = f"http://127.0.0.1:{port}"
    junk = [
        "",
        "%00",
        "%ff%fe",
        "../../etc/passwd",
        "a" * 3000,
        "\u0645\u0644\u062a\u0627\u0646",
        "{}",
        "[]",
        "null",
        "-1",
        "1e309",
        "NaN",
        "<script>",
        "' OR 1=1 --",
    ]
    paths = [
        "/api/v1/traffic",
        "/api/v1/sos",
        "/api/v1/nope",
        "/api/",
        "/camera/cam-0/latest.jpg",
        "/camera/CAM!/latest.jpg",
        "/camera/cam-0/stream.mjpg",
        "/camera/x/../../y",
        "/healthz",
        "/api/v1/tickets/lookup",
        "/metrics",
    ]
    codes: Counter[str] = Counter()
    for _ in range(n):
        path = rng.choice(paths)
        q = "&".join(
            f"{rng.choice(['segment', 'fps', 'max_frames', 'x', ''])}={urllib.parse.quote(rng.choice(junk))}"
            for _ in range(rng.randint(0, 3))
        )
        url = base + path + (f"?{q}" if q else "")
        if "stream.mjpg" in path:
            url += ("&" if q else "?") + "max_frames=1"  # never hold a stream open
        method = rng.choice(["GET", "POST", "PUT", "DELETE"]) if path != "/api/v1/sos" else "POST"
        body = None
        headers = {"Content-Type": rng.choice(["application/json", "text/plain", "application/x-www-form-urlencoded"])}
        if method in ("POST", "PUT"):
            body = rng.choice(
                [
                    b"",
                    b"{",
                    b"[]",
                    b'{"location": "x"}',
                    b'{"location": {"lat": 1e400, "lon": "a"}}',
                    json.dumps(
                        {
                            "location": [rng.uniform(-200, 200), rng.uniform(-200, 200)],
                            "text": rng.choice(junk),
                            "reporter": {"phone": rng.choice(junk)},
                        }
                    ).encode(),
                    os.urandom(rng.randint(1, 20000)),
                ]
            )
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                resp.read(65536)
                codes[str(resp.status)] += 1
        except urllib.error.HTTPError as e:
            codes[str(e.code)] += 1
            if e.code >= 500 and not (e.code == 503 and path == "/healthz"):
                codes[f"5xx {method} {path}"] += 1
        except (urllib.error.URLError, OSError) as e:
            codes[f"error {type(e).__name__}"] += 1
    return codes


def run_malformed_flood(rig: Rig, args: argparse.Namespace) -> dict[str, Any]:
    time.sleep(args.warmup_s)
    c = rig.client
    rng = random.Random(7)
    garbage: list[dict[str, str | bytes]] = [
        {"junk": "1"},
        {"v": "1", "type": "LineCrossing", "id": "x", "data": "{not json"},
        {"v": "999", "type": "DensityReport", "id": "y", "ts_ms": "1", "data": "{}"},
        {"v": "1", "type": "NoSuchEvent", "id": "z", "ts_ms": "1", "data": "{}"},
        {"v": "1", "type": "DensityReport", "id": "w", "ts_ms": "1", "data": '{"camera_id": 5}'},
        {"v": "1", "type": "LineCrossing", "id": "q", "ts_ms": "1", "data": "[1, 2]"},
        {"v": b"\xff\xfe", "type": b"\x00", "data": b"\xc3\x28"},
    ]
    n_bad = args.flood
    say(f"flooding the event streams with {n_bad} malformed entries and the dashboard with {args.requests} requests")
    t0 = time.monotonic()
    pipe = c.pipeline(transaction=False)
    for i in range(n_bad):
        pipe.xadd(EVENT_STREAMS[i % 2], rng.choice(garbage))  # type: ignore[arg-type]
        if i % 500 == 499:
            pipe.execute()
    pipe.execute()
    codes: Counter[str] = Counter()
    if rig.dashboard_port:
        ready = wait_for(
            lambda: (
                urllib.request.urlopen(f"http://127.0.0.1:{rig.dashboard_port}/api/v1/traffic", timeout=5).status == 200
            ),
            90,
            0.5,
        )
        if ready is None:
            codes["dashboard not ready"] += 1
        else:
            codes = _fuzz_requests(rig.dashboard_port, args.requests, rng)
    flood_end = time.monotonic()
    before = rig.ledgered()
    rec = wait_for(lambda: rig.caught_up(before), 60, 0.25)
    dead = sum(int(c.xlen(dead_stream(s))) for s in EVENT_STREAMS)
    server_errors = {k: v for k, v in codes.items() if k.startswith("5xx")}
    dash_alive = rig.alive("dashboard") if "dashboard" in rig.procs else None
    time.sleep(args.settle_s)
    return rig.finish(
        "malformed_flood",
        rec,
        malformed_entries=n_bad,
        dead_lettered=dead,
        flood_s=round(flood_end - t0, 1),
        http_requests=args.requests if rig.dashboard_port else 0,
        http_status=dict(sorted((k, v) for k, v in codes.items() if not k.startswith("5xx"))),
        http_5xx=sum(server_errors.values()),
        http_5xx_paths=server_errors,
        dashboard_alive=dash_alive,
        consumers_alive=rig.alive("c1") and rig.alive("c2"),
    )


RUNNERS: dict[str, tuple[Callable[[Rig, argparse.Namespace], dict[str, Any]], dict[str, Any]]] = {
    "redis_outage": (run_redis_outage, {"dashboard": True}),
    "worker_kill": (run_worker_kill, {}),
    "camera_cut": (run_camera_cut, {"http_camera": True}),
    "camera_stall": (run_camera_stall, {"http_camera": True}),
    "corrupt_video": (run_corrupt_video, {"corrupt_camera": True}),
    "consumer_kill": (run_consumer_kill, {"consumer_handle_delay_s": 1.5}),
    "malformed_flood": (run_malformed_flood, {"dashboard": True}),
}


def run_scenario(name: str, args: argparse.Namespace) -> dict[str, Any]:
    fn, opts = RUNNERS[name]
    root = Path(tempfile.mkdtemp(prefix=f"faults-{name}-", dir=args.work_dir))
    rig = Rig(root, args.cameras, args.workers, **opts)
    say(f"{name}: starting redis, {args.workers} worker(s), 2 consumers, {len(rig.all_cameras)} camera(s) in {root}")
    try:
        rig.start()
        result = fn(rig, args)
    except Exception as e:  # noqa: BLE001 - report the scenario as failed, keep going
        result = {"scenario": name, "error": f"{type(e).__name__}: {e}", "logs": rig.logs(800)}
    finally:
        rig.close()
    if not args.keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_consume"]:
        cp = argparse.ArgumentParser(prog="python -m bench.faults _consume")
        cp.add_argument("--redis-url", required=True)
        cp.add_argument("--db", type=Path, required=True)
        cp.add_argument("--name", required=True)
        cp.add_argument("--handle-delay-s", type=float, default=0.0)
        cp.add_argument("--reclaim-idle-ms", type=int, default=3000)
        a = cp.parse_args(argv[1:])
        return consume(a.redis_url, a.db, a.name, a.handle_delay_s, a.reclaim_idle_ms)
    ap = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print only the JSON lines on stdout (progress on stderr)")
    ap.add_argument("--only", action="append", choices=SCENARIOS, help="run only this scenario (repeatable)")
    ap.add_argument("--workers", type=int, default=2, help="ingest worker processes (default 2)")
    ap.add_argument("--cameras", type=int, default=4, help="synthetic cameras shared by the workers (default 4)")
    ap.add_argument("--outage-s", type=float, default=30.0, help="Redis outage length (default 30)")
    ap.add_argument("--cut-s", type=float, default=8.0, help="camera stream cut/stall length (default 8)")
    ap.add_argument("--warmup-s", type=float, default=5.0, help="normal running before each fault")
    ap.add_argument("--settle-s", type=float, default=3.0, help="normal running after recovery")
    ap.add_argument("--flood", type=int, default=5000, help="malformed stream entries (default 5000)")
    ap.add_argument("--requests", type=int, default=600, help="malformed HTTP requests (default 600)")
    ap.add_argument("--work-dir", type=Path, default=None, help="where rigs live (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep each rig's directory (logs, spools, databases)")
    args = ap.parse_args(argv)
    ok = True
    for name in args.only or SCENARIOS:
        r = run_scenario(name, args)
        line = json.dumps(r, default=str)
        print(line, flush=True)
        if not args.json:
            say(f"{name}: lost={r.get('lost')} duplicates={r.get('duplicates')} recovery_s={r.get('recovery_s')}")
        ok &= r.get("lost") == 0 and r.get("duplicates") == 0 and "error" not in r
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
