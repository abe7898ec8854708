"""The synthetic camera as a frame source: a :class:`~sim.scene.SyntheticScene` read like a camera.

This is what ``kind: synthetic`` cameras open (:func:`ingest.sources.open_source`). It
implements :class:`ingest.base.FrameSource`, the only part of :mod:`ingest` that
:mod:`sim` depends on.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from config.settings import CalibrationConfig, CameraConfig
from config.settings import SyntheticSource as SyntheticConfig
from core.clock import now_ms
from core.types import Frame
from ingest.base import SourceEnded, SourceError
from sim.scene import SyntheticScene
from sim.truth import SceneTruth


class SyntheticSource:
    """A :class:`~ingest.base.FrameSource` that renders a :class:`SyntheticScene`.

    With ``realtime`` it paces frames at ``fps`` like a live camera and timestamps
    frame ``k`` at ``open time + k / fps``; otherwise it renders as fast as it is read.
    It ends (:class:`~ingest.base.SourceEnded`) after ``duration_s`` of scene time.
    Reopening continues the same scene (the world goes on while a camera reconnects).

    Attributes:
        last_truth: Ground truth of the last frame returned by :meth:`read`.
        scene: The scene, once opened.

    The truths of the last ``keep_truth`` frames stay available through :meth:`truth`,
    so a consumer behind a dropping :class:`~ingest.sources.CameraCapture` can still look
    up the truth of the frame it got.
    """

    def __init__(
        self,
        camera_id: str,
        cfg: SyntheticConfig,
        calibration: CalibrationConfig | None = None,
        *,
        wall_ms: Callable[[], int] = now_ms,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        keep_truth: int = 256,
    ) -> None:
        self.camera_id = camera_id
        self.cfg = cfg
        self.calibration = calibration
        self.nominal_fps = float(cfg.fps)
        self.is_live = bool(cfg.realtime)
        self.corrupt = 0
        self.last_truth: SceneTruth | None = None
        self.scene: SyntheticScene | None = None
        self._wall_ms = wall_ms
        self._mono = monotonic
        self._sleep = sleep
        self._t0 = 0.0
        self._limit = None if cfg.duration_s is None else max(1, int(round(cfg.duration_s * cfg.fps)))
        self._truths: deque[SceneTruth] = deque(maxlen=keep_truth)

    @classmethod
    def from_camera(cls, camera: CameraConfig) -> SyntheticSource:
        if not isinstance(camera.source, SyntheticConfig):
            raise TypeError(f"camera {camera.id}: source kind is {camera.source.kind!r}, not 'synthetic'")
        return cls(camera.id, camera.source, camera.calibration)

    def open(self) -> None:
        if self.scene is None:
            try:
                self.scene = SyntheticScene(self.cfg, self.calibration, self._wall_ms())
            except ValueError as e:
                raise SourceError(f"synthetic camera {self.camera_id}: {e}") from e
            self._t0 = self._mono()
        elif self.is_live:
            # Re-align pacing after a reopen so we do not burst to catch up.
            self._t0 = self._mono() - (self.scene.frame_index + 1) / self.nominal_fps

    def read(self) -> Frame:
        if self.scene is None:
            raise SourceError(f"synthetic camera {self.camera_id}: not opened")
        nxt = self.scene.frame_index + 1
        if self._limit is not None and nxt >= self._limit:
            raise SourceEnded(f"synthetic camera {self.camera_id}: {self.cfg.duration_s} s done")
        if self.is_live:
            due = self._t0 + nxt / self.nominal_fps
            wait = due - self._mono()
            if wait > 0:
                self._sleep(wait)
        image, truth = self.scene.step()
        self.last_truth = truth
        self._truths.append(truth)
        # A live camera stamps frames with the wall clock when they are captured; in batch
        # mode the scene clock is the capture clock (so speeds and dwell times stay exact).
        ts = self._wall_ms() if self.is_live else truth.ts_ms
        return Frame(self.camera_id, truth.frame_index, ts, image)

    def truth(self, frame_index: int) -> SceneTruth | None:
        """Truth of a recent frame by index (None when too old or not produced yet). Thread-safe for readers."""
        for t in reversed(tuple(self._truths)):
            if t.frame_index == frame_index:
                return t
        return None

    def close(self) -> None:
        """Nothing to release; the scene is kept so a reopen continues it."""


__all__ = ["SyntheticSource"]
