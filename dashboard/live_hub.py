"""The fan-out of the websocket push server: connected clients and who gets which message.

:class:`LiveHub` runs on the event loop of :mod:`dashboard.live`. Alerts and incidents
go out as soon as they are dispatched; camera heartbeats and segment levels are kept and
sent coalesced by :meth:`LiveHub.flush`. Every message carries ``stream_ms`` (when Redis
accepted the entry) and ``sent_ms``. Clients whose send buffer passes 4 MiB are dropped
(1013). The push latency of alerts and incidents is kept in a :class:`LatencyHistogram`.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast

from bus.schema import stream_of
from config.settings import AppConfig
from core.clock import now_ms
from core.types import CameraStatus, Incident, SegmentDensity, WardenAlert
from dashboard import feeds
from dashboard.data import SEGMENT_STALE_S

#: Streams whose delivery latency (stream id time -> sent) is measured.
LATENCY_STREAMS: frozenset[str] = frozenset({stream_of(WardenAlert), stream_of(Incident)})
#: Latency histogram bucket upper bounds, seconds (Prometheus style, +Inf implied).
LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
MAX_BUFFER_BYTES = 4 * 1024 * 1024
SEEN_INCIDENTS = 500


def entry_ms(msg_id: str) -> int:
    """Milliseconds part of a Redis stream entry id (when Redis accepted it)."""
    try:
        return int(msg_id.split("-", 1)[0])
    except ValueError:
        return 0


@dataclass
class LatencyHistogram:
    """Cumulative histogram of push latencies (seconds)."""

    buckets: tuple[float, ...] = LATENCY_BUCKETS
    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    total: float = 0.0
    n: int = 0

    def observe(self, seconds: float) -> None:
        self.total += seconds
        self.n += 1
        for i, b in enumerate(self.buckets):
            if seconds <= b:
                self.counts[i] += 1
                return
        self.counts[-1] += 1

    def as_dict(self) -> dict[str, Any]:
        return {"buckets": list(self.buckets), "counts": self.counts, "sum": round(self.total, 6), "count": self.n}


@dataclass(eq=False)
class Client:
    """One connected browser."""

    ws: ServerConnection
    viewer: feeds.Viewer
    token: str | None
    seen_incidents: deque[str] = field(default_factory=lambda: deque(maxlen=SEEN_INCIDENTS))


class LiveHub:
    """Connected clients and the fan-out of stream entries to them (event-loop thread only).

    Args:
        cfg: Configuration.
        coalesce_s: Interval of the batched camera/segment messages.
        clock: Wall clock, epoch ms.
    """

    def __init__(self, cfg: AppConfig, coalesce_s: float, clock: Callable[[], int] = now_ms) -> None:
        self.cfg = cfg
        self.coalesce_s = coalesce_s
        self.clock = clock
        self.clients: set[Client] = set()
        self.segments: dict[str, SegmentDensity] = {}
        self.cameras: dict[str, CameraStatus] = {}
        self._dirty_segments = False
        self._dirty_cameras = False
        self.sent = 0
        self.dropped = 0
        self.skipped_entries = 0
        self.latency = LatencyHistogram()

    # ------------------------------------------------------------------ clients

    def by_channel(self, channel: str) -> list[Client]:
        return [c for c in self.clients if c.viewer.channel == channel]

    def counts(self) -> dict[str, int]:
        return {ch: len(self.by_channel(ch)) for ch in feeds.CHANNELS}

    def hello(self, client: Client) -> str:
        """First message to a new client: who it is and the current segment status (and cameras for ops)."""
        now = self.clock()
        msgs: list[dict[str, Any]] = [
            {
                "type": "hello",
                "channel": client.viewer.channel,
                "user": client.viewer.username,
                "zones": sorted(client.viewer.zones),
            },
        ]
        if self.segments:
            msgs.append(feeds.segments_message(self.cfg, self.segments, now, SEGMENT_STALE_S))
        if client.viewer.channel == feeds.OPS and self.cameras:
            msgs.append(feeds.cameras_message(list(self.cameras.values())))
        return json.dumps({"type": "batch", "messages": msgs, "sent_ms": now}, separators=(",", ":"))

    # ------------------------------------------------------------------ fan-out

    def _send(self, clients: Sequence[Client], msg: dict[str, Any], stream_ms: int) -> None:
        if not clients:
            return
        sent = self.clock()
        text = json.dumps({**msg, "stream_ms": stream_ms, "sent_ms": sent}, separators=(",", ":"))
        live = []
        for c in clients:
            transport = c.ws.transport
            if transport is not None and transport.get_write_buffer_size() > MAX_BUFFER_BYTES:
                self.dropped += 1
                asyncio.ensure_future(c.ws.close(1013, "too slow: send buffer full"))
                continue
            live.append(c.ws)
        broadcast(live, text)
        self.sent += len(live)

    def dispatch(self, stream: str, msg_id: str, obj: object) -> None:
        """Handle one stream entry (called on the event loop)."""
        stream_ms = entry_ms(msg_id)
        if isinstance(obj, SegmentDensity):
            self.segments[obj.segment_id] = obj
            self._dirty_segments = True
            return
        if isinstance(obj, CameraStatus):
            self.cameras[obj.camera_id] = obj
            self._dirty_cameras = True
            return
        msgs = feeds.event_message(stream, obj, self.cfg)
        ops_msg, pub_msg = msgs[feeds.OPS], msgs[feeds.PUBLIC]
        if ops_msg is not None:
            self._send(self.by_channel(feeds.OPS), ops_msg, stream_ms)
        wmsg = msgs[feeds.WARDEN]
        if wmsg is not None:
            wardens = self.by_channel(feeds.WARDEN)
            if isinstance(obj, WardenAlert):
                targets = [c for c in wardens if feeds.alert_for_warden(obj, c.viewer)]
                for c in targets:
                    c.seen_incidents.append(obj.incident_id)
            elif wmsg["type"] == "incident_update":
                iid = wmsg["update"]["incident_id"]
                targets = [c for c in wardens if c.viewer.all_zones or iid in c.seen_incidents]
            else:
                targets = wardens
            self._send(targets, wmsg, stream_ms)
        if pub_msg is not None:
            self._send(self.by_channel(feeds.PUBLIC), pub_msg, stream_ms)
        if stream in LATENCY_STREAMS and stream_ms:
            self.latency.observe(max(0.0, (self.clock() - stream_ms) / 1000.0))

    def flush(self) -> None:
        """Send the coalesced segment and camera messages, if anything changed."""
        now = self.clock()
        if self._dirty_segments:
            self._dirty_segments = False
            msg = feeds.segments_message(self.cfg, self.segments, now, SEGMENT_STALE_S)
            self._send(list(self.clients), msg, max((s.ts_ms for s in self.segments.values()), default=0))
        if self._dirty_cameras:
            self._dirty_cameras = False
            msg = feeds.cameras_message(list(self.cameras.values()))
            self._send(self.by_channel(feeds.OPS), msg, max((s.ts_ms for s in self.cameras.values()), default=0))

    def stats(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "ts_ms": self.clock(),
            "clients": self.counts(),
            "sent": self.sent,
            "dropped": self.dropped,
            "skipped_entries": self.skipped_entries,
            "latency": self.latency.as_dict(),
        }
