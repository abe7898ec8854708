"""Prometheus ``/metrics``, computed from Redis at scrape time (nothing kept in the process).

Every dashboard worker answers the same numbers, so any of them can be scraped:

* cameras: configured, online; per camera online (0/1), fps read and analysed, frames
  skipped/corrupt and reconnects (counters from the worker's heartbeat), age of the last
  frame, the clip ring's bytes/frames and the clips written/failed;
* events: entries per second over the last 10 s and stream length, per stream;
* road segments: occupancy and congestion level (0 free ... 3 jammed, -1 unknown);
* the websocket server(s): clients per channel, messages sent/dropped, and the push
  latency histogram (Redis entry -> sent to the browsers) of alerts and incidents;
* MJPEG viewers of this process;
* ``safecity_redis_up``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bus.keys import LIVE_STATS_PREFIX
from bus.schema import stream_of
from core.clock import now_ms
from core.types import (
    CameraStatus,
    DensityReport,
    ETicket,
    Incident,
    IncidentUpdate,
    LineCrossing,
    PlateRead,
    SegmentDensity,
    TicketUpdate,
    TrafficUpdate,
    Violation,
    WardenAlert,
)
from dashboard.data import CameraView, camera_views, segment_views

if TYPE_CHECKING:
    from config.settings import AppConfig
    from dashboard.context import DashboardContext

log = logging.getLogger("dashboard.metrics")

#: Streams whose rate and length are exported.
EVENT_STREAMS: tuple[str, ...] = (
    stream_of(LineCrossing),
    stream_of(DensityReport),
    stream_of(SegmentDensity),
    stream_of(CameraStatus),
    stream_of(PlateRead),
    stream_of(Violation),
    stream_of(Incident),
    stream_of(IncidentUpdate),
    stream_of(WardenAlert),
    stream_of(ETicket),
    stream_of(TicketUpdate),
    stream_of(TrafficUpdate),
)
RATE_WINDOW_MS = 10_000
RATE_SCAN_CAP = 5_000
LEVEL_CODE = {"free": 0, "moderate": 1, "heavy": 2, "jammed": 3, "unknown": -1}


class SafeCityCollector:
    """A Prometheus collector that reads the live state on each scrape."""

    def __init__(self, ctx: DashboardContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        ctx = self.ctx
        ok = ctx.store.ping()
        yield from _process_metrics(ctx, ok)
        if not ok:
            return
        now = now_ms()
        try:
            statuses = ctx.store.camera_statuses()
            segs = ctx.store.segments()
        except Exception as e:  # noqa: BLE001 - Redis went away mid-scrape
            log.warning("metrics: %s", e)
            return
        cams = camera_views(ctx.cfg, statuses, now)
        yield from _camera_totals(cams)
        yield from _camera_view_metrics(cams)
        yield from _camera_heartbeat_metrics(cams, statuses)
        yield from _segment_metrics(ctx.cfg, segs, now)
        yield from _stream_metrics(ctx, now)
        yield from _live_metrics(ctx)


def _process_metrics(ctx: DashboardContext, redis_up: bool) -> Iterator[Metric]:
    """``safecity_redis_up`` and this process's MJPEG viewers."""
    up = GaugeMetricFamily("safecity_redis_up", "1 when Redis answers")
    up.add_metric([], 1.0 if redis_up else 0.0)
    yield up
    viewers = GaugeMetricFamily("safecity_mjpeg_viewers", "MJPEG viewers on this server process", labels=["camera"])
    for cam_id, n in ctx.frames.viewers().items():
        viewers.add_metric([cam_id], n)
    yield viewers


def _camera_totals(cams: Sequence[CameraView]) -> Iterator[Metric]:
    """Cameras configured and online."""
    configured = GaugeMetricFamily("safecity_cameras_configured", "Enabled cameras in the config")
    configured.add_metric([], sum(1 for c in cams if c.enabled))
    online = GaugeMetricFamily("safecity_cameras_online", "Cameras online with a fresh heartbeat")
    online.add_metric([], sum(1 for c in cams if c.online))
    yield configured
    yield online


