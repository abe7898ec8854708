"""Where a camera's frames come from: a synthetic scene, a video file, a network stream or a webcam."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator

from config.base import ConfigModel


class SyntheticVehicleMix(ConfigModel):
    """Share of each vehicle class in synthetic traffic (normalised at use)."""

    car: float = Field(0.55, ge=0)
    motorcycle: float = Field(0.15, ge=0)
    rickshaw: float = Field(0.1, ge=0)
    van: float = Field(0.07, ge=0)
    bus: float = Field(0.06, ge=0)
    truck: float = Field(0.07, ge=0)


class SyntheticRuleBreaker(ConfigModel):
    """One scripted vehicle that enters at a given time (seconds from start) and breaks a rule,
    or (``kind: normal``) breaks none: e.g. to drive a watch-listed plate past the camera."""

    at_s: float = Field(ge=0, description="Seconds after the source starts when the vehicle enters.")
    kind: Literal["speeder", "wrong_way", "red_light", "stalled", "normal"]
    label: str = "car"
    plate: str | None = Field(None, description="Plate text; random when omitted.")
    speed_kmh: float | None = Field(None, gt=0, le=250)
    lane: int | None = Field(None, ge=0)
    stop_s: float = Field(30.0, gt=0, description="How long a stalled vehicle stays stopped.")


class SyntheticSource(ConfigModel):
    """A rendered road scene with vehicles carrying Pakistani number plates."""

    kind: Literal["synthetic"] = "synthetic"
    seed: int = 0
    width: int = Field(960, ge=160, le=3840)
    height: int = Field(540, ge=120, le=2160)
    fps: float = Field(10.0, gt=0, le=60)
    realtime: bool = Field(
        True, description="Pace frames at fps like a live camera; False renders as fast as possible."
    )
    duration_s: float | None = Field(
        None, gt=0, description="End after this many seconds of scene time; None runs forever."
    )
    lanes_per_direction: int = Field(2, ge=1, le=4)
    lane_width_m: float = Field(3.5, gt=1, le=6)
    road_length_m: float = Field(80.0, gt=10, le=500, description="Length of road visible in the image.")
    vehicles_per_minute: float = Field(30.0, ge=0, le=600, description="Mean arrival rate, both directions together.")
    speed_kmh: float = Field(45.0, gt=0, le=200, description="Mean free-flow speed.")
    speed_jitter: float = Field(0.15, ge=0, le=1, description="Relative spread of vehicle speeds.")
    congestion_period_s: float | None = Field(
        None, gt=0, description="Period of congestion waves (traffic slows and thickens); None = steady."
    )
    vehicle_mix: SyntheticVehicleMix = SyntheticVehicleMix()
    rule_breakers: tuple[SyntheticRuleBreaker, ...] = ()
    noise: float = Field(2.0, ge=0, le=30, description="Std-dev of per-pixel sensor noise (0-255 scale).")


class FileSource(ConfigModel):
    """A video file: looped at native fps as if live, or read once as fast as possible."""

    kind: Literal["file"] = "file"
    path: Path
    loop: bool = True
    realtime: bool = True


class StreamSource(ConfigModel):
    """A network stream OpenCV can open: rtsp://, http(s):// (MJPEG) ..."""

    kind: Literal["rtsp", "http"]
    url: str

    @field_validator("url")
    @classmethod
    def _scheme(cls, v: str) -> str:
        if "://" not in v:
            raise ValueError("must be a URL such as rtsp://host/stream or http://host/video.mjpg")
        return v


class WebcamSource(ConfigModel):
    kind: Literal["webcam"] = "webcam"
    index: int = Field(0, ge=0)


SourceConfig = Annotated[SyntheticSource | FileSource | StreamSource | WebcamSource, Field(discriminator="kind")]

#: What pydantic puts in an error location for a member of the :data:`SourceConfig` union
#: (its class name or ``kind`` tag): not a field the user wrote, so left out of field paths.
SOURCE_TAGS: frozenset[str] = frozenset(
    {"SyntheticSource", "FileSource", "StreamSource", "WebcamSource", "synthetic", "file", "rtsp", "http", "webcam"}
)


__all__ = [
    "SOURCE_TAGS",
    "FileSource",
    "SourceConfig",
    "StreamSource",
    "SyntheticRuleBreaker",
    "SyntheticSource",
    "SyntheticVehicleMix",
    "WebcamSource",
]
