"""Live state of one camera: its status, heartbeats, and the gate that keeps a Redis outage from slowing analysis."""

from __future__ import annotations

import logging
import time

from bus.publisher import SpoolPublisher
from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import CameraConfig, WorkerConfig
from core.clock import now_ms
from core.types import CameraState, CameraStatus
from ingest.sources.capture import CameraCapture
from vision.pipeline import CameraPipeline

log = logging.getLogger("ingest.worker")


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


class CameraHeartbeats:
    """Status and heartbeats of one camera (mixed into :class:`ingest.worker.runner.CameraRunner`).

    A heartbeat goes to the live store and the ``camera.status`` stream every
    ``heartbeat_s``, and at once on a state change; it is best effort and skipped while
    Redis is down (:class:`LiveGate`). ``self.capture`` is the camera's
    :class:`ingest.sources.CameraCapture`.
    """

    camera: CameraConfig
    capture: CameraCapture
    cfg: WorkerConfig
    bus: EventBus
    store: LiveStore
    worker_id: str
    pipeline: CameraPipeline
    publisher: SpoolPublisher
    frames_analysed: int
    frames_sampled_out: int
    publish_errors: int
    _live: LiveGate
    _last_heartbeat: float
    _last_state: CameraState | None
    _analysed_rate: Rate

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
            **self._plate_counts(),
            **self._clip_counts(),
        )

    def _clip_counts(self) -> dict[str, int]:
        rec = getattr(self, "clips", None)
        if rec is None:
            return {}
        st = rec.stats()
        return {
            "clip_ring_bytes": st.ring_bytes,
            "clip_ring_frames": st.ring_frames,
            "clips_written": st.written,
            "clips_failed": st.failed,
        }

    def _plate_counts(self) -> dict[str, int]:
        enf = getattr(self, "enforcer", None)
        if enf is None:
            return {}
        return {
            "plates_asked": enf.plates_asked,
            "plates_read": enf.plates_read,
            "plates_dropped": enf.plates_dropped,
            "plates_failed": enf.plates_failed,
        }

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
