"""Segment aggregator: per-camera density -> per-road-segment congestion level.

``python -m services.aggregate`` consumes ``traffic.density`` in the consumer group
``aggregator``, keeps the newest report per camera, and for every road segment
publishes a :class:`core.types.SegmentDensity` (stream ``traffic.segment`` plus the
live ``segments`` state) whenever one of its cameras reports. Levels come from
:class:`core.congestion.CongestionTracker` (hysteresis + dwell). Messages are
acknowledged only after the segment state is written. Cameras silent for
``stale_s`` drop out of their segment; a segment with none left is ``unknown``.
When a segment's level reaches heavy or jammed, a congestion :class:`core.types.Incident`
goes on ``incident.raised`` (one per spell; the incidents service alerts its wardens).

Run exactly one aggregator per deployment (its level state is in memory; a
restarted one re-derives it from the next reports, possibly after a short dwell).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from bus.embedded import connect
from bus.rulestate import RuleStateStore
from bus.schema import stream_of
from bus.store import LiveStore
from bus.streams import EventBus, Message
from config.cli import start_cli
from config.settings import AppConfig, SegmentConfig, resolve_path
from core.congestion import CongestionTracker, LevelThresholds
from core.types import CongestionLevel, DensityReport, Incident, IncidentKind, Priority, SegmentDensity

log = logging.getLogger("services.aggregate")

GROUP = "aggregator"
DENSITY_STREAM = stream_of(DensityReport)


def thresholds_of(seg: SegmentConfig) -> LevelThresholds:
    """The congestion-level thresholds of a segment's config."""
    c = seg.congestion
    return LevelThresholds(
        moderate=c.moderate,
        heavy=c.heavy,
        jammed=c.jammed,
        hysteresis=c.hysteresis,
        min_dwell_s=c.min_dwell_s,
        smooth_s=c.smooth_s,
    )


class SegmentAggregator:
    """Pure-ish state machine: feed density reports, get segment states back."""

    def __init__(self, cfg: AppConfig, stale_s: float = 10.0, episodes: RuleStateStore | None = None) -> None:
        self.cfg = cfg
        self.episodes = episodes
        self._episode_start: dict[str, int] = {}
        self.stale_ms = int(stale_s * 1000)
        self.latest: dict[str, DensityReport] = {}
        self.trackers = {s.id: CongestionTracker(thresholds_of(s), s.speed_limit_kmh) for s in cfg.segments}
        self._cams_of = {s.id: [c.id for c in cfg.cameras if c.segment == s.id and c.enabled] for s in cfg.segments}

    def add(self, rep: DensityReport) -> SegmentDensity | None:
        """Take one camera report; return the updated state of its segment."""
        if rep.segment_id not in self.trackers:
            log.warning("density for unknown segment %r from camera %r ignored", rep.segment_id, rep.camera_id)
            return None
        prev = self.latest.get(rep.camera_id)
        if prev is not None and prev.ts_ms > rep.ts_ms:
            return None  # an older report arriving late (replay) must not roll state back
        self.latest[rep.camera_id] = rep
        return self.segment_state(rep.segment_id, rep.ts_ms)

    def congestion_incident(self, seg: SegmentDensity) -> Incident | None:
        """See :func:`_congestion_incident`."""
        return _congestion_incident(self, seg)

    def segment_state(self, segment_id: str, ts_ms: int) -> SegmentDensity:
        fresh = [
            r
            for cam in self._cams_of[segment_id]
            if (r := self.latest.get(cam)) is not None and ts_ms - r.ts_ms <= self.stale_ms
        ]
        if not fresh:
            return SegmentDensity(segment_id, ts_ms, 0.0, 0.0, CongestionLevel.UNKNOWN, ())
        occupancy = sum(r.occupancy for r in fresh) / len(fresh)
        speeds = [r.mean_speed_kmh for r in fresh if r.mean_speed_kmh is not None]
        mean_speed = sum(speeds) / len(speeds) if speeds else None
        level = self.trackers[segment_id].update(occupancy, ts_ms, mean_speed)
        return SegmentDensity(
            segment_id=segment_id,
            ts_ms=ts_ms,
            vehicles=round(sum(r.vehicles for r in fresh), 2),
            occupancy=round(occupancy, 4),
            level=level,
            cameras=tuple(r.camera_id for r in fresh),
            mean_speed_kmh=round(mean_speed, 1) if mean_speed is not None else None,
        )


