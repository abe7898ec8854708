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

This module is the server and its command line; the parts live next to it:
:mod:`dashboard.live_auth` (channels, origin and login checks of the handshake),
:mod:`dashboard.live_tail` (the Redis fan-in thread) and :mod:`dashboard.live_hub`
(clients and the fan-out). Their names are re-exported here.
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
from collections.abc import Sequence
from urllib.parse import urlparse

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from archive.dashboard_db import DashboardDB
from archive.db import archive_url
from bus.embedded import EmbeddedRedis, RedisClient, connect
from bus.keys import live_stats_key
from config.cli import start_cli
from config.settings import AppConfig, resolve_path
from dashboard import feeds
from dashboard.live_auth import _cookie_token, _origin_ok, admit
from dashboard.live_hub import (
    LATENCY_BUCKETS,
    LATENCY_STREAMS,
    MAX_BUFFER_BYTES,
    SEEN_INCIDENTS,
    Client,
    LatencyHistogram,
    LiveHub,
    entry_ms,
)
from dashboard.live_tail import STREAMS, StreamTail
from dashboard.users import UserDirectory

__all__ = [
    "LATENCY_BUCKETS",
    "LATENCY_STREAMS",
    "MAX_BUFFER_BYTES",
    "SEEN_INCIDENTS",
    "SESSION_RECHECK_S",
    "STATS_INTERVAL_S",
    "STREAMS",
    "Client",
    "LatencyHistogram",
    "LiveHub",
    "LiveServer",
    "StreamTail",
    "_cookie_token",
    "_origin_ok",
    "admit",
    "entry_ms",
    "main",
]

log = logging.getLogger("dashboard.live")

STATS_INTERVAL_S = 2.0
SESSION_RECHECK_S = 30.0


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
        return await admit(conn, request, url.query, self.cfg.dashboard.live.allowed_origins, self.users)

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
