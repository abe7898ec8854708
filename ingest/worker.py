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
from dataclasses import dataclass, field

import cv2
import numpy as np

from bus.embedded import connect
from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import AppConfig, CameraConfig, ConfigError, WorkerConfig, load_config, resolve_path
from core.types import CameraState, CameraStatus, DensityReport, Frame, LineCrossing, ZoneDensity
from ingest.source import CameraCapture, open_source
from vision.annotate import annotate
from vision.pipeline import CameraPipeline, FrameResult

log = logging.getLogger("ingest.worker")


def now_ms() -> int:
    return int(time.time() * 1000)


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


class CameraRunner:
    """Runs one camera: sampling, pipeline, publishing. One thread."""

    MAX_PENDING = 50_000

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
        )
        self.pipeline = pipeline or CameraPipeline(camera, frame_rate=camera.analysis_fps)
        self.on_result = on_result
        self.frames_analysed = 0
        self.frames_sampled_out = 0
        self.publish_errors = 0
        self.events_dropped = 0
        self._pending: list[LineCrossing | DensityReport] = []
        self._window = DensityWindow()
        self._last_analysed_ts: int | None = None
        self._last_density_ts: int | None = None
        self._last_frame_pub = 0.0
        self._last_heartbeat = 0.0
        self._analysed_rate = Rate()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"cam-{camera.id}", daemon=True)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.capture.start()
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self.capture.stop(timeout)
        self._heartbeat(force=True, state_override=CameraState.OFFLINE, error="worker stopped")

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
                if self._last_analysed_ts is not None and frame.ts_ms - self._last_analysed_ts < period_ms * 0.95:
                    self.frames_sampled_out += 1
                else:
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
        self._publish([rep])
        try:
            self.store.put_density(rep)
        except Exception as e:  # noqa: BLE001 - live state is best effort, the stream has it
            self.publish_errors += 1
            log.warning("camera %s: live density not stored: %s", self.camera.id, e)

    def _publish(self, events: Sequence[LineCrossing | DensityReport]) -> None:
        """Publish events; on failure keep them (bounded) and retry before the next publish.

        An event is never dropped silently: while Redis is unreachable events wait in
        memory, oldest first; past ``MAX_PENDING`` the oldest are dropped *and counted*
        (``events_dropped``) with an error log. (A durable on-disk spool is the
        reliability issue's work.)
        """
        self._pending.extend(events)
        if not self._pending:
            return
        try:
            self.bus.publish_many(self._pending)
            self._pending = []
        except Exception as e:  # noqa: BLE001 - Redis down: keep and retry later
            self.publish_errors += 1
            overflow = len(self._pending) - self.MAX_PENDING
            if overflow > 0:
                self.events_dropped += overflow
                self._pending = self._pending[overflow:]
                log.error("camera %s: %d event(s) dropped, Redis unreachable: %s", self.camera.id, overflow, e)
            else:
                log.warning("camera %s: %d event(s) waiting, publish failed: %s", self.camera.id, len(self._pending), e)

    def _publish_frame(self, frame: Frame, result: FrameResult) -> None:
        image = annotate(frame.image, result, self.camera)
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.cfg.jpeg_quality])
        if not ok:
            return
        try:
            self.store.put_frame(self.camera.id, np.asarray(buf).tobytes(), frame.ts_ms)
        except Exception as e:  # noqa: BLE001
            self.publish_errors += 1
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
        )

    def _heartbeat(
        self, force: bool = False, state_override: CameraState | None = None, error: str | None = None
    ) -> None:
        t = time.monotonic()
        if not force and t - self._last_heartbeat < self.cfg.heartbeat_s:
            return
        self._last_heartbeat = t
        status = self.status(state_override, error)
        try:
            self.store.put_camera_status(status)
            self.bus.publish(status)
        except Exception as e:  # noqa: BLE001 - a heartbeat is periodic; the next one replaces it
            self.publish_errors += 1
            log.warning("camera %s: heartbeat failed: %s", self.camera.id, e)


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Worker:
    """A set of CameraRunners sharing one Redis connection."""

    def __init__(self, cfg: AppConfig, camera_ids: Sequence[str] | None, bus: EventBus, store: LiveStore) -> None:
        cams = [c for c in cfg.cameras if c.enabled and (not camera_ids or c.id in camera_ids)]
        unknown = set(camera_ids or ()) - {c.id for c in cfg.cameras}
        if unknown:
            raise ConfigError(f"unknown camera id(s): {', '.join(sorted(unknown))}")
        self.worker_id = default_worker_id()
        self.runners = [CameraRunner(c, cfg.worker, bus, store, self.worker_id) for c in cams]

    def start(self) -> None:
        for r in self.runners:
            r.start()
            log.info("camera %s started (%s)", r.camera.id, r.camera.source.kind)

    def stop(self) -> None:
        for r in self.runners:
            r.stop()

    def wait(self, stop: threading.Event) -> None:
        """Block until ``stop`` is set or every camera has ended (non-looping files)."""
        while not stop.wait(0.5):
            if self.runners and not any(r.alive for r in self.runners):
                return


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ingest.worker", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", help="YAML config (default: $SAFECITY_CONFIG or config/default.yaml)")
    ap.add_argument("--camera", action="append", help="camera id to run (repeatable); default: all enabled")
    ap.add_argument("--redis-url", help="redis:// URL (default: config, then $REDIS_URL, else embedded)")
    ap.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    client, embedded = connect(args.redis_url or cfg.redis.url, resolve_path(cfg.redis.data_dir))
    bus = EventBus(client, maxlen=cfg.redis.stream_maxlen)
    store = LiveStore(client)
    try:
        worker = Worker(cfg, args.camera, bus, store)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker.start()
    log.info("worker %s running %d camera(s)", worker.worker_id, len(worker.runners))
    try:
        worker.wait(stop)
    finally:
        worker.stop()
        if embedded is not None:
            embedded.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
