"""The synthetic camera of a scenario: a fixed clock and the truth of every frame it showed."""

from __future__ import annotations

import threading
from typing import Any

from config.settings import CameraConfig, SyntheticSource
from ingest.base import SourceEnded
from sim.source import SyntheticSource as SyntheticFrameSource
from sim.truth import SceneTruth


class ScenarioSource(SyntheticFrameSource):
    """The synthetic camera of a scenario: fixed clock, records the truth of every frame.

    The scene survives worker restarts (the world goes on while no worker watches).
    """

    def __init__(self, camera: CameraConfig, start_ms: int) -> None:
        assert isinstance(camera.source, SyntheticSource)
        cfg = camera.source.model_copy(update={"realtime": False, "duration_s": None})
        super().__init__(camera.id, cfg, camera.calibration, wall_ms=lambda: start_ms)
        self.truth: dict[int, SceneTruth] = {}
        self.limit_frames: int = 0
        self._lock = threading.Lock()

    def read(self) -> Any:
        if self.scene is not None and self.scene.frame_index + 1 >= self.limit_frames:
            raise SourceEnded(f"{self.camera_id}: scenario frames done")
        frame = super().read()
        with self._lock:
            assert self.last_truth is not None
            self.truth[frame.ts_ms] = self.last_truth
        return frame

    def skip(self, frames: int) -> None:
        """Let the world go on for ``frames`` frames nobody analyses."""
        for _ in range(frames):
            if self.scene is None or self.scene.frame_index + 1 >= self.limit_frames:
                return
            truth = self.scene.advance()
            with self._lock:
                self.truth[truth.ts_ms] = truth
