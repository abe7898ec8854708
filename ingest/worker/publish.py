"""Publishing of one camera's results: events through the spool, density windows, the latest annotated frame."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from bus.publisher import SpoolPublisher
from bus.store import LiveStore
from config.settings import CameraConfig, WorkerConfig
from core.types import DensityReport, Frame, ZoneDensity
from ingest.enforce import CameraEnforcer
from ingest.worker.live import LiveGate
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


class ResultPublishing:
    """Publishing of one camera's results (mixed into :class:`ingest.worker.runner.CameraRunner`).

    Events (crossings, density, violations) are queued in the spool; the density report
    and the latest annotated frame are also kept as live state, best effort.
    """

    camera: CameraConfig
    cfg: WorkerConfig
    store: LiveStore
    pipeline: CameraPipeline
    enforcer: CameraEnforcer | None
    publisher: SpoolPublisher
    publish_errors: int
    _live: LiveGate
    _window: DensityWindow
    _last_density_ts: int | None

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

    def _publish(self, events: Sequence[object]) -> None:
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
