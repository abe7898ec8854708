"""Run a synthetic camera scenario through the real system and compare with its ground truth.

``python -m ingest.simulate --scenario config/scenarios/speeders.yaml [--json]``

A scenario file is YAML::

    name: Speeders on University Road
    description: ...          # shown to control-room trainees
    start: "2026-03-02T08:00:00Z"   # scene clock: frame times are reproducible
    duration_s: 90
    restart_at_s: null        # crash the worker at this scene time and start a new one
    restart_gap_s: 2.0        # frames the camera shows while no worker runs (lost)
    config: {...}             # a complete configuration (config/default.yaml's format)

Every camera of ``config`` must have a synthetic source; its scripted
``rule_breakers`` are the scenario. The run uses the real pieces: the camera runner
of :mod:`ingest.worker` with the vision pipeline, speeds, rules and evidence
(:mod:`ingest.enforce`), a durable event spool, a real Redis (a private embedded one
unless ``--redis-url``), the segment aggregator, and the ticketing and incidents
services writing a real SQL archive (a temporary SQLite file unless ``--archive-url``).

Expectations come from the scene's ground truth, never from what the system produced:
each scripted rule-breaker is checked against its true trajectory (a speeder must really
exceed limit + tolerance in the measurable part of the view, a wrong-way driver must
really drive against the flow, a red-light runner must really cross the stop line on red,
a stalled car must really stand still in a stopping zone long enough), watch-listed
plates must really be in view, and congestion spells are counted from the true
occupancy of the camera's zones run through the same level tracker. The report lists
each expected and produced ticket and incident, matched to the vehicles of the scene,
and ends with one JSON line::

    {"expected_tickets": n, "issued_tickets": m, "duplicate_tickets": d,
     "expected_incidents": i, "raised_incidents": j}

It doubles as a training tool: run it with ``--keep`` and open the archive in the
dashboard (``ARCHIVE_URL=...``) to review the tickets it issued.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from archive import Archive
from bus.embedded import EmbeddedRedis, connect, start_embedded_redis
from bus.publisher import SpoolPublisher
from bus.schema import stream_of
from bus.spool import Spool
from bus.store import LiveStore
from bus.streams import EventBus
from bus.watchlist import RedisWatchlist, load_watchlist_file
from config.settings import AppConfig, CameraConfig, SyntheticSource, resolve_path
from core.anpr import Watchlist, normalize_plate_text
from core.congestion import CongestionTracker
from core.counting import ZoneOccupancy
from core.geometry import box_iou, point_in_polygon, segments_intersect, side_of_line
from core.speed import SpeedEstimator
from core.types import (
    CongestionLevel,
    DensityReport,
    Incident,
    IncidentKind,
    SegmentDensity,
    SignalPhase,
    Track,
    Violation,
)
from ingest.enforce import build_signals, enforcer_factory, homography_of, speed_params
from ingest.source import CameraCapture
from ingest.synthetic import SceneTruth
from ingest.synthetic import SyntheticSource as SyntheticFrameSource
from ingest.worker import CameraRunner
from services import aggregate
from services import incidents as incidents_svc
from services import ticketing as ticketing_svc

log = logging.getLogger("ingest.simulate")

#: Extra margin (km/h) a speeder's true speed must have over limit + tolerance to be expected.
SPEED_MARGIN_KMH = 3.0
#: Seconds of true excess speed needed, on top of the rule's duration and the speed fit's minimum span.
SPEED_EXTRA_S = 0.3


class Scenario(BaseModel):
    """A scenario file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    start: datetime = Field(description="UTC time of the first frame.")
    duration_s: float = Field(gt=0, le=3600)
    restart_at_s: float | None = Field(None, gt=0)
    restart_gap_s: float = Field(2.0, ge=0, le=60)
    config: AppConfig

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)