HEAVY_LEVELS = (CongestionLevel.HEAVY, CongestionLevel.JAMMED)


def _congestion_incident(agg: SegmentAggregator, seg: SegmentDensity) -> Incident | None:
    """A congestion incident when a segment enters heavy/jammed: one per spell (idempotent id).

    The spell starts when the (debounced) level first reaches heavy or jammed and ends
    when it is back to free or moderate; its start time is kept in Redis when the
    aggregator has an episode store, so a restarted aggregator keeps the same incident.
    """
    sid = seg.segment_id
    if seg.level in (CongestionLevel.FREE, CongestionLevel.MODERATE):
        if agg._episode_start.pop(sid, None) is not None and agg.episodes is not None:
            agg.episodes.clear_episode(sid)
        return None
    if seg.level not in HEAVY_LEVELS or sid in agg._episode_start:
        return None
    start = agg.episodes.episode(sid) if agg.episodes is not None else None
    if start is None:
        start = seg.ts_ms
        if agg.episodes is not None:
            agg.episodes.set_episode(sid, start)
    agg._episode_start[sid] = start
    cfg_seg = agg.cfg.segment(sid)
    mid = cfg_seg.path[len(cfg_seg.path) // 2]
    speed = f", mean speed {seg.mean_speed_kmh:.0f} km/h" if seg.mean_speed_kmh is not None else ""
    return Incident(
        incident_id=hashlib.sha1(f"congestion|{sid}|{start}".encode()).hexdigest(),
        kind=IncidentKind.CONGESTION,
        priority=Priority.HIGH if seg.level is CongestionLevel.JAMMED else Priority.MEDIUM,
        ts_ms=start,
        segment_id=sid,
        location=(float(mid[0]), float(mid[1])),
        summary=f"{cfg_seg.name}: {seg.level.value} traffic (occupancy {seg.occupancy:.0%}{speed})",
        details=(("level", seg.level.value), ("occupancy", f"{seg.occupancy:.3f}"), ("cameras", ",".join(seg.cameras))),
    )


def handle(agg: SegmentAggregator, bus: EventBus, store: LiveStore, messages: Sequence[Message]) -> int:
    """Apply a batch, write segment states (and congestion incidents), then ack. Returns the number applied."""
    out: dict[str, SegmentDensity] = {}
    incidents: list[Incident] = []
    for m in messages:
        obj = m.envelope.obj
        if isinstance(obj, DensityReport):
            seg = agg.add(obj)
            if seg is not None:
                out[seg.segment_id] = seg
                inc = agg.congestion_incident(seg)
                if inc is not None:
                    incidents.append(inc)
    if out or incidents:
        bus.publish_many([*out.values(), *incidents])
        for seg in out.values():
            store.put_segment(seg)
    bus.ack(GROUP, messages)
    return len(messages)


def run(cfg: AppConfig, bus: EventBus, store: LiveStore, stop: threading.Event, consumer: str = "agg-1") -> None:
    """Consume density reports until ``stop``; a Redis hiccup is logged and retried."""
    agg = SegmentAggregator(cfg, episodes=RuleStateStore(bus.client))
    bus.ensure_group(DENSITY_STREAM, GROUP, start="$")
    while not stop.is_set():
        try:
            msgs = bus.read_group(GROUP, consumer, [DENSITY_STREAM], count=200, block_ms=500)
            if msgs:
                handle(agg, bus, store, msgs)
        except Exception as e:  # noqa: BLE001 - Redis hiccup: back off, unacked messages are redelivered
            log.warning("aggregator: %s; retrying", e)
            stop.wait(1.0)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m services.aggregate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config")
    ap.add_argument("--redis-url")
    ap.add_argument("--log-level", default="INFO")
    args = ap.parse_args(argv)
    cfg = start_cli(args.config, args.log_level)
    if cfg is None:
        return 2
    client, embedded = connect(args.redis_url or cfg.redis.url, resolve_path(cfg.redis.data_dir))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        run(cfg, EventBus(client, maxlen=cfg.redis.stream_maxlen), LiveStore(client), stop)
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
