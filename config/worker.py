"""The ingest worker: heartbeats, frame publishing, reconnects, camera leases and the event spool."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from config.base import ConfigModel


class WorkerConfig(ConfigModel):
    heartbeat_s: float = Field(1.0, gt=0, le=30)
    density_interval_s: float = Field(1.0, gt=0, le=60)
    jpeg_quality: int = Field(70, ge=10, le=100)
    frame_publish_fps: float = Field(5.0, gt=0, le=30, description="Max rate of the latest-frame key per camera.")
    reconnect_initial_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(
        4.0, gt=0, description="Largest reconnect delay: a camera is back at most this long after its stream returns."
    )
    stall_timeout_s: float = Field(
        2.5, gt=0, le=60, description="A live camera without a frame this long is shown offline and reopened."
    )
    lease_ttl_s: float = Field(
        8.0, ge=1, le=120, description="Camera lease lifetime: a dead worker's cameras are taken over after this."
    )
    lease_tick_s: float = Field(
        1.0, gt=0, le=30, description="Lease renewal and rebalancing period (< lease_ttl_s / 2)."
    )
    spool_dir: Path = Field(
        Path("var/spool"), description="Local on-disk event spool (events wait here while Redis is down)."
    )
    spool_max_events: int = Field(
        1_000_000, ge=1000, description="Spool bound; beyond it the oldest events are dropped and counted."
    )
    spool_sync: Literal["off", "normal", "full"] = Field(
        "normal", description="normal: survives a process kill; full: fsync per append, survives power loss."
    )

    @model_validator(mode="after")
    def _lease_timing(self) -> WorkerConfig:
        if self.lease_tick_s * 2 >= self.lease_ttl_s:
            raise ValueError("lease_tick_s must be less than half of lease_ttl_s")
        return self


__all__ = [
    "WorkerConfig",
]