def load_scenario(path: Path) -> Scenario:
    """Parse and validate a scenario; errors name the file and field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise SystemExit(f"{path}: cannot read scenario: {e}") from None
    try:
        sc = Scenario.model_validate(raw)
    except ValidationError as e:
        lines = [f"{path}: invalid scenario ({e.error_count()} error(s)):"]
        lines += [f"  {'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()]
        raise SystemExit("\n".join(lines)) from None
    for cam in sc.config.cameras:
        if not isinstance(cam.source, SyntheticSource):
            raise SystemExit(f"{path}: camera {cam.id} must have a synthetic source")
    return sc


# --------------------------------------------------------------------------- the camera


class ScenarioSource(SyntheticFrameSource):
    """The synthetic camera of a scenario: fixed clock, records the truth of every frame.

    The scene survives worker restarts (the world goes on while no worker watches).
    """

    def __init__(self, camera: CameraConfig, start_ms: int) -> None:
        assert isinstance(camera.source, SyntheticSource)
        cfg = camera.source.model_copy(update={"realtime": False, "duration_s": None})
        super().__init__(camera.id, cfg, camera.calibration, wall_ms=lambda: start_ms)
        self.truth: dict[int, SceneTruth] = {}
        self.limit_frames: int = 0
        self._lock = threading.Lock()

    def read(self) -> Any:
        from ingest.source import SourceEnded

        if self.scene is not None and self.scene.frame_index + 1 >= self.limit_frames:
            raise SourceEnded(f"{self.camera_id}: scenario frames done")
        frame = super().read()
        with self._lock:
            assert self.last_truth is not None
            self.truth[frame.ts_ms] = self.last_truth
        return frame

    def skip(self, frames: int) -> None:
        """Let the world go on for ``frames`` frames nobody analyses."""
        for _ in range(frames):
            if self.scene is None or self.scene.frame_index + 1 >= self.limit_frames:
                return
            truth = self.scene.advance()
            with self._lock:
                self.truth[truth.ts_ms] = truth


# --------------------------------------------------------------------------- expectations


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
            plate = normalize_plate_text(series[0][1].plate)
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


# --------------------------------------------------------------------------- the run


@dataclass
class RunResult:
    tickets: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    levels: dict[str, list[tuple[int, str]]]
    restarts: int
    seconds: float


class Runner:
    """Runs the scenario: worker(s), aggregator and services on one Redis and one archive."""

    def __init__(
        self,
        sc: Scenario,
        redis_url: str | None,
        archive_url: str | None,
        workdir: Path,
        progress: Callable[[str], None],
    ) -> None:
        self.sc = sc
        self.workdir = workdir
        self.progress = progress
        self.embedded: EmbeddedRedis | None = None
        if redis_url:
            self.client, _ = connect(redis_url, workdir / "redis")
            if self.client.exists(stream_of(Violation), stream_of(Incident), stream_of(DensityReport)):
                raise SystemExit(
                    "the Redis at --redis-url already has scenario streams; use a scratch database (FLUSHDB it first)"
                )
        else:
            self.embedded = start_embedded_redis(workdir / "redis")
            self.client, _ = connect(self.embedded.url, workdir / "redis")
        cfg = sc.config
        self.archive_url = archive_url or f"sqlite:///{workdir / 'archive.db'}"
        self.evidence_dir = workdir / "evidence"
        self.cfg = cfg.model_copy(
            update={
                "archive": cfg.archive.model_copy(update={"url": self.archive_url, "evidence_dir": self.evidence_dir})
            }
        )
        if cfg.watchlist_file is not None:  # as ingest.launch does: first start only
            RedisWatchlist(self.client).seed(resolve_path(cfg.watchlist_file))
        self.bus = EventBus(self.client, maxlen=cfg.redis.stream_maxlen)
        self.store = LiveStore(self.client, notify=False)
        self.sources = {c.id: ScenarioSource(c, sc.start_ms) for c in cfg.cameras if c.enabled}
        fps = {c.id: c.source.fps for c in cfg.cameras if c.enabled}  # type: ignore[union-attr]
        for cid, src in self.sources.items():
            src.limit_frames = int(round(sc.duration_s * fps[cid]))
        self.stop_services = threading.Event()
        self.threads: list[threading.Thread] = []
        self.restarts = 0

    def _service(self, name: str, target: Callable[[], None]) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self.threads.append(t)

    def _start_services(self) -> None:
        cfg = self.cfg
        args = argparse.Namespace(archive_url=self.archive_url, consumer="simulate")
        self._service(
            "aggregator",
            lambda: aggregate.run(cfg, EventBus(self.client), LiveStore(self.client, notify=False), self.stop_services),
        )
        self._service("ticketing", lambda: ticketing_svc.run(cfg, EventBus(self.client), self.stop_services, args))
        self._service("incidents", lambda: incidents_svc.run(cfg, EventBus(self.client), self.stop_services, args))
        # The aggregator's group starts at "$": make sure it exists before any density report.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                groups = {
                    g["name"].decode() if isinstance(g["name"], bytes) else g["name"]
                    for g in self.client.xinfo_groups(stream_of(DensityReport))
                }
            except Exception:  # noqa: BLE001 - stream not created yet
                groups = set()
            if aggregate.GROUP in groups:
                return
            time.sleep(0.05)

    def _workers(self, spool: Path) -> tuple[list[CameraRunner], SpoolPublisher]:
        publisher = SpoolPublisher(self.client, Spool.open(spool), self.bus.maxlen).start()
        make = enforcer_factory(self.cfg, self.client)
        runners = []
        for cam in self.cfg.cameras:
            if not cam.enabled:
                continue
            r = CameraRunner(
                cam,
                self.cfg.worker,
                self.bus,
                self.store,
                "simulate",
                capture=CameraCapture(self.sources[cam.id], buffer=4),
                publisher=publisher,
                enforcer=make(cam),
            )
            r.start()
            runners.append(r)
        return runners, publisher

    def run(self) -> RunResult:
        t0 = time.monotonic()
        self._start_services()
        spool = self.workdir / "worker.spool"
        runners, publisher = self._workers(spool)
        restart_at = self.sc.restart_at_s
        while any(r.alive for r in runners):
            time.sleep(0.2)
            done = min((s.scene.frame_index if s.scene else 0) / s.cfg.fps for s in self.sources.values())
            self.progress(f"scene time {done:5.1f} / {self.sc.duration_s:.0f} s")
            if restart_at is not None and done >= restart_at:
                restart_at = None
                self.progress(
                    f"crashing the worker at {done:.1f} s (no flush), restarting after {self.sc.restart_gap_s:.1f} s of lost frames"
                )
                for r in runners:
                    r.abort()
                publisher.stop(flush_timeout=0)  # whatever is queued stays in the spool file
                for src in self.sources.values():
                    src.skip(int(round(self.sc.restart_gap_s * src.cfg.fps)))
                runners, publisher = self._workers(spool)
                self.restarts += 1
        for r in runners:
            r.stop()
        publisher.stop(flush_timeout=30)
        self._drain()
        self.stop_services.set()
        for t in self.threads:
            t.join(10)
        return self._collect(time.monotonic() - t0)

    def _lag(self, stream: str, group: str) -> int:
        try:
            info = self.client.xinfo_groups(stream)
        except Exception:  # noqa: BLE001
            return 0
        for g in info:
            name = g["name"].decode() if isinstance(g["name"], bytes) else g["name"]
            if name == group:
                return int(g.get("lag") or 0) + int(g.get("pending") or 0)
        return 0

    def _drain(self, timeout_s: float = 120.0) -> None:
        """Wait until the services consumed everything (and the violations the aggregator raised)."""
        deadline = time.monotonic() + timeout_s
        quiet = 0
        while time.monotonic() < deadline and quiet < 3:
            lag = (
                self._lag(stream_of(Violation), ticketing_svc.GROUP)
                + self._lag(stream_of(Incident), incidents_svc.GROUP)
                + self._lag(stream_of(DensityReport), aggregate.GROUP)
            )
            quiet = quiet + 1 if lag == 0 else 0
            time.sleep(0.5)

    def _collect(self, seconds: float) -> RunResult:
        arc = Archive(self.archive_url, self.evidence_dir)
        try:
            rows, _ = arc.list_tickets(limit=100_000, sort="ts")
            tickets = []
            for r in rows:
                d = arc.get_ticket(r.ticket_id)
                assert d is not None
                tickets.append(
                    {
                        "ticket_id": r.ticket_id,
                        "kind": r.kind,
                        "state": r.state,
                        "camera_id": r.camera_id,
                        "ts_ms": r.ts_ms,
                        "plate": r.plate,
                        "speed_kmh": r.speed_kmh,
                        "limit_kmh": d.ticket.limit_kmh,
                        "fine_pkr": r.fine_pkr,
                        "track_id": d.ticket.track_id,
                        "details": dict(d.ticket.details),
                        "box": [float(x) for x in dict(d.ticket.details).get("box", "0,0,0,0").split(",")],
                        "evidence": len(d.evidence),
                        "evidence_ok": all(arc.verify_evidence(e.sha256) for e in d.evidence if e.present),
                    }
                )
            incs, _ = arc.list_incidents(limit=100_000)
            incidents = [
                {
                    "incident_id": i.incident_id,
                    "kind": i.kind,
                    "camera_id": i.camera_id,
                    "segment_id": i.segment_id,
                    "ts_ms": i.ts_ms,
                    "track_id": i.track_id,
                    "summary": i.summary,
                    "box": dict(i.details).get("box"),
                }
                for i in incs
            ]
        finally:
            arc.close()
        levels: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for m in reversed(self.bus.recent(stream_of(SegmentDensity), count=100_000)):
            s = m.envelope.obj
            levels[s.segment_id].append((s.ts_ms, s.level.value))
        return RunResult(tickets, incidents, dict(levels), self.restarts, seconds)

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.embedded is not None:
                self.embedded.stop()


# --------------------------------------------------------------------------- matching and report


def match_vehicle(src: ScenarioSource, ts_ms: int, box: list[float]) -> tuple[int | None, float]:
    truth = src.truth.get(ts_ms)
    if truth is None or len(box) != 4 or box[2] <= 0:
        return None, 0.0
    best = max(truth.vehicles, key=lambda v: box_iou(v.box, tuple(box)), default=None)  # type: ignore[arg-type]
    if best is None:
        return None, 0.0
    iou = box_iou(best.box, tuple(box))  # type: ignore[arg-type]
    return (best.vehicle_id, iou) if iou >= 0.2 else (None, iou)


def true_speed(src: ScenarioSource, vid: int, ts_ms: int, window_s: float) -> float | None:
    """Mean true speed of a vehicle over the window ending at ``ts_ms`` (what a smoothed speed measures)."""
    pts = [
        (ts, v.ground_xy_m)
        for ts, t in src.truth.items()
        if ts_ms - window_s * 1000 <= ts <= ts_ms
        for v in t.vehicles
        if v.vehicle_id == vid
    ]
    if len(pts) < 2:
        return None
    pts.sort()
    (t0, g0), (t1, g1) = pts[0], pts[-1]
    return math.hypot(g1[0] - g0[0], g1[1] - g0[1]) / ((t1 - t0) / 1000) * 3.6


#: Ticket details that are bookkeeping, not what the rule measured.
_BOOKKEEPING = frozenset({"evidence_roles", "box", "track_first_ts_ms"})


def ticket_facts(t: dict[str, Any], start_ms: int) -> str:
    """What the rule measured for a produced ticket: track, times, speed and the rule's details."""
    d: dict[str, str] = t.get("details") or {}
    parts = [f"track {t.get('track_id')}", f"at {(t['ts_ms'] - start_ms) / 1000:.1f} s"]
    if d.get("track_first_ts_ms", "").isdigit():
        parts.append(f"first seen {(int(d['track_first_ts_ms']) - start_ms) / 1000:.1f} s")
    if t.get("speed_kmh") is not None:
        limit = t.get("limit_kmh")
        parts.append(f"{t['speed_kmh']:.1f} km/h" + (f" (limit {limit:.0f})" if limit is not None else ""))
    parts += [f"{k}={v}" for k, v in d.items() if k not in _BOOKKEEPING]
    parts.append("box " + ",".join(f"{c:.0f}" for c in t["box"]))
    return ", ".join(parts)


