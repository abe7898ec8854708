"""Video evidence: pre/post clips of violations and incidents, and optional continuous recording.

Both have global defaults (``clips:``, ``recording:`` at the top level) that a camera overrides key by key
(``cameras[i].clips: {post_s: 6}``); :meth:`ClipsConfig.merged` / :meth:`RecordingConfig.merged` give a
camera's effective settings.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from config.base import ConfigModel


class ClipsConfig(ConfigModel):
    """Clips around violations and incidents (H.264 MP4 that browsers play)."""

    enabled: bool = Field(True, description="Keep a ring of recent frames and write a clip per violation/incident.")
    pre_s: float = Field(4.0, ge=0, le=30, description="Seconds before the moment.")
    post_s: float = Field(4.0, ge=0.5, le=30, description="Seconds after the moment.")
    fps: float = Field(10.0, gt=0, le=30, description="Frames per second kept in the ring and in the clip.")
    max_width: int = Field(960, ge=160, le=3840, description="Frames wider than this are scaled down first.")
    jpeg_quality: int = Field(80, ge=40, le=100, description="Ring frames are held JPEG-compressed at this quality.")
    crf: int = Field(26, ge=15, le=40, description="H.264 quality (lower = better, bigger).")
    max_ring_mb: float = Field(64, gt=0, le=4096, description="Memory cap of one camera's ring (oldest dropped).")
    incidents: bool = Field(True, description="Also clip incidents (not only violations).")

    def merged(self, override: ClipsConfig | CameraClips | None) -> ClipsConfig:
        return _merge(self, override)


class CameraClips(ConfigModel):
    """A camera's overrides of the global ``clips:`` settings (unset keys keep the global value)."""

    enabled: bool | None = None
    pre_s: float | None = Field(None, ge=0, le=30)
    post_s: float | None = Field(None, ge=0.5, le=30)
    fps: float | None = Field(None, gt=0, le=30)
    max_width: int | None = Field(None, ge=160, le=3840)
    jpeg_quality: int | None = Field(None, ge=40, le=100)
    crf: int | None = Field(None, ge=15, le=40)
    max_ring_mb: float | None = Field(None, gt=0, le=4096)
    incidents: bool | None = None


class RecordingConfig(ConfigModel):
    """Continuous recording in fixed-length MP4 segments, through the blob store, with a retention."""

    enabled: bool = Field(False, description="Record this camera continuously.")
    segment_s: float = Field(60.0, ge=5, le=600, description="Length of one segment file.")
    fps: float = Field(5.0, gt=0, le=30)
    max_width: int = Field(960, ge=160, le=3840)
    crf: int = Field(28, ge=15, le=40)
    retention_days: float = Field(7.0, ge=0, le=3650, description="Delete segments older than this; 0 = no age limit.")
    retention_gb: float = Field(0.0, ge=0, description="Keep all cameras' segments under this total; 0 = no cap.")

    @model_validator(mode="after")
    def _some_retention(self) -> RecordingConfig:
        if self.enabled and self.retention_days == 0 and self.retention_gb == 0:
            raise ValueError("recording needs retention_days or retention_gb (else the disk fills up)")
        return self

    def merged(self, override: RecordingConfig | CameraRecording | None) -> RecordingConfig:
        return _merge(self, override)


class CameraRecording(ConfigModel):
    """A camera's overrides of the global ``recording:`` settings."""

    enabled: bool | None = None
    segment_s: float | None = Field(None, ge=5, le=600)
    fps: float | None = Field(None, gt=0, le=30)
    max_width: int | None = Field(None, ge=160, le=3840)
    crf: int | None = Field(None, ge=15, le=40)


def _merge(base: Any, override: ConfigModel | None) -> Any:
    if override is None:
        return base
    changes = {k: v for k, v in override.model_dump().items() if v is not None}
    return type(base).model_validate({**base.model_dump(), **changes})


__all__ = ["CameraClips", "CameraRecording", "ClipsConfig", "RecordingConfig"]
