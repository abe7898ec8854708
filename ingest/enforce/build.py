"""What one camera's enforcement is built from: signal clocks, ground homography, speed parameters."""

from __future__ import annotations

from config.settings import AppConfig, CameraConfig
from core.geometry import Homography
from core.signals import ScheduledSignal, SignalBoard, StreamSignal
from core.speed import SpeedParams


def build_signals(cfg: AppConfig) -> SignalBoard:
    """Signal clocks of every configured signal."""
    sigs: dict[str, ScheduledSignal | StreamSignal] = {}
    for s in cfg.signals:
        if s.source == "schedule":
            sigs[s.id] = ScheduledSignal([(p.phase, p.duration_s) for p in s.cycle], s.offset_s)
        else:
            sigs[s.id] = StreamSignal(stale_s=s.stale_s)
    return SignalBoard(sigs)


def homography_of(camera: CameraConfig) -> Homography | None:
    cal = camera.ground_calibration()
    return None if cal is None else Homography(cal.image_points, cal.ground_points_m)


def speed_params(camera: CameraConfig) -> SpeedParams:
    s = camera.speed
    return SpeedParams(
        window_s=s.window_s,
        min_span_s=s.min_span_s,
        min_samples=s.min_samples,
        max_kmh=s.max_kmh,
        max_accel_mps2=s.max_accel_mps2,
        edge_margin_px=s.edge_margin_px,
        max_m_per_px=s.max_m_per_px,
    )
