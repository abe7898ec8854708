"""Road segments on the map and the congestion thresholds of each."""

from __future__ import annotations

from pydantic import Field, model_validator

from config.base import ConfigModel, LatLon


class CongestionThresholds(ConfigModel):
    """Occupancy (0-1) at which a segment enters each level; hysteresis applied on the way down."""

    moderate: float = Field(0.15, ge=0, le=1)
    heavy: float = Field(0.3, ge=0, le=1)
    jammed: float = Field(0.5, ge=0, le=1)
    hysteresis: float = Field(0.05, ge=0, le=0.5)
    min_dwell_s: float = Field(10.0, ge=0)
    smooth_s: float = Field(20.0, ge=0, le=600, description="Occupancy and speed are averaged over this window first.")

    @model_validator(mode="after")
    def _ordered(self) -> CongestionThresholds:
        if not (self.moderate < self.heavy < self.jammed):
            raise ValueError("thresholds must rise: moderate < heavy < jammed")
        return self


class SegmentConfig(ConfigModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    name_ur: str | None = Field(None, description="Urdu name for the public page.")
    path: tuple[LatLon, ...] = Field(min_length=2, description="Polyline (lat, lon) along the road.")
    speed_limit_kmh: float = Field(60.0, gt=0, le=200)
    congestion: CongestionThresholds = CongestionThresholds()


__all__ = [
    "CongestionThresholds",
    "SegmentConfig",
]