def _camera_view_metrics(cams: Sequence[CameraView]) -> Iterator[Metric]:
    """Per camera: online, frame rates and age of the newest frame."""
    cam_up = GaugeMetricFamily("safecity_camera_online", "1 when the camera is online", labels=["camera"])
    fps_in = GaugeMetricFamily("safecity_camera_fps_in", "Frames per second read from the source", labels=["camera"])
    fps_an = GaugeMetricFamily("safecity_camera_fps_analysed", "Frames per second analysed", labels=["camera"])
    age = GaugeMetricFamily("safecity_camera_last_frame_age_seconds", "Age of the newest frame", labels=["camera"])
    for c in cams:
        cam_up.add_metric([c.id], 1.0 if c.online else 0.0)
        fps_in.add_metric([c.id], c.fps_in)
        fps_an.add_metric([c.id], c.fps_analysed)
        if c.last_frame_age_s is not None:
            age.add_metric([c.id], c.last_frame_age_s)
    yield from (cam_up, fps_in, fps_an, age)


def _camera_heartbeat_metrics(cams: Sequence[CameraView], statuses: dict[str, CameraStatus]) -> Iterator[Metric]:
    """Per camera, the counters of the worker's heartbeat; per worker, its spool backlog."""
    skipped = CounterMetricFamily("safecity_camera_frames_skipped", "Frames read but not analysed", labels=["camera"])
    corrupt = CounterMetricFamily("safecity_camera_frames_corrupt", "Frames that failed to decode", labels=["camera"])
    reconnects = CounterMetricFamily("safecity_camera_reconnects", "Times the source was reopened", labels=["camera"])
    # Connection quality and the worker's event spool (reliability, docs/operations.md).
    stalls = CounterMetricFamily(
        "safecity_camera_stalls", "Times the stream went silent and was reopened", labels=["camera"]
    )
    recon_1h = GaugeMetricFamily(
        "safecity_camera_reconnects_last_hour", "Reconnects in the last hour", labels=["camera"]
    )
    det_runs = CounterMetricFamily(
        "safecity_camera_detector_runs",
        "Analysed frames on which the detector ran (the motion gate skips still ones)",
        labels=["camera"],
    )
    det_seconds = CounterMetricFamily(
        "safecity_camera_detector_seconds", "Time spent detecting, motion gate included", labels=["camera"]
    )
    plates = {
        name: CounterMetricFamily(f"safecity_camera_plates_{name}", doc, labels=["camera"])
        for name, doc in (
            ("asked", "Vehicle crops sent to the plate reader"),
            ("read", "Plate reads that found a plate"),
            ("dropped", "Crops not read: the plate reader was behind (its queue full)"),
            ("failed", "Crops the plate reader could not read (unreadable; counted, never fatal)"),
        )
    }
    clips = _clip_families()
    backlog = GaugeMetricFamily(
        "safecity_worker_spool_backlog", "Events waiting in the worker's local spool for Redis", labels=["worker"]
    )
    spool: dict[str, int] = {}
    for c in cams:
        st = statuses.get(c.id)
        if st is not None:
            skipped.add_metric([c.id], st.frames_skipped)
            corrupt.add_metric([c.id], st.frames_corrupt)
            reconnects.add_metric([c.id], st.reconnects)
            stalls.add_metric([c.id], st.stalls)
            recon_1h.add_metric([c.id], st.reconnects_1h)
            det_runs.add_metric([c.id], st.detector_runs)
            det_seconds.add_metric([c.id], st.detector_seconds)
            for name, fam in plates.items():
                fam.add_metric([c.id], getattr(st, f"plates_{name}"))
            for name, clip_fam in clips.items():
                clip_fam.add_metric([c.id], getattr(st, name))
            if st.worker_id:
                spool[st.worker_id] = max(spool.get(st.worker_id, 0), st.spool_backlog)
    for wid, n in sorted(spool.items()):
        backlog.add_metric([wid], n)
    yield from (skipped, corrupt, reconnects, stalls, recon_1h, det_runs, det_seconds, *plates.values())
    yield from (*clips.values(), backlog)


def _clip_families() -> dict[str, GaugeMetricFamily | CounterMetricFamily]:
    """Per camera, the clip ring's memory (gauges) and the clips written / failed (counters), by heartbeat field."""
    return {
        "clip_ring_bytes": GaugeMetricFamily(
            "safecity_camera_clip_ring_bytes",
            "Memory held by the camera's clip ring (compressed frames)",
            labels=["camera"],
        ),
        "clip_ring_frames": GaugeMetricFamily(
            "safecity_camera_clip_ring_frames", "Frames in the camera's clip ring", labels=["camera"]
        ),
        "clips_written": CounterMetricFamily(
            "safecity_camera_clips_written", "Video clips written to the blob store", labels=["camera"]
        ),
        "clips_failed": CounterMetricFamily(
            "safecity_camera_clips_failed",
            "Video clips not written (no frames, encoder or store error)",
            labels=["camera"],
        ),
    }


