"""One camera's runner: the analysis thread sampling frames, running the pipeline and the enforcer."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bus.publisher import SpoolPublisher
from bus.spool import Spool
from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import CameraConfig, WorkerConfig
from core.clock import now_ms
from core.types import CameraState, Frame
from ingest.clips.recorder import ClipRecorder
from ingest.clips.recording import SegmentRecorder
from ingest.enforce import CameraEnforcer
from ingest.sources import CameraCapture, open_source
from ingest.worker.live import CameraHeartbeats, LiveGate, Rate
from ingest.worker.publish import DensityWindow, ResultPublishing
from vision.pipeline import CameraPipeline, FrameResult

log = logging.getLogger("ingest.worker")


class CameraRunner(ResultPublishing, CameraHeartbeats):
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
        clips: ClipRecorder | None = None,
        recording: SegmentRecorder | None = None,
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
        self.clips: ClipRecorder | None = None
        self.recording: SegmentRecorder | None = None
        self.attach_media(clips, recording)
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

    def attach_media(self, clips: ClipRecorder | None, recording: SegmentRecorder | None) -> None:
        """Give the camera its clip ring (violations/incidents get clips) and its recorder (before start)."""
        self.clips = clips  # ring of recent frames + clips of violations/incidents (ingest.clips)
        self.recording = recording  # continuous segments, when the camera records
        if self.enforcer is not None:
            self.enforcer.clip_sink = clips.request if clips is not None else None

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
        if self.clips is not None:
            self.clips.flush()  # requested clips are written with the frames there are
        if self.recording is not None:
            self.recording.flush()  # the current segment is stored
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
        if self.clips is not None:  # the clip writer would otherwise publish into the closed spool
            self.clips.abort(timeout)
        if self.recording is not None:
            self.recording.abort(timeout)

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
            self._media(frame)
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

    def _media(self, frame: Frame | None) -> None:
        """Every captured frame feeds the clip ring and the recording (each thins it to its own fps)."""
        try:
            if self.clips is not None:
                if frame is not None:
                    self.clips.add(frame)
                else:
                    self.clips.tick()
            if self.recording is not None and frame is not None:
                self.recording.add(frame)
        except Exception:  # noqa: BLE001 - video evidence must never stop counting
            log.exception("camera %s: clip ring/recording failed", self.camera.id)

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
