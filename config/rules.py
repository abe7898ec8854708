"""What a camera enforces: over-speed, wrong-way, red-light and stopping rules."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from config.base import ConfigModel, PixelPoint


class OverspeedRule(ConfigModel):
    """Over-speed: the smoothed speed stays above limit + tolerance for ``min_duration_s``."""

    limit_kmh: float | None = Field(None, gt=0, le=200, description="None = the segment's speed limit.")
    tolerance_kmh: float = Field(5.0, ge=0, le=50, description="Enforcement margin above the limit.")
    min_duration_s: float = Field(0.5, ge=0, le=10)


class FlowZone(ConfigModel):
    """A zone (e.g. a one-way street or a lane) where traffic may only move along ``flow``."""

    id: str
    polygon: tuple[PixelPoint, ...] = Field(min_length=3)
    flow: tuple[PixelPoint, PixelPoint] = Field(
        description="Two image points: legal travel is from the first to the second."
    )


class WrongWayRule(ConfigModel):
    """Wrong-way driving.

    ``road_axis`` is the road's centre line in the image, from the near end to the far
    end; with ``traffic_side: left`` (Pakistan, the default) vehicles left of it must move
    away from the camera and vehicles right of it toward it (reversed for right-hand
    traffic). ``zones`` add one-way areas with their own legal direction.
    """

    road_axis: tuple[PixelPoint, PixelPoint] | None = None
    zones: tuple[FlowZone, ...] = ()
    min_distance_m: float = Field(6.0, gt=0, le=200, description="Distance driven against the flow before it counts.")
    min_speed_kmh: float = Field(5.0, ge=0, le=100, description="Slower movement (jitter, manoeuvres) is ignored.")

    @model_validator(mode="after")
    def _something(self) -> WrongWayRule:
        if self.road_axis is None and not self.zones:
            raise ValueError("give a road_axis or at least one zone")
        return self


class RedLightRule(ConfigModel):
    """Crossing a stop line in the controlled direction while the signal is red."""

    signal: str = Field(description="Id of a signal in `signals`.")
    stop_line: tuple[PixelPoint, PixelPoint]
    direction: Literal["forward", "backward"] = Field(
        description="Crossing direction the signal controls (forward = from the left of a->b to its right on screen)."
    )
    amber_is_violation: bool = False


class StoppingZone(ConfigModel):
    """A stalled vehicle / no-stopping zone: a vehicle stopped longer than ``max_stop_s``.

    Always raises a ``stalled`` incident for the operator; with ``no_stopping`` it is
    also a violation (an e-ticket).
    """

    id: str
    polygon: tuple[PixelPoint, ...] = Field(min_length=3)
    max_stop_s: float = Field(30.0, gt=0, le=3600)
    no_stopping: bool = True
    stop_speed_kmh: float = Field(3.0, gt=0, le=20, description="Below this a vehicle counts as stopped.")


class CameraRules(ConfigModel):
    """What each camera enforces (all optional; over-speed on by default where calibrated)."""

    overspeed: OverspeedRule | None = OverspeedRule()
    wrong_way: WrongWayRule | None = None
    red_light: tuple[RedLightRule, ...] = ()
    stopping: tuple[StoppingZone, ...] = ()


__all__ = [
    "CameraRules",
    "FlowZone",
    "OverspeedRule",
    "RedLightRule",
    "StoppingZone",
    "WrongWayRule",
]
