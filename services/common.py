"""Shared plumbing of the services: CLI, signal handling, consumer loop with reclaim, archive, timers."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence

from archive import Archive, archive_url
from bus.embedded import EmbeddedRedis, connect
from bus.lease_board import default_worker_id
from bus.streams import EventBus, Message
from config.cli import start_cli
from config.settings import AppConfig, resolve_path
from storage import open_store

log = logging.getLogger("services")


def service_archive(cfg: AppConfig, args: argparse.Namespace | None, with_store: bool = True) -> tuple[Archive, str]:
    """The archive a service writes to and its URL: ``--archive-url``, else the configuration's.

    Args:
        cfg: The configuration.
        args: The service's parsed command line (None when run in-process).
        with_store: Evidence through the configured store (``storage.backend``), links unsigned;
            False: the archive's default local store.
    """
    url = getattr(args, "archive_url", None) or archive_url(cfg)
    store = open_store(cfg, signer=False) if with_store else None
    return Archive(url, resolve_path(cfg.archive.evidence_dir), store=store), url


def consumer_name(args: argparse.Namespace | None) -> str:
    """The service's name in its consumer group: ``--consumer``, else ``<hostname>-<pid>``."""
    return getattr(args, "consumer", None) or default_worker_id()


class Periodic:
    """Calls ``fn`` when ticked, at most once every ``interval_s`` seconds (monotonic); the first tick calls it."""

    def __init__(self, interval_s: float, fn: Callable[[], object]) -> None:
        self.interval_s = interval_s
        self.fn = fn
        self._last = float("-inf")

    def __call__(self) -> None:
        t = time.monotonic()
        if t - self._last >= self.interval_s:
            self._last = t
            self.fn()


def consume(
    bus: EventBus,
    group: str,
    consumer: str,
    streams: Sequence[str],
    handle: Callable[[list[Message]], None],
    stop: threading.Event,
    tick: Callable[[], None] | None = None,
    block_ms: int = 500,
    reclaim_idle_ms: int = 30_000,
) -> None:
    """Read a consumer group until ``stop``: handle, then ack (inside ``handle``).

    Messages a crashed consumer left unacknowledged are reclaimed (XAUTOCLAIM) every
    few seconds. A Redis outage is logged and retried; unacked messages come back.
    """
    for s in streams:
        bus.ensure_group(s, group, start="0")
    last_reclaim = 0.0
    while not stop.is_set():
        try:
            if time.monotonic() - last_reclaim > 5.0:
                last_reclaim = time.monotonic()
                for s in streams:
                    stale = bus.reclaim(s, group, consumer, min_idle_ms=reclaim_idle_ms)
                    if stale:
                        handle(stale)
            msgs = bus.read_group(group, consumer, list(streams), count=100, block_ms=block_ms)
            if msgs:
                handle(msgs)
            if tick is not None:
                tick()
        except Exception as e:  # noqa: BLE001 - Redis or SQL hiccup: back off; unacked messages are redelivered
            log.warning("%s/%s: %s: %s; retrying", group, consumer, type(e).__name__, e)
            for s in streams:  # a restarted Redis may have lost the group
                try:
                    bus.ensure_group(s, group, start="0")
                except Exception:  # noqa: BLE001
                    break
            stop.wait(1.0)


def service_main(
    argv: Sequence[str] | None,
    prog: str,
    description: str,
    run: Callable[[AppConfig, EventBus, threading.Event, argparse.Namespace], None],
) -> int:
    """Parse the common CLI, connect to Redis, run until SIGINT/SIGTERM."""
    ap = argparse.ArgumentParser(prog=prog, description=description)
    ap.add_argument("--config", help="YAML config (default: $SAFECITY_CONFIG or config/default.yaml)")
    ap.add_argument("--redis-url", help="redis:// URL (default: config, then $REDIS_URL, else embedded)")
    ap.add_argument("--archive-url", help="SQLAlchemy URL of the archive (default: config, $ARCHIVE_URL, SQLite)")
    ap.add_argument("--consumer", default=None, help="consumer name in the group (default: host-pid)")
    ap.add_argument("--log-level", default="INFO")
    args = ap.parse_args(argv)
    cfg = start_cli(args.config, args.log_level)
    if cfg is None:
        return 2
    embedded: EmbeddedRedis | None
    client, embedded = connect(args.redis_url or cfg.redis.url, resolve_path(cfg.redis.data_dir))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        run(cfg, EventBus(client, maxlen=cfg.redis.stream_maxlen), stop, args)
    finally:
        if embedded is not None:
            embedded.stop()
    return 0
