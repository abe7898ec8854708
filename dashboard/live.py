"""``python -m dashboard.live``: the websocket push server (default ws://127.0.0.1:8765/ws).

One asyncio process built on the ``websockets`` package. A reader thread tails the Redis
streams (``XREAD BLOCK`` from the newest entry on, through ``bus/``) and hands each entry
to the event loop, which fans it out to the connected browsers:

* ``/ws?channel=ops`` - operators and admins: incidents (SOS included), incident updates,
  warden alerts, tickets, traffic updates, camera health and segment status;
* ``/ws?channel=warden`` - wardens: alerts for their own zones only, updates of those
  incidents, segment status, published traffic updates;
* ``/ws?channel=public`` - anyone: segment status and published traffic updates, nothing
  else (see :mod:`dashboard.feeds`).

Operator and warden channels need the dashboard's login cookie (``sc_session``), checked
against the same SQL session table as the pages; the handshake is refused with 401/403
otherwise, and with 403 when the page's ``Origin`` is another host. Sessions are
re-checked every 30 s and a logged-out client is disconnected (close code 4401).

Alerts and incidents go out as soon as they are read; camera heartbeats and segment
levels are coalesced to one message per ``dashboard.live.coalesce_ms``. Every message
carries ``stream_ms`` (when Redis accepted the entry) and ``sent_ms``, so clients can
measure push latency. Clients whose send buffer passes 4 MiB are dropped (1013).

``GET /healthz`` on the same port answers JSON (clients per channel). Statistics for
the dashboard's ``/metrics`` are written to Redis (``dash:live:stats:<host>:<pid>``)
every 2 s: clients per channel, messages sent/dropped and a histogram of the push
latency (Redis entry -> send).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http
import json
import logging
import os
import signal
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlparse

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from archive.dashboard_db import DashboardDB
from archive.db import archive_url
from bus.embedded import EmbeddedRedis, RedisClient, connect
from bus.keys import live_stats_key
from bus.schema import SchemaError, decode, stream_of
from config.cli import start_cli
from config.settings import AppConfig, resolve_path
from core.clock import now_ms
from core.types import (
    CameraStatus,
    ETicket,
    Incident,
    IncidentUpdate,
    SegmentDensity,
    TicketUpdate,
    TrafficUpdate,
    WardenAlert,
)
from dashboard import feeds
from dashboard.auth import SESSION_COOKIE
from dashboard.data import SEGMENT_STALE_S
from dashboard.users import UserDirectory

log = logging.getLogger("dashboard.live")

#: Streams tailed, in the order they are read.
STREAMS: tuple[str, ...] = (
    stream_of(WardenAlert),
    stream_of(Incident),
    stream_of(IncidentUpdate),
    stream_of(ETicket),
    stream_of(TicketUpdate),
    stream_of(TrafficUpdate),
    stream_of(SegmentDensity),
    stream_of(CameraStatus),
)
#: Streams whose delivery latency (stream id time -> sent) is measured.
LATENCY_STREAMS: frozenset[str] = frozenset({stream_of(WardenAlert), stream_of(Incident)})
#: Latency histogram bucket upper bounds, seconds (Prometheus style, +Inf implied).
LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
STATS_INTERVAL_S = 2.0
SESSION_RECHECK_S = 30.0
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


class StreamTail(threading.Thread):
    """Reads new entries of :data:`STREAMS` with ``XREAD BLOCK`` and passes them on.

    Starts at each stream's newest entry (history is the pages' job), keeps its
    position across Redis outages (retrying with backoff), and skips malformed entries.

    Args:
        client: Redis client (its socket timeout must exceed ``block_ms``).
        on_entry: Called with ``(stream, msg_id, obj)`` in this thread.
        on_skip: Called for each entry that does not decode.
        streams: Streams to follow.
        block_ms: XREAD block time.
    """

    def __init__(
        self,
        client: RedisClient,
        on_entry: Callable[[str, str, object], None],
        on_skip: Callable[[], None],
        streams: Sequence[str] = STREAMS,
        block_ms: int = 1000,
    ) -> None:
        super().__init__(name="stream-tail", daemon=True)
        self.client = client
        self.on_entry = on_entry
        self.on_skip = on_skip
        self.streams = list(streams)
        self.block_ms = block_ms
        self.stop_event = threading.Event()
        self.ids: dict[str, str] | None = None
        self.errors = 0

    def _start_ids(self) -> dict[str, str]:
        pipe = self.client.pipeline(transaction=False)
        for s in self.streams:
            pipe.xrevrange(s, "+", "-", count=1)
        out = {}
        for s, res in zip(self.streams, pipe.execute(), strict=True):
            mid = res[0][0] if res else b"0-0"
            out[s] = mid.decode() if isinstance(mid, bytes) else str(mid)
        return out

    def run(self) -> None:
        backoff = 0.2
        while not self.stop_event.is_set():
            try:
                if self.ids is None:
                    self.ids = self._start_ids()
                ids: dict[Any, Any] = dict(self.ids)
                resp: Any = self.client.xread(ids, count=500, block=self.block_ms)
                backoff = 0.2
            except Exception as e:  # noqa: BLE001 - Redis down or restarting: wait and retry from where we were
                self.errors += 1
                log.warning("reading streams failed (%s); retrying in %.1f s", e, backoff)
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            for stream_raw, entries in resp or []:
                stream = stream_raw.decode() if isinstance(stream_raw, bytes) else str(stream_raw)
                for mid_raw, fields in entries:
                    mid = mid_raw.decode() if isinstance(mid_raw, bytes) else str(mid_raw)
                    self.ids[stream] = mid
                    try:
                        env = decode(fields)
                    except SchemaError:
                        self.on_skip()
                        continue
                    self.on_entry(stream, mid, env.obj)

    def stop(self) -> None:
        self.stop_event.set()


def _origin_ok(origin: str | None, host_header: str | None, allowed: Sequence[str]) -> bool:
    """The page's Origin must be on the websocket's own host (any port) or explicitly allowed."""
    if origin is None:
        return True  # not a browser (bench, curl): the cookie is what protects the channels
    if origin in allowed:
        return True
    o = urlparse(origin)
    host = (host_header or "").rsplit(":", 1)[0].strip("[]")
    return bool(o.hostname) and o.hostname == host


def _cookie_token(headers: Headers) -> str | None:
    raw = "; ".join(headers.get_all("Cookie"))
    if not raw:
        return None
    jar = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # noqa: BLE001 - a malformed cookie header is "no cookie"
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel else None


class LiveServer:
    """The websocket server: hub, stream reader, handshake checks, stats.

    Args:
        cfg: Configuration.
        client: Redis client.
        users: Session lookups (SQL).
        host: Address to listen on.
        port: Port (0 picks a free one; see :attr:`port` after :meth:`start`).
        session_recheck_s: How often logged-in clients' sessions are checked again.
    """

    def __init__(
        self,
        cfg: AppConfig,
        client: RedisClient,
        users: UserDirectory,
        host: str,
        port: int,
        session_recheck_s: float = SESSION_RECHECK_S,
    ) -> None:
        self.cfg = cfg
        self.session_recheck_s = session_recheck_s
        self.client = client
        self.users = users
        self.host = host
        self.port = port
        self.hub = LiveHub(cfg, cfg.dashboard.live.coalesce_ms / 1000.0)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: Server | None = None
        self.tail: StreamTail | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stats_key = live_stats_key(socket.gethostname(), os.getpid())

    # ------------------------------------------------------------------ handshake

    async def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        url = urlparse(request.path)
        if url.path == "/healthz":
            body = json.dumps({"status": "ok", "clients": self.hub.counts()}).encode()
            headers = Headers(
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                    ("Cache-Control", "no-store"),
                ]
            )
            return Response(http.HTTPStatus.OK.value, "OK", headers, body)
        if url.path != "/ws":
            return conn.respond(http.HTTPStatus.NOT_FOUND, "unknown path: use /ws?channel=ops|warden|public\n")
        channel = (parse_qs(url.query).get("channel") or [feeds.PUBLIC])[0]
        if channel not in feeds.CHANNELS:
            return conn.respond(http.HTTPStatus.BAD_REQUEST, "channel must be ops, warden or public\n")
        if not _origin_ok(
            request.headers.get("Origin"), request.headers.get("Host"), self.cfg.dashboard.live.allowed_origins
        ):
            return conn.respond(http.HTTPStatus.FORBIDDEN, "origin not allowed\n")
        roles = feeds.CHANNEL_ROLES[channel]
        token = _cookie_token(request.headers)
        viewer = feeds.Viewer(channel)
        if roles is not None:
            try:
                login = await asyncio.to_thread(self.users.session, token)
            except Exception as e:  # noqa: BLE001 - user database down
                log.warning("session lookup failed: %s", e)
                return conn.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "user database unavailable\n")
            if login is None:
                return conn.respond(http.HTTPStatus.UNAUTHORIZED, "login required\n")
            if login.role not in roles:
                return conn.respond(
                    http.HTTPStatus.FORBIDDEN, f"role {login.role} may not open the {channel} channel\n"
                )
            viewer = feeds.Viewer(channel, login.username, frozenset(login.zones), all_zones=login.role == "admin")
        conn.safecity = (viewer, token)  # type: ignore[attr-defined]
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        viewer, token = getattr(ws, "safecity", (feeds.Viewer(feeds.PUBLIC), None))
        client = Client(ws, viewer, token)
        self.hub.clients.add(client)
        try:
            await ws.send(self.hub.hello(client))
            async for _ in ws:  # clients only listen; anything they send is ignored
                pass
        except Exception:  # noqa: BLE001 - connection closed/reset
            pass
        finally:
            self.hub.clients.discard(client)

    # ------------------------------------------------------------------ background tasks

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.hub.coalesce_s)
            self.hub.flush()

    async def _recheck_sessions(self) -> None:
        while True:
            await asyncio.sleep(self.session_recheck_s)
            for c in [c for c in self.hub.clients if c.viewer.channel != feeds.PUBLIC]:
                try:
                    ok = await asyncio.to_thread(self.users.session, c.token)
                except Exception:  # noqa: BLE001 - database down: keep clients, check again later
                    continue
                if ok is None:
                    await c.ws.close(4401, "session ended")

    async def _stats_loop(self) -> None:
        while True:
            await asyncio.sleep(STATS_INTERVAL_S)
            text = json.dumps(self.hub.stats())
            try:
                await asyncio.to_thread(self._write_stats, text)
            except Exception as e:  # noqa: BLE001 - Redis down: stats resume later
                log.debug("stats not written: %s", e)

    def _write_stats(self, text: str) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self._stats_key, text, px=int(STATS_INTERVAL_S * 5000))
        pipe.execute()

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        loop = self.loop

        def on_entry(stream: str, mid: str, obj: object) -> None:
            loop.call_soon_threadsafe(self.hub.dispatch, stream, mid, obj)

        def on_skip() -> None:
            loop.call_soon_threadsafe(self._count_skip)

        self.server = await serve(
            self._handler,
            self.host,
            self.port,
            process_request=self._process_request,
            ping_interval=20,
            ping_timeout=20,
            max_size=64 * 1024,
            compression=None,  # small JSON messages: deflate costs more CPU than it saves
        )
        self.port = next(iter(self.server.sockets)).getsockname()[1]
        self.tail = StreamTail(self.client, on_entry, on_skip)
        self.tail.start()
        self._tasks = [
            asyncio.create_task(self._flush_loop()),
            asyncio.create_task(self._recheck_sessions()),
            asyncio.create_task(self._stats_loop()),
        ]

    def _count_skip(self) -> None:
        self.hub.skipped_entries += 1

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        if self.tail is not None:
            self.tail.stop()
            await asyncio.to_thread(self.tail.join, self.tail.block_ms / 1000.0 + 2.0)  # before the client closes
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        with contextlib.suppress(Exception):
            self.client.delete(self._stats_key)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m dashboard.live",
        description="Websocket push server for the dashboard pages (default ws://127.0.0.1:8765/ws).",
    )
    ap.add_argument("--config", help="YAML config (default: $SAFECITY_CONFIG or config/default.yaml)")
    ap.add_argument("--host", help="address to listen on (default: dashboard.live.host)")
    ap.add_argument("--port", type=int, help="TCP port (default: dashboard.live.port, 8765)")
    ap.add_argument("--redis-url", help="Redis URL (default: redis.url, $REDIS_URL, else an embedded server)")
    ap.add_argument(
        "--session-recheck-s",
        type=float,
        default=SESSION_RECHECK_S,
        help="re-check logged-in clients' sessions this often",
    )
    ap.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    args = ap.parse_args(argv)
    cfg = start_cli(args.config, args.log_level)
    if cfg is None:
        return 2
    host = args.host or cfg.dashboard.live.host
    port = args.port if args.port is not None else cfg.dashboard.live.port
    url = args.redis_url or cfg.redis.url or os.environ.get("REDIS_URL") or None
    client, embedded = connect(url, resolve_path(cfg.redis.data_dir))
    kwargs = client.connection_pool.connection_kwargs
    kwargs["socket_timeout"] = 10.0  # above the XREAD block time
    kwargs.setdefault("socket_connect_timeout", 2.0)
    db = DashboardDB(archive_url(cfg))
    server = LiveServer(cfg, client, UserDirectory(cfg, db), host, port, max(0.1, args.session_recheck_s))
    return asyncio.run(_serve(server, embedded))


async def _serve(server: LiveServer, embedded: EmbeddedRedis | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
    except OSError as e:
        print(f"cannot listen on {server.host}:{server.port}: {e}", file=sys.stderr)
        return 1
    print(f"live push: ws://{server.host}:{server.port}/ws", file=sys.stderr, flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()
        server.client.close()
        server.users.db.dispose()
        if embedded is not None:
            embedded.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