def report(sc: Scenario, runner: Runner, res: RunResult, exp: Expected, out: Callable[[str], None]) -> dict[str, int]:
    """Print the comparison; returns the summary numbers."""
    out(
        f"Scenario: {sc.name}  ({sc.duration_s:.0f} s of scene time, {res.seconds:.0f} s to run, {res.restarts} worker restart(s))"
    )
    if sc.description:
        out("  " + sc.description.strip().replace("\n", "\n  "))
    out("")
    out("Expected (from the scripted vehicles and the scene's ground truth):")
    for cam, vid, kind in exp.tickets:
        out(f"  ticket    {kind:<10} {cam} vehicle {vid}")
    for where, subject, kind in exp.incidents:
        out(f"  incident  {kind:<10} {where} {subject}")
    for n in exp.notes:
        out(f"  note: {n}")
    out("")
    out("Produced:")
    seen: dict[tuple[str, int | None, str], int] = defaultdict(int)
    facts: dict[tuple[str, int | None, str], list[str]] = defaultdict(list)
    speed_errors = []
    window = {c.id: c.speed.window_s for c in sc.config.cameras}
    for t in res.tickets:
        src = runner.sources.get(t["camera_id"])
        vid, iou = match_vehicle(src, t["ts_ms"], t["box"]) if src else (None, 0.0)
        seen[(t["camera_id"], vid, t["kind"])] += 1
        facts[(t["camera_id"], vid, t["kind"])].append(ticket_facts(t, sc.start_ms))
        extra = ""
        if t["speed_kmh"] is not None and vid is not None and src is not None:
            tv = true_speed(src, vid, t["ts_ms"], window[t["camera_id"]])
            if tv:
                err = (t["speed_kmh"] - tv) / tv
                speed_errors.append(err)
                extra = f" measured {t['speed_kmh']:.1f} km/h, true {tv:.1f} km/h ({100 * err:+.1f}%)"
        ev = "evidence ok" if t["evidence_ok"] else "EVIDENCE HASH MISMATCH"
        out(
            f"  ticket    {t['kind']:<10} {t['camera_id']} vehicle {vid if vid is not None else '?'} at {(t['ts_ms'] - sc.start_ms) / 1000:.1f} s -> {t['ticket_id']} "
            f"[{t['state']}] plate {t['plate'] or '(manual review)'} PKR {t['fine_pkr']}, {t['evidence']} files, {ev}{extra}"
        )
    for i in res.incidents:
        out(
            f"  incident  {i['kind']:<10} {i['camera_id'] or i['segment_id']} at {(i['ts_ms'] - sc.start_ms) / 1000:.1f} s: {i['summary']}"
        )
    for seg, lv in res.levels.items():
        changes = [lv[0]] + [b for a, b in zip(lv, lv[1:], strict=False) if a[1] != b[1]] if lv else []
        path = " -> ".join(f"{level}@{(ts - sc.start_ms) / 1000:.0f}s" for ts, level in changes)
        out(f"  levels    {seg}: {path}")
    if speed_errors:
        e = np.abs(speed_errors)
        out(f"  speed on tickets vs ground truth: mean |error| {100 * e.mean():.1f}%, max {100 * e.max():.1f}%")
    expected_pairs = {(c, v, k) for c, v, k in exp.tickets}
    produced_pairs = {p for p in seen if p[1] is not None}
    duplicates = sum(n - 1 for n in seen.values() if n > 1)
    missing = expected_pairs - produced_pairs
    unexpected = [p for p in seen if p not in expected_pairs]
    for p in sorted(missing, key=str):
        out(f"  MISSING   ticket {p[2]} for {p[0]} vehicle {p[1]}")
    for p in sorted(unexpected, key=str):
        line = f"UNEXPECTED ticket {p[2]} for {p[0]} vehicle {p[1]}: " + "; ".join(facts[p])
        out("  " + line)
        log.warning("%s", line)  # also on stderr with --json: what the rule measured, to debug a flaky run
    summary = {
        "expected_tickets": len(exp.tickets),
        "issued_tickets": len(res.tickets),
        "duplicate_tickets": duplicates,
        "expected_incidents": len(exp.incidents),
        "raised_incidents": len(res.incidents),
    }
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ingest.simulate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", required=True, type=Path, help="scenario YAML (see config/scenarios/)")
    ap.add_argument("--json", action="store_true", help="print only the final JSON line on stdout")
    ap.add_argument("--redis-url", help="a scratch Redis (default: a private embedded redis-server)")
    ap.add_argument("--archive-url", help="SQLAlchemy URL of a scratch archive (default: a temporary SQLite file)")
    ap.add_argument("--restart-at", type=float, help="crash and restart the worker at this scene time (s)")
    ap.add_argument("--keep", type=Path, help="keep the run's files (archive, evidence, Redis data) in this directory")
    ap.add_argument("--log-level", default="WARNING")
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    sc = load_scenario(args.scenario)
    if args.restart_at is not None:
        sc = sc.model_copy(update={"restart_at_s": args.restart_at})

    def progress(msg: str) -> None:
        print(f"\r{msg:<100}", end="", file=sys.stderr, flush=True)

    def out(line: str) -> None:
        if not args.json:
            print(line, flush=True)

    tmp = None
    if args.keep:
        workdir = args.keep
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="safecity-sim-")
        workdir = Path(tmp.name)
    runner = Runner(sc, args.redis_url, args.archive_url, workdir, progress)
    try:
        res = runner.run()
        print(file=sys.stderr)
        exp = expectations(sc, runner.sources)
        summary = report(sc, runner, res, exp, out)
    finally:
        runner.close()
        if tmp is not None:
            tmp.cleanup()
    print(json.dumps(summary, separators=(", ", ": ")), flush=True)
    ok = (
        summary["expected_tickets"] == summary["issued_tickets"]
        and summary["duplicate_tickets"] == 0
        and summary["expected_incidents"] == summary["raised_incidents"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
