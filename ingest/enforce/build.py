"""What one camera's enforcement is built from: signal clocks, ground homography, speed and rule parameters.

The config's pydantic sections are turned into :mod:`core`'s plain parameter types here, at the
worker boundary (core never reads the config).
"""

from __future__ import annotations

from config.rules import CameraRules, RedLightRule, StoppingZone, WrongWayRule
from config.settings import AppConfig, CameraConfig
from core.geometry import Homography
from core.rules import RuleEngine, WatchlistSource, build_rules
from core.rules.params import (
    FlowZoneParams,
    OverspeedParams,
    RedLightParams,
    RuleSet,
    StoppingZoneParams,
    WrongWayParams,
)
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


def _wrong_way(w: WrongWayRule) -> WrongWayParams:
    zones = tuple(FlowZoneParams(z.id, z.polygon, z.flow) for z in w.zones)
    return WrongWayParams(w.road_axis, zones, w.min_distance_m, w.min_speed_kmh)


def _red_light(r: RedLightRule) -> RedLightParams:
    return RedLightParams(r.signal, r.stop_line, r.direction, r.amber_is_violation)


def _stopping(z: StoppingZone) -> StoppingZoneParams:
    return StoppingZoneParams(z.id, z.polygon, z.max_stop_s, z.no_stopping, z.stop_speed_kmh)


def rule_set(rules: CameraRules) -> RuleSet:
    """A camera's ``rules`` section as :mod:`core.rules` parameters."""
    o = rules.overspeed
    return RuleSet(
        overspeed=None if o is None else OverspeedParams(o.limit_kmh, o.tolerance_kmh, o.min_duration_s),
        wrong_way=None if rules.wrong_way is None else _wrong_way(rules.wrong_way),
        red_light=tuple(_red_light(r) for r in rules.red_light),
        stopping=tuple(_stopping(z) for z in rules.stopping),
    )


def rule_engine(
    camera: CameraConfig,
    speed_limit_kmh: float,
    homography: Homography | None,
    signals: SignalBoard | None = None,
    watchlist: WatchlistSource | None = None,
    traffic_side: str = "left",
) -> RuleEngine:
    """The rule engine of a camera, from its config.

    Raises:
        ValueError: a ground rule (wrong-way) without a calibration.
    """
    rules = build_rules(rule_set(camera.rules), speed_limit_kmh, homography, traffic_side)
    return RuleEngine(
        camera.id, camera.segment, camera.location, rules, homography=homography, signals=signals, watchlist=watchlist
    )
