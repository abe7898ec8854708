"""What a scenario should produce, from its scripted vehicles and the scene's ground truth.

Expectations never come from what the system produced: each scripted rule-breaker is
checked against its true trajectory (a speeder must really exceed limit + tolerance in
the measurable part of the view, a wrong-way driver must really drive against the flow,
a red-light runner must really cross the stop line on red, a stalled car must really
stand still in a stopping zone long enough), watch-listed plates must really be in view,
and congestion spells are counted from the true occupancy of the camera's zones run
through the same level tracker.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.scenario.model import Scenario
from bench.scenario.source import ScenarioSource
from bus.watchlist import load_watchlist_file
from config.settings import CameraConfig, resolve_path
from core.anpr import Watchlist, normalise_plate_text
from core.congestion import CongestionTracker
from core.counting import ZoneOccupancy
from core.geometry import point_in_polygon, segments_intersect, side_of_line
from core.speed import SpeedEstimator
from core.types import CongestionLevel, IncidentKind, SignalPhase, Track
from ingest.enforce import build_signals, homography_of, speed_params
from services import aggregate
from sim.truth import SceneTruth

#: Extra margin (km/h) a speeder's true speed must have over limit + tolerance to be expected.
SPEED_MARGIN_KMH = 3.0
#: Seconds of true excess speed needed, on top of the rule's duration and the speed fit's minimum span.
SPEED_EXTRA_S = 0.3


@dataclass
class Expected:
    """What the ground truth says should be reported."""

    tickets: list[tuple[str, int, str]] = field(default_factory=list)  # (camera, vehicle_id, kind)
    incidents: list[tuple[str, str, str]] = field(default_factory=list)  # (camera or segment, subject, kind)
    notes: list[str] = field(default_factory=list)


def _tracks_by_vehicle(truths: dict[int, SceneTruth]) -> dict[int, list[tuple[int, Any]]]:
    out: dict[int, list[tuple[int, Any]]] = defaultdict(list)
    for ts in sorted(truths):
        for v in truths[ts].vehicles:
            out[v.vehicle_id].append((ts, v))
    return out


def expectations(sc: Scenario, sources: dict[str, ScenarioSource]) -> Expected:
    """Expected tickets and incidents from the scenario's scripted vehicles and the scene's truth."""
    exp = Expected()
    cfg = sc.config
    board = build_signals(cfg)
    # Only with read_plates: all is every vehicle's plate read (and matched, fuzzily, against the list).
    read_all = cfg.evidence.read_plates == "all" and cfg.watchlist_file is not None
    watch = Watchlist(load_watchlist_file(resolve_path(cfg.watchlist_file)) if read_all and cfg.watchlist_file else ())
    for cam in cfg.cameras:
        src = sources[cam.id]
        truths = src.truth
        W, H = cam.source.width, cam.source.height  # type: ignore[union-attr]
        by_vehicle = _tracks_by_vehicle(truths)
        seg = cfg.segment(cam.segment)
        h = homography_of(cam)
        est = SpeedEstimator(h, speed_params(cam)) if h is not None else None
        for vid, series in by_vehicle.items():
            rule = series[0][1].rule
            plate = normalise_plate_text(series[0][1].plate)
            visible = [(ts, v) for ts, v in series if v.visible]
            if not visible:
                continue
            if watch.match(plate) is not None and any(
                v.box[3] >= 72 and v.box[1] > 1 and v.box[1] + v.box[3] < H - 1 for _, v in visible
            ):
                exp.incidents.append((cam.id, str(vid), IncidentKind.WATCHLIST.value))
            if rule is None:
                continue
            label = f"{rule} vehicle {vid} ({series[0][1].plate})"
            if rule == "speeder":
                ok = _true_overspeed(cam, seg.speed_limit_kmh, visible, est, W, H)
                if ok:
                    exp.tickets.append((cam.id, vid, IncidentKind.OVERSPEED.value))
                else:
                    exp.notes.append(
                        f"{cam.id}: scripted {label} never clearly exceeded the limit in the measurable view (blocked?)"
                    )
            elif rule == "wrong_way":
                if _true_wrong_way(cam, cfg.traffic_side, visible, est):
                    exp.tickets.append((cam.id, vid, IncidentKind.WRONG_WAY.value))
                    exp.incidents.append((cam.id, str(vid), IncidentKind.WRONG_WAY.value))
                else:
                    exp.notes.append(f"{cam.id}: scripted {label} was not seen driving far enough against the flow")
            elif rule == "red_light":
                if _true_red_light(cam, board, visible):
                    exp.tickets.append((cam.id, vid, IncidentKind.RED_LIGHT.value))
                else:
                    exp.notes.append(f"{cam.id}: scripted {label} did not cross a stop line on red")
            elif rule == "stalled":
                stalled = _true_stalled(cam, visible)
                if stalled is None:
                    exp.notes.append(f"{cam.id}: scripted {label} did not stand still long enough in a stopping zone")
                else:
                    exp.incidents.append((cam.id, str(vid), IncidentKind.STALLED.value))
                    if stalled:
                        exp.tickets.append((cam.id, vid, IncidentKind.STALLED.value))
    for seg_id, n in _true_congestion_spells(sc, sources).items():
        for k in range(n):
            exp.incidents.append((seg_id, f"spell {k + 1}", IncidentKind.CONGESTION.value))
    return exp


def _measurable(v: Any, est: SpeedEstimator | None, W: int, H: int, margin: float = 4.0) -> bool:
    x, y, w, h = v.box
    if x <= margin or y <= margin or x + w >= W - margin or y + h >= H - margin:
        return False
    bx, by = v.bottom_center
    return est is None or est.metres_per_pixel((bx, by)) <= est.p.max_m_per_px


def _true_overspeed(cam: CameraConfig, limit: float, visible: list, est: SpeedEstimator | None, W: int, H: int) -> bool:
    rule = cam.rules.overspeed
    if rule is None or est is None:
        return False
    threshold = (rule.limit_kmh or limit) + rule.tolerance_kmh + SPEED_MARGIN_KMH
    need_ms = int((est.p.min_span_s + rule.min_duration_s + SPEED_EXTRA_S) * 1000)
    run_start = None
    for ts, v in visible:
        if _measurable(v, est, W, H) and v.speed_kmh > threshold:
            run_start = ts if run_start is None else run_start
            if ts - run_start >= need_ms:
                return True
        else:
            run_start = None
    return False


def _true_wrong_way(cam: CameraConfig, side: str, visible: list, est: SpeedEstimator | None) -> bool:
    rule = cam.rules.wrong_way
    if rule is None or rule.road_axis is None or est is None:
        return False
    near, far = rule.road_axis
    g = est.h.to_ground([near, far])
    axis = (g[1] - g[0]) / np.linalg.norm(g[1] - g[0])
    against = 0.0
    prev = None
    for _ts, v in visible:
        s = side_of_line(v.bottom_center, near, far)
        if s == 0 or prev is None:
            prev = v
            continue
        away = (s < 0) == (side == "left")
        legal = axis if away else -axis
        d = np.subtract(v.ground_xy_m, prev.ground_xy_m)
        along = float(d @ legal)
        if along < 0:
            against += -along
        prev = v
    return against >= rule.min_distance_m + 5.0


def _true_red_light(cam: CameraConfig, board: Any, visible: list) -> bool:
    for rl in cam.rules.red_light:
        a, b = rl.stop_line
        for (_t0, v0), (t1, v1) in zip(visible, visible[1:], strict=False):
            p, q = v0.bottom_center, v1.bottom_center
            s0, s1 = side_of_line(p, a, b), side_of_line(q, a, b)
            if s0 == s1 or s0 == 0 or s1 == 0 or not segments_intersect(p, q, a, b):
                continue
            direction = "forward" if s1 > 0 else "backward"
            info = board.at(rl.signal, t1)
            red = info is not None and (
                info.phase is SignalPhase.RED or (rl.amber_is_violation and info.phase is SignalPhase.AMBER)
            )
            if direction == rl.direction and red:
                return True
    return False


def _true_stalled(cam: CameraConfig, visible: list) -> bool | None:
    """True/False (ticketed or not) when it stood still long enough in a zone, else None."""
    for z in cam.rules.stopping:
        since = None
        for ts, v in visible:
            if v.speed_kmh < 0.5 and point_in_polygon(v.bottom_center, z.polygon):
                since = ts if since is None else since
                if ts - since >= (z.max_stop_s + 3.0) * 1000:
                    return z.no_stopping
            else:
                since = None
    return None


def _true_congestion_spells(sc: Scenario, sources: dict[str, ScenarioSource]) -> dict[str, int]:
    """Heavy/jammed spells per segment from the true occupancy of the cameras' zones."""
    out: dict[str, int] = {}
    for seg in sc.config.segments:
        cams = [c for c in sc.config.cameras if c.segment == seg.id and c.zones]
        if not cams:
            continue
        tracker = CongestionTracker(aggregate.thresholds_of(seg), seg.speed_limit_kmh)
        zones = {c.id: [ZoneOccupancy(z.id, z.polygon) for z in c.zones] for c in cams}
        series: dict[int, list[tuple[float, float | None]]] = defaultdict(list)
        for c in cams:
            truths = sources[c.id].truth
            bucket: list[float] = []
            speeds: list[float] = []
            last = None
            for ts in sorted(truths):
                vis = [v for v in truths[ts].vehicles if v.visible]
                tracks = [Track(v.vehicle_id, v.label, 1.0, v.box) for v in vis]
                occ = [zo.measure(tracks).occupancy for zo in zones[c.id]]
                bucket.append(sum(occ) / len(occ))
                speeds += [v.speed_kmh for v in vis]
                if last is None:
                    last = ts
                if ts - last >= sc.config.worker.density_interval_s * 1000:
                    series[ts].append((float(np.mean(bucket)), float(np.mean(speeds)) if speeds else None))
                    bucket, speeds, last = [], [], ts
        spells, in_spell = 0, False
        for ts in sorted(series):
            occs = [o for o, _ in series[ts]]
            sps = [v for _, v in series[ts] if v is not None]
            lvl = tracker.update(float(np.mean(occs)), ts, float(np.mean(sps)) if sps else None)
            if lvl in (CongestionLevel.HEAVY, CongestionLevel.JAMMED) and not in_spell:
                spells, in_spell = spells + 1, True
            elif lvl in (CongestionLevel.FREE, CongestionLevel.MODERATE):
                in_spell = False
        if spells:
            out[seg.id] = spells
    return out
