"""Ingest worker: cameras -> vision pipeline -> Redis.

``python -m ingest.worker`` runs the configured cameras (all enabled ones, or those
named with ``--camera``). Per camera, a capture thread (:class:`ingest.source.CameraCapture`)
keeps the newest frames; an analysis thread samples them to ``analysis_fps`` (by frame
time), runs the :class:`vision.pipeline.CameraPipeline`, and publishes through ``bus/``:

* ``traffic.crossing``: every counting-line crossing, as it happens;
* ``traffic.density``: per-camera density every ``worker.density_interval_s`` of frame time;
* ``camera.status``: a heartbeat every ``worker.heartbeat_s`` (online/offline, fps in and
  analysed, frames skipped/corrupt, reconnects), also kept as live state;
* the latest annotated JPEG per camera (one key, overwritten, at most ``frame_publish_fps``).

A camera whose source fails is shown offline and retried with backoff by its capture
thread; the worker itself never stops for a bad camera.

Scale-out and faults (docs/operations.md): any number of workers, on any number of
machines, share the cameras through Redis leases (:mod:`bus.leases`); events go through a
durable local spool (:mod:`bus.spool`, :mod:`bus.publisher`) so a Redis outage loses
nothing and a replay duplicates nothing; SIGTERM stops the cameras, flushes the spool and
releases the leases.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from bus.embedded import connect
from bus.leases import LeaseBoard, LeaseKeeper
from bus.publisher import SpoolPublisher, adopt
from bus.spool import Spool, SpoolLocked, orphaned_spools, spool_path
from bus.store import LiveStore
from bus.streams import EventBus
from config.cli import start_cli
from config.settings import AppConfig, CameraConfig, ConfigError, WorkerConfig, resolve_path
from core.clock import now_ms
from core.types import CameraState, CameraStatus, DensityReport, Frame, LineCrossing, ZoneDensity
from ingest.enforce import CameraEnforcer, enforcer_factory, watchlist_cache
from ingest.source import CameraCapture, open_source
from vision.annotate import annotate
from vision.pipeline import CameraPipeline, FrameResult

log = logging.getLogger("ingest.worker")


@dataclass
class DensityWindow:
    """Accumulates zone figures between two density reports (mean over the window)."""

    samples: int = 0
    vehicles: float = 0.0
    occupancy: float = 0.0
    latest: tuple[ZoneDensity, ...] = ()
    speeds: list[float] = field(default_factory=list)

    def add(self, zones: Sequence[ZoneDensity]) -> None:
        self.samples += 1
        self.vehicles += sum(z.vehicles for z in zones)
        self.occupancy += (sum(z.occupancy for z in zones) / len(zones)) if zones else 0.0
        self.latest = tuple(zones)

    def report(self, camera: CameraConfig, ts_ms: int, pipeline: CameraPipeline) -> DensityReport:
        n = max(self.samples, 1)
        rep = DensityReport(
            camera_id=camera.id,
            segment_id=camera.segment,
            ts_ms=ts_ms,
            vehicles=round(self.vehicles / n, 3),
            occupancy=round(self.occupancy / n, 4),
            zones=self.latest,
            counts=tuple(sorted(pipeline.counts().items())),
            by_label=tuple(sorted(pipeline.counts_by_label().items())),
            mean_speed_kmh=None,
        )
        self.samples, self.vehicles, self.occupancy = 0, 0.0, 0.0
        return rep


class Rate:
    """Events per second over a sliding window of timestamps (seconds)."""

    def __init__(self, window_s: float = 5.0) -> None:
        self.window_s = window_s
        self._t: list[float] = []

    def tick(self, t: float) -> None:
        self._t.append(t)
        cutoff = t - self.window_s
        while self._t and self._t[0] < cutoff:
            self._t.pop(0)

    def value(self, t: float) -> float:
        cutoff = t - self.window_s
        recent = [x for x in self._t if x >= cutoff]
        if len(recent) < 2:
            return 0.0
        span = max(t - recent[0], 1e-6)
        return round(len(recent) / span, 2)


class LiveGate:
    """Skips best-effort live-state writes for a while after one failed, so a Redis outage never slows analysis."""

    def __init__(self) -> None:
        self._until = 0.0
        self._fails = 0

    def open(self) -> bool:
        return time.monotonic() >= self._until

    def ok(self) -> None:
        self._fails = 0

    def failed(self) -> None:
        self._fails += 1
        self._until = time.monotonic() + min(2.0, 0.25 * 2 ** min(self._fails, 3))


class CameraRunner:
    """Runs one camera: sampling, pipeline, publishing. One thread.

    Events (crossings, density) go through ``publisher``, a durable spool forwarded to
    Redis in order (shared by the worker's cameras); without one the runner makes its
    own in-memory spool (same ordering and replay, not durable across a process kill).
    Live state (heartbeats, latest frame) is best effort and skipped while Redis is down.
    """

    def __init__(
        self,
        camera: CameraConfig,
        worker: WorkerConfig,
        bus: EventBus,
        store: LiveStore,
        worker_id: str,
        capture: CameraCapture | None = None,
        pipeline: CameraPipeline | None = None,
        on_result: Callable[[Frame, FrameResult], None] | None = None,
        publisher: SpoolPublisher | None = None,
        enforcer: CameraEnforcer | None = None,
    ) -> None:
        self.camera = camera
        self.cfg = worker
        self.bus = bus
        self.store = store
        self.worker_id = worker_id
        self.capture = capture or CameraCapture(
            open_source(camera),
            reconnect_initial_s=worker.reconnect_initial_s,
            reconnect_max_s=worker.reconnect_max_s,
            stall_timeout_s=worker.stall_timeout_s,
        )
        self.pipeline = pipeline or CameraPipeline(camera, frame_rate=camera.analysis_fps)
        self.on_result = on_result
        self.enforcer = enforcer  # speeds, rules, evidence (ingest.enforce)
        self.frames_analysed = 0
        self.frames_sampled_out = 0
        self.publish_errors = 0
        self._owns_publisher = publisher is None
        self.publisher = publisher or SpoolPublisher(bus.client, Spool.memory(), bus.maxlen)
        self._live = LiveGate()
        self._window = DensityWindow()
        self._last_analysed_ts: int | None = None
        self._next_due_ts: int | None = None
        self._last_density_ts: int | None = None
        self._last_frame_pub = 0.0
        self._last_heartbeat = 0.0
        self._last_state: CameraState | None = None
        self._analysed_rate = Rate()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"cam-{camera.id}", daemon=True)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._owns_publisher:
            self.publisher.start()
        self.capture.start()
        self._thread.start()

    def stop(self, timeout: float = 5.0, flush_timeout: float = 10.0) -> None:
        """Stop analysis and capture; publish the partial density window (nothing half-done is lost)."""
        self._stop.set()
        self._thread.join(timeout)
        self.capture.stop(timeout)
        if not self._thread.is_alive() and self.enforcer is not None:
            self._publish(self.enforcer.flush())  # pending violations go out with the evidence they have
        if not self._thread.is_alive() and self._last_analysed_ts is not None:
            self._flush_density(self._last_analysed_ts)
        self._heartbeat(force=True, state_override=CameraState.OFFLINE, error="worker stopped")
        if self._owns_publisher:
            self.publisher.stop(flush_timeout)

    def abort(self, timeout: float = 5.0) -> None:
        """Stop at once, flushing nothing: what a crash leaves behind (the scenario runner's restart test)."""
        self._stop.set()
        self._thread.join(timeout)
        self.capture.stop(timeout)

    @property
    def events_dropped(self) -> int:
        """Events lost because the spool was full (oldest dropped first)."""
        return self.publisher.stats().dropped

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # ------------------------------------------------------------------ loop
    def _run(self) -> None:
        period_ms = 1000.0 / self.camera.analysis_fps
        while not self._stop.is_set():
            frame = self.capture.get(timeout=0.2)
            if frame is not None:
                due = self._next_due_ts
                if due is not None and frame.ts_ms < due - 0.25 * period_ms:
                    self.frames_sampled_out += 1
                else:
                    # Keep a steady cadence: the next frame is due one period after this
                    # one was due (so capture jitter does not lower the rate), unless we fell
                    # a whole period behind (then restart the cadence from this frame).
                    on_time = due is not None and frame.ts_ms - due < period_ms
                    self._next_due_ts = (
                        int(due + period_ms) if on_time and due is not None else int(frame.ts_ms + period_ms)
                    )
                    self._last_analysed_ts = frame.ts_ms
                    self._analyse(frame)
            elif self.capture.ended:
                self._flush_density(self._last_analysed_ts or now_ms())
                self._heartbeat(force=True)
                break
            self._heartbeat()

    def _analyse(self, frame: Frame) -> None:
        result = self.pipeline.process(frame)
        self.frames_analysed += 1
        self._analysed_rate.tick(time.monotonic())
        self._window.add(result.zones)
        self._publish(list(result.crossings))
        if self.enforcer is not None:
            try:
                self._publish(self.enforcer.process(frame, result.tracks))
            except Exception:  # noqa: BLE001 - enforcement must never stop counting
                log.exception("camera %s: enforcement failed on frame %d", self.camera.id, frame.index)
        if self._last_density_ts is None:
            self._last_density_ts = frame.ts_ms
        elif frame.ts_ms - self._last_density_ts >= self.cfg.density_interval_s * 1000:
            self._flush_density(frame.ts_ms)
        t = time.monotonic()
        if t - self._last_frame_pub >= 1.0 / self.cfg.frame_publish_fps:
            self._last_frame_pub = t
            self._publish_frame(frame, result)
        if self.on_result is not None:
            self.on_result(frame, result)

    def _flush_density(self, ts_ms: int) -> None:
        if self._window.samples == 0:
            return
        self._last_density_ts = ts_ms
        rep = self._window.report(self.camera, ts_ms, self.pipeline)
        if self.enforcer is not None:
            rep = replace(rep, mean_speed_kmh=self.enforcer.mean_speed_kmh())
        self._publish([rep])
        if not self._live.open():
            return
        try:
            self.store.put_density(rep)
            self._live.ok()
        except Exception as e:  # noqa: BLE001 - live state is best effort, the stream has it
            self.publish_errors += 1
            self._live.failed()
            log.warning("camera %s: live density not stored: %s", self.camera.id, e)

    def _publish(self, events: Sequence[LineCrossing | DensityReport]) -> None:
        """Queue events in the spool; its forwarder sends them to Redis in order, exactly once.

        Never blocks on Redis: while it is unreachable events wait in the (bounded, on-disk)
        spool and are replayed when it is back; past the bound the oldest are dropped and
        counted (``events_dropped``).
        """
        if events:
            self.publisher.publish(events)

    def _publish_frame(self, frame: Frame, result: FrameResult) -> None:
        image = annotate(frame.image, result, self.camera)
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.cfg.jpeg_quality])
        if not ok or not self._live.open():
            return
        try:
            self.store.put_frame(self.camera.id, np.asarray(buf).tobytes(), frame.ts_ms)
            self._live.ok()
        except Exception as e:  # noqa: BLE001
            self.publish_errors += 1
            self._live.failed()
            log.warning("camera %s: frame not stored: %s", self.camera.id, e)

    def status(self, state_override: CameraState | None = None, error: str | None = None) -> CameraStatus:
        st = self.capture.stats()
        t = time.monotonic()
        return CameraStatus(
            camera_id=self.camera.id,
            state=state_override or st.state,
            ts_ms=now_ms(),
            worker_id=self.worker_id,
            fps_in=round(st.fps_in, 2),
            fps_analysed=self._analysed_rate.value(t),
            frames_in=st.frames_in,
            frames_analysed=self.frames_analysed,
            frames_skipped=st.frames_skipped + self.frames_sampled_out,
            frames_corrupt=st.frames_corrupt,
            reconnects=st.reconnects,
            last_frame_ts_ms=st.last_frame_ts_ms,
            error=error if error is not None else st.error,
            stalls=st.stalls,
            reconnects_1h=st.reconnects_1h,
            spool_backlog=self.publisher.backlog,
            detector_runs=self.pipeline.detector_runs,
            detector_seconds=round(self.pipeline.detector_seconds, 3),
            detector=self.pipeline.detector_name,
        )

    def _heartbeat(
        self, force: bool = False, state_override: CameraState | None = None, error: str | None = None
    ) -> None:
        t = time.monotonic()
        state = self.capture.state
        if not force and t - self._last_heartbeat < self.cfg.heartbeat_s and state == self._last_state:
            return  # a state change (online <-> offline) is published at once, not at the next beat
        self._last_heartbeat = t
        self._last_state = state
        if not self._live.open() and not force:
            return
        status = self.status(state_override, error)
        try:
            self.store.put_camera_status(status)
            self.bus.publish(status)
            self._live.ok()
        except Exception as e:  # noqa: BLE001 - a heartbeat is periodic; the next one replaces it
            self.publish_errors += 1
            self._live.failed()
            log.warning("camera %s: heartbeat failed: %s", self.camera.id, e)


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Worker:
    """The cameras of one ingest process, sharing one Redis connection and one event spool.

    With ``leases`` (the default for ``python -m ingest.worker``) the worker runs only its
    share of ``camera_ids`` (all enabled cameras when empty), negotiated with the other
    workers through Redis leases (:class:`bus.leases.LeaseKeeper`): a dead worker's
    cameras are taken over within the lease ttl, a new worker gets its share handed
    over, a drained worker hands all of them over. Without leases it runs exactly the
    given cameras.

    Args:
        cfg: The configuration.
        camera_ids: Cameras to run or share; None/empty = every enabled camera.
        bus: Event bus (its client also holds the leases).
        store: Live state.
        publisher: Durable event publisher shared by the cameras (None: one in-memory per camera).
        worker_id: This worker's id (default ``<host>-<pid>``).
        leases: Share the cameras with other workers through Redis leases.
        spool_dir: Where orphaned spools of dead workers on this machine are looked for (adopted).
    """

    ADOPT_EVERY_S = 10.0

    def __init__(
        self,
        cfg: AppConfig,
        camera_ids: Sequence[str] | None,
        bus: EventBus,
        store: LiveStore,
        *,
        publisher: SpoolPublisher | None = None,
        worker_id: str | None = None,
        leases: bool = False,
        spool_dir: Path | None = None,
    ) -> None:
        cams = [c for c in cfg.cameras if c.enabled and (not camera_ids or c.id in camera_ids)]
        unknown = set(camera_ids or ()) - {c.id for c in cfg.cameras}
        if unknown:
            raise ConfigError(f"unknown camera id(s): {', '.join(sorted(unknown))}")
        self.cfg = cfg
        self.bus = bus
        self.store = store
        self.publisher = publisher
        self.worker_id = worker_id or default_worker_id()
        self.spool_dir = spool_dir
        self.cameras = {c.id: c for c in cams}
        #: The Redis watchlist (seeded at launch from ``cfg.watchlist_file``), shared by the cameras.
        self.watchlist = watchlist_cache(cfg, bus.client)
        self._enforcer = enforcer_factory(cfg, bus.client, self.watchlist.get)
        self._runners: dict[str, CameraRunner] = {}
        self._lock = threading.Lock()
        self._adopting: threading.Thread | None = None
        self._next_adopt = 0.0
        self.keeper: LeaseKeeper | None = None
        if leases:
            w = cfg.worker
            self.keeper = LeaseKeeper(
                LeaseBoard(bus.client, self.worker_id, ttl_s=w.lease_ttl_s),
                list(self.cameras),
                self._start_camera,
                self._stop_camera,
                tick_s=w.lease_tick_s,
                info=self._info,
            )
        else:
            for cid in self.cameras:
                self._runners[cid] = self._runner(cid)

    @property
    def runners(self) -> list[CameraRunner]:
        """The cameras running here now."""
        with self._lock:
            return list(self._runners.values())

    def _runner(self, camera_id: str) -> CameraRunner:
        return CameraRunner(
            self.cameras[camera_id],
            self.cfg.worker,
            self.bus,
            self.store,
            self.worker_id,
            publisher=self.publisher,
            enforcer=self._enforcer(self.cameras[camera_id]),
        )

    def _start_camera(self, camera_id: str) -> None:
        runner = self._runner(camera_id)
        runner.start()
        with self._lock:
            self._runners[camera_id] = runner
        log.info("camera %s started (%s)", camera_id, runner.camera.source.kind)

    def _stop_camera(self, camera_id: str) -> None:
        with self._lock:
            runner = self._runners.pop(camera_id, None)
        if runner is not None:
            runner.stop()
            log.info("camera %s stopped", camera_id)

    def _info(self) -> dict[str, object]:
        if self.publisher is None:
            return {}
        st = self.publisher.stats()
        return {"spool_backlog": st.backlog, "spool_dropped": st.dropped, "redis_ok": st.redis_ok}

    def start(self) -> None:
        if self.keeper is not None:
            self.keeper.start()
            return
        for r in self.runners:
            r.start()
            log.info("camera %s started (%s)", r.camera.id, r.camera.source.kind)

    def stop(self, flush_timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM): stop the cameras, forward the spool, release the leases.

        Order matters: every camera's last events are queued before the spool is
        flushed, and the leases are released only after that, so the next owner's
        events follow this worker's in the streams. Whatever cannot reach Redis in
        ``flush_timeout`` stays in the spool file for the next start.
        """
        if self.keeper is not None:
            self.keeper.halt()
        runners = self.runners
        threads = [threading.Thread(target=r.stop, daemon=True) for r in runners]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with self._lock:
            self._runners.clear()
        if self.publisher is not None:
            self.publisher.flush(flush_timeout)
        if self.keeper is not None:
            self.keeper.stop()  # releases the leases and leaves the registry
        if self._adopting is not None:
            self._adopting.join(flush_timeout)

    def wait(self, stop: threading.Event) -> None:
        """Block until ``stop`` is set (or, without leases, every camera has ended)."""
        while not stop.wait(0.5):
            self._maybe_adopt()
            if self.keeper is None and self.runners and not any(r.alive for r in self.runners):
                return

    def _maybe_adopt(self) -> None:
        """Now and then, forward spools left on this machine by workers that died."""
        if self.spool_dir is None or time.monotonic() < self._next_adopt:
            return
        self._next_adopt = time.monotonic() + self.ADOPT_EVERY_S
        if self._adopting is not None and self._adopting.is_alive():
            return
        own = self.publisher.spool.path if self.publisher is not None else None
        orphans = orphaned_spools(self.spool_dir, exclude=own)
        if orphans:
            self._adopting = threading.Thread(target=self._adopt, args=(orphans,), name="adopt-spools", daemon=True)
            self._adopting.start()

    def _adopt(self, paths: Sequence[Path]) -> None:
        for path in paths:
            try:
                spool = Spool.open(path)
            except (SpoolLocked, OSError) as e:
                log.debug("spool %s not adopted: %s", path, e)
                continue
            n = len(spool)
            left = adopt(self.bus.client, spool, self.bus.maxlen, timeout=30.0)
            log.warning("adopted spool %s of a dead worker: %d event(s) forwarded, %d left", path.name, n - left, left)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ingest.worker", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", help="YAML config (default: $SAFECITY_CONFIG or config/default.yaml)")
    ap.add_argument("--camera", action="append", help="camera id to run or share (repeatable); default: all enabled")
    ap.add_argument(
        "--redis-url",
        help="Redis URL (default: config, then $REDIS_URL, else embedded); "
        "redis://, rediss://, redis+sentinel://, redis+cluster://",
    )
    ap.add_argument(
        "--worker-id",
        default=os.environ.get("WORKER_ID"),
        help="stable id (default <host>-<pid>): a restarted worker with the same id resumes its cameras "
        "and its spool at once; must be unique across machines",
    )
    ap.add_argument(
        "--static",
        action="store_true",
        help="run exactly the given cameras, without leases (no coordination with other workers)",
    )
    ap.add_argument("--spool-dir", type=Path, help="event spool directory (default: worker.spool_dir)")
    ap.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    args = ap.parse_args(argv)
    cfg = start_cli(args.config, args.log_level)
    if cfg is None:
        return 2
    worker_id = args.worker_id or default_worker_id()
    spool_dir = resolve_path(args.spool_dir or cfg.worker.spool_dir)
    ledger_dir = os.environ.get("SAFECITY_EVENT_LEDGER")  # audit: ids of every event handed to the spool
    try:
        spool = Spool.open(
            spool_path(spool_dir, worker_id),
            max_events=cfg.worker.spool_max_events,
            sync=cfg.worker.spool_sync,
            ledger=Path(ledger_dir) / f"{worker_id}.ledger" if ledger_dir else None,
        )
    except SpoolLocked:
        print(f"worker id {worker_id!r} is already running on this machine (its spool is locked)", file=sys.stderr)
        return 2
    # Fail fast on a lost connection: events are spooled, live state is best effort.
    client, embedded = connect(
        args.redis_url or cfg.redis.url, resolve_path(cfg.redis.data_dir), socket_timeout=5.0, retries=1
    )
    bus = EventBus(client, maxlen=cfg.redis.stream_maxlen)
    store = LiveStore(client)
    publisher = SpoolPublisher(client, spool, cfg.redis.stream_maxlen, wait_replicas=cfg.redis.wait_replicas)
    try:
        worker = Worker(
            cfg,
            args.camera,
            bus,
            store,
            publisher=publisher,
            worker_id=worker_id,
            leases=not args.static,
            spool_dir=spool_dir,
        )
    except ConfigError as e:
        print(e, file=sys.stderr)
        spool.close()
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if len(spool):
        log.warning("replaying %d event(s) left in the spool by the previous run", len(spool))
    publisher.start()
    worker.start()
    mode = "static" if args.static else f"sharing {len(worker.cameras)} camera(s) through leases"
    log.info("worker %s running (%s)", worker.worker_id, mode)
    try:
        worker.wait(stop)
    finally:
        log.info("worker %s stopping: draining cameras, flushing the spool, releasing leases", worker.worker_id)
        worker.stop()
        publisher.stop(flush_timeout=0)
        if embedded is not None:
            embedded.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