def _segment_metrics(cfg: AppConfig, segs: dict[str, SegmentDensity], now: int) -> Iterator[Metric]:
    """Per road segment: occupancy and congestion level."""
    occ = GaugeMetricFamily("safecity_segment_occupancy", "Road occupancy 0-1", labels=["segment"])
    lvl = GaugeMetricFamily(
        "safecity_segment_level", "Congestion level: 0 free .. 3 jammed, -1 unknown", labels=["segment"]
    )
    for sv in segment_views(cfg, segs, now):
        lvl.add_metric([sv.id], LEVEL_CODE.get(sv.level, -1))
        if sv.occupancy is not None:
            occ.add_metric([sv.id], sv.occupancy)
    yield occ
    yield lvl


def _stream_metrics(ctx: DashboardContext, now: int) -> Iterator[Metric]:
    """Per event stream: entries per second over the last 10 s and length."""
    rate = GaugeMetricFamily(
        "safecity_events_per_second", "Stream entries per second over the last 10 s", labels=["stream"]
    )
    length = GaugeMetricFamily("safecity_stream_length", "Entries kept in the stream", labels=["stream"])
    try:
        pipe = ctx.store.client.pipeline(transaction=False)
        for s in EVENT_STREAMS:
            pipe.xrange(s, f"{now - RATE_WINDOW_MS}-0", "+", count=RATE_SCAN_CAP)
            pipe.xlen(s)
        res = pipe.execute()
    except Exception as e:  # noqa: BLE001
        log.warning("metrics: streams: %s", e)
        res = []
    for i, s in enumerate(EVENT_STREAMS[: len(res) // 2]):
        rate.add_metric([s], len(res[2 * i]) / (RATE_WINDOW_MS / 1000.0))
        length.add_metric([s], int(res[2 * i + 1]))
    yield rate
    yield length


def _live_metrics(ctx: DashboardContext) -> Iterator[Metric]:
    try:
        stats = ctx.store.json_values(LIVE_STATS_PREFIX)
    except Exception as e:  # noqa: BLE001
        log.warning("metrics: live stats: %s", e)
        stats = []
    servers = GaugeMetricFamily("safecity_live_servers", "Websocket push servers reporting")
    servers.add_metric([], len(stats))
    yield servers
    clients = GaugeMetricFamily("safecity_websocket_clients", "Connected websocket clients", labels=["channel"])
    totals: dict[str, int] = {}
    sent = dropped = 0
    buckets: list[float] = []
    counts: list[int] = []
    lsum = 0.0
    lcount = 0
    for st in stats:
        for ch, n in (st.get("clients") or {}).items():
            totals[ch] = totals.get(ch, 0) + int(n)
        sent += int(st.get("sent", 0))
        dropped += int(st.get("dropped", 0))
        lat = st.get("latency") or {}
        if lat.get("buckets"):
            if not buckets:
                buckets = list(lat["buckets"])
                counts = [0] * (len(buckets) + 1)
            if list(lat["buckets"]) == buckets:
                counts = [a + int(b) for a, b in zip(counts, lat["counts"], strict=False)]
                lsum += float(lat.get("sum", 0.0))
                lcount += int(lat.get("count", 0))
    for ch in ("ops", "warden", "public"):
        clients.add_metric([ch], totals.get(ch, 0))
    yield clients
    sent_c = CounterMetricFamily("safecity_websocket_messages_sent", "Messages sent to websocket clients")
    sent_c.add_metric([], sent)
    yield sent_c
    drop_c = CounterMetricFamily("safecity_websocket_clients_dropped", "Clients dropped for being too slow")
    drop_c.add_metric([], dropped)
    yield drop_c
    hist = HistogramMetricFamily(
        "safecity_alert_push_latency_seconds",
        "Alert/incident latency from the Redis stream entry to the websocket send",
    )
    if buckets:
        cum = 0
        pairs = []
        for b, n in zip(buckets, counts, strict=False):
            cum += n
            pairs.append((repr(float(b)), cum))
        pairs.append(("+Inf", cum + counts[-1]))
        hist.add_metric([], pairs, lsum)
    yield hist


def render(ctx: DashboardContext) -> tuple[bytes, str]:
    """``(body, content type)`` of a scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SafeCityCollector(ctx))  # type: ignore[arg-type]
    return generate_latest(registry), CONTENT_TYPE_LATEST
