"""Pixels -> metres: ground calibration of a camera, and the speed estimator it feeds."""

from __future__ import annotations

from pydantic import Field, model_validator

from config.base import ConfigModel, PixelPoint


class CalibrationConfig(ConfigModel):
    """Pixel -> ground (metres) mapping: 4+ image points and their ground positions."""

    image_points: tuple[PixelPoint, ...] = Field(min_length=4)
    ground_points_m: tuple[PixelPoint, ...] = Field(min_length=4)

    @model_validator(mode="after")
    def _same_length(self) -> CalibrationConfig:
        if len(self.image_points) != len(self.ground_points_m):
            raise ValueError("image_points and ground_points_m must have the same number of points")
        return self


class LaneCalibration(ConfigModel):
    """Speed calibration from one lane: its four painted corners in the image and its size.

    The near/far edges of a lane of known width and length are the four points of a
    homography (the same mapping as :class:`CalibrationConfig`, with the lane's
    near-left corner as the ground origin, ``y`` along the lane).
    """

    near_left: PixelPoint
    near_right: PixelPoint
    far_right: PixelPoint
    far_left: PixelPoint
    width_m: float = Field(3.5, gt=0.5, le=10, description="Lane width, metres.")
    length_m: float = Field(gt=1, le=500, description="Length of the marked stretch, metres.")

    def as_calibration(self) -> CalibrationConfig:
        """The equivalent 4-point calibration."""
        w, ln = self.width_m, self.length_m
        return CalibrationConfig(
            image_points=(self.near_left, self.near_right, self.far_right, self.far_left),
            ground_points_m=((0.0, 0.0), (w, 0.0), (w, ln), (0.0, ln)),
        )


class SpeedConfig(ConfigModel):
    """Per-track speed from the calibration: smoothing window and plausibility bounds."""

    window_s: float = Field(1.5, gt=0.2, le=10, description="Positions from this much recent time are fitted.")
    min_span_s: float = Field(0.6, gt=0, le=10, description="No speed until a track spans this much time.")
    min_samples: int = Field(4, ge=2, le=200, description="No speed from fewer positions than this.")
    max_kmh: float = Field(200.0, gt=10, le=400, description="Faster is implausible: reported as unknown.")
    max_accel_mps2: float = Field(15.0, gt=0, le=100, description="A jump needing more than this restarts the fit.")
    edge_margin_px: float = Field(
        3.0, ge=0, le=100, description="Boxes this close to the image edge are clipped: not used."
    )
    max_m_per_px: float = Field(
        0.5, gt=0, le=100, description="Positions where a pixel spans more road than this are too coarse: not used."
    )


__all__ = [
    "CalibrationConfig",
    "LaneCalibration",
    "SpeedConfig",
]
