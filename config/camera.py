"""One camera: its source, detector, counting lines and zones, calibration and rules."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from config.base import ConfigModel, LatLon, PixelPoint
from config.calibration import CalibrationConfig, LaneCalibration, SpeedConfig
from config.clips import CameraClips, CameraRecording
from config.detector import DetectorConfig
from config.rules import CameraRules
from config.sources import SourceConfig


class LineConfig(ConfigModel):
    """A counting line in image pixels, from point ``a`` to point ``b``.

    ``forward`` is a crossing from the left of a->b to its right (image coordinates,
    y down); ``forward_name``/``backward_name`` label the directions for people.
    """

    id: str
    a: PixelPoint
    b: PixelPoint
    forward_name: str = "forward"
    backward_name: str = "backward"


class ZoneConfig(ConfigModel):
    """A polygon in image pixels over which occupancy is measured."""

    id: str
    polygon: tuple[PixelPoint, ...] = Field(min_length=3)


class CameraConfig(ConfigModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    location: LatLon = Field(description="(lat, lon) of the camera.")
    segment: str = Field(description="Id of the road segment this camera watches.")
    source: SourceConfig
    analysis_fps: float = Field(5.0, gt=0, le=60)
    detector: DetectorConfig = DetectorConfig()
    lines: tuple[LineConfig, ...] = ()
    zones: tuple[ZoneConfig, ...] = ()
    calibration: CalibrationConfig | None = None
    enabled: bool = True
    lane_calibration: LaneCalibration | None = Field(
        None, description="Alternative to `calibration`: one lane's corners and its width/length."
    )
    speed: SpeedConfig = SpeedConfig()
    rules: CameraRules = CameraRules()
    clips: CameraClips | None = Field(None, description="Overrides of the global `clips:` settings for this camera.")
    recording: CameraRecording | None = Field(
        None, description="Overrides of the global `recording:` settings (e.g. `{enabled: true}`)."
    )

    @model_validator(mode="after")
    def _ground_rules_need_calibration(self) -> CameraConfig:
        if self.rules.wrong_way is not None and self.calibration is None and self.lane_calibration is None:
            raise ValueError("rules.wrong_way needs a calibration (calibration or lane_calibration)")
        return self

    def ground_calibration(self) -> CalibrationConfig | None:
        """Pixel -> metres calibration: ``calibration``, else ``lane_calibration``, else None."""
        if self.calibration is not None:
            return self.calibration
        return self.lane_calibration.as_calibration() if self.lane_calibration is not None else None

    @field_validator("location")
    @classmethod
    def _latlon(cls, v: LatLon) -> LatLon:
        lat, lon = v
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError("must be (lat, lon) in degrees")
        return v


__all__ = [
    "CameraConfig",
    "LineConfig",
    "ZoneConfig",
]
