"""Time series for the charts: occupancy and vehicle counts per road segment over the last hours.

Read from the streams the aggregator and workers already write, without scanning them
whole: for each time bucket one ``XRANGE <bucket start> + COUNT k`` (pipelined) returns
the first few entries of that bucket, so a 6-hour chart at 5-minute buckets costs 72
small reads whatever the event rate.

* occupancy / vehicles in view / level per segment: ``traffic.segment`` samples;
* vehicles counted per bucket per segment: the cumulative line counts of each camera's
  ``traffic.density`` reports, differenced between buckets (a counter that went down -
  a worker restart - counts from zero again) and summed over the segment's cameras.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bus.schema import SchemaError, decode, stream_of
from config.settings import AppConfig
from core.types import DensityReport, SegmentDensity

if TYPE_CHECKING:
    from bus.embedded import RedisClient

SEGMENT_STREAM = stream_of(SegmentDensity)
DENSITY_STREAM = stream_of(DensityReport)


@dataclass(frozen=True, slots=True)
class SegmentSeries:
    """Per-bucket figures of one segment (None where no sample fell in a bucket)."""

    segment_id: str
    bucket_ms: tuple[int, ...]
    occupancy: tuple[float | None, ...]
    vehicles: tuple[float | None, ...]
    counted: tuple[int | None, ...]


@dataclass(frozen=True, slots=True)
class Series:
    """All segments over one time range."""

    start_ms: int
    end_ms: int
    bucket_s: int
    segments: dict[str, SegmentSeries] = field(default_factory=dict)


def buckets(start_ms: int, end_ms: int, bucket_s: int) -> list[int]:
    """Bucket start times from ``start_ms`` (aligned down to ``bucket_s``) to ``end_ms``."""
    step = bucket_s * 1000
    first = start_ms - start_ms % step
    return list(range(first, end_ms + 1, step))


def _first_entries(client: RedisClient, stream: str, starts: Sequence[int], count: int) -> list[list[object]]:
    pipe = client.pipeline(transaction=False)
    for t in starts:
        pipe.xrange(stream, f"{t}-0", "+", count=count)
    out: list[list[object]] = []
    for t, entries in zip(starts, pipe.execute(), strict=True):
        objs = []
        for mid, fields in entries or []:
            mid_s = mid.decode() if isinstance(mid, bytes) else str(mid)
            if int(mid_s.split("-")[0]) >= t + _bucket_width(starts):
                break  # past this bucket: nothing was written in it
            try:
                objs.append(decode(fields).obj)
            except SchemaError:
                continue
        out.append(objs)
    return out


def _bucket_width(starts: Sequence[int]) -> int:
    return (starts[1] - starts[0]) if len(starts) > 1 else 60_000


def counts_delta(prev: Mapping[str, int] | None, cur: Mapping[str, int]) -> int:
    """Vehicles counted between two cumulative count snapshots of one camera."""
    if prev is None:
        return 0
    total = 0
    for k, v in cur.items():
        p = prev.get(k, 0)
        total += v - p if v >= p else v  # restarted worker: its counters began again at 0
    return total


def read_series(cfg: AppConfig, client: RedisClient, start_ms: int, end_ms: int, bucket_s: int) -> Series:
    """Occupancy, vehicles in view and vehicles counted per segment per bucket.

    Args:
        cfg: Configuration (segments and which camera watches which).
        client: Redis client.
        start_ms: Range start, epoch ms.
        end_ms: Range end, epoch ms.
        bucket_s: Bucket width in seconds.
    """
    starts = buckets(start_ms, end_ms, bucket_s)
    n_seg = max(1, len(cfg.segments))
    n_cam = max(1, len(cfg.cameras))
    seg_samples = _first_entries(client, SEGMENT_STREAM, starts, count=3 * n_seg)
    # One more bucket at the end so the last bucket's counts have an end snapshot.
    den_starts = [*starts, starts[-1] + bucket_s * 1000]
    den_samples = _first_entries(client, DENSITY_STREAM, den_starts, count=3 * n_cam)
    seg_of_cam = {c.id: c.segment for c in cfg.cameras}
    # Cumulative counts per camera at each bucket start.
    snaps: list[dict[str, dict[str, int]]] = []
    for objs in den_samples:
        snap: dict[str, dict[str, int]] = {}
        for o in objs:
            if isinstance(o, DensityReport) and o.camera_id not in snap:
                snap[o.camera_id] = dict(o.counts)
        snaps.append(snap)
    if not snaps[-1]:  # the current bucket has no end yet: end it at the newest reports
        newest: Any = client.xrevrange(DENSITY_STREAM, "+", f"{starts[-1]}-0", count=3 * n_cam) or []
        for _mid, fields in newest:
            try:
                o = decode(fields).obj
            except SchemaError:
                continue
            if isinstance(o, DensityReport) and o.camera_id not in snaps[-1]:
                snaps[-1][o.camera_id] = dict(o.counts)
    out: dict[str, SegmentSeries] = {}
    for seg in cfg.segments:
        occ: list[float | None] = []
        veh: list[float | None] = []
        cnt: list[int | None] = []
        for i, objs in enumerate(seg_samples):
            vals = [o for o in objs if isinstance(o, SegmentDensity) and o.segment_id == seg.id]
            occ.append(round(sum(v.occupancy for v in vals) / len(vals), 4) if vals else None)
            veh.append(round(sum(v.vehicles for v in vals) / len(vals), 2) if vals else None)
            total: int | None = None
            for cam_id, seg_id in seg_of_cam.items():
                if seg_id != seg.id:
                    continue
                a, b = snaps[i].get(cam_id), snaps[i + 1].get(cam_id)
                if b is not None and a is not None:
                    total = (total or 0) + counts_delta(a, b)
            cnt.append(total)
        out[seg.id] = SegmentSeries(seg.id, tuple(starts), tuple(occ), tuple(veh), tuple(cnt))
    return Series(start_ms, end_ms, bucket_s, out)


def figure_data(cfg: AppConfig, series: Series, metric: str) -> list[dict[str, Any]]:
    """Plotly traces (one per segment) of ``occupancy`` (percent), ``vehicles`` or ``counted``."""
    from datetime import UTC, datetime

    traces = []
    for seg in cfg.segments:
        s = series.segments.get(seg.id)
        if s is None:
            continue
        xs = [datetime.fromtimestamp(t / 1000, tz=UTC).isoformat() for t in s.bucket_ms]
        if metric == "occupancy":
            ys: list[Any] = [None if v is None else round(100 * v, 1) for v in s.occupancy]
        elif metric == "vehicles":
            ys = list(s.vehicles)
        else:
            ys = list(s.counted)
        traces.append(
            {"x": xs, "y": ys, "name": seg.name, "mode": "lines+markers", "type": "scatter", "connectgaps": False}
        )
    return traces
