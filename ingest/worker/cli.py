"""Ingest worker: cameras -> vision pipeline -> Redis.

The command line of ``python -m ingest.worker`` (see :mod:`ingest.worker`): the event
spool, the Redis connection, the :class:`~ingest.worker.process.Worker`, and a graceful
stop on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from bus.embedded import connect
from bus.publisher import SpoolPublisher
from bus.spool import Spool, SpoolLocked, spool_path
from bus.store import LiveStore
from bus.streams import EventBus
from config.cli import start_cli
from config.settings import ConfigError, resolve_path
from ingest.worker.process import Worker, default_worker_id

log = logging.getLogger("ingest.worker")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ingest.worker", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", help="YAML config (default: $SAFECITY_CONFIG or config/default.yaml)")
    ap.add_argument("--camera", action="append", help="camera id to run or share (repeatable); default: all enabled")
    ap.add_argument(
        "--redis-url",
        help="Redis URL (default: config, then $REDIS_URL, else embedded); "
        "redis://, rediss://, redis+sentinel://, redis+cluster://",
    )
    ap.add_argument(
        "--worker-id",
        default=os.environ.get("WORKER_ID"),
        help="stable id (default <host>-<pid>): a restarted worker with the same id resumes its cameras "
        "and its spool at once; must be unique across machines",
    )
    ap.add_argument(
        "--static",
        action="store_true",
        help="run exactly the given cameras, without leases (no coordination with other workers)",
    )
    ap.add_argument("--spool-dir", type=Path, help="event spool directory (default: worker.spool_dir)")
    ap.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    args = ap.parse_args(argv)
    cfg = start_cli(args.config, args.log_level)
    if cfg is None:
        return 2
    worker_id = args.worker_id or default_worker_id()
    spool_dir = resolve_path(args.spool_dir or cfg.worker.spool_dir)
    ledger_dir = os.environ.get("SAFECITY_EVENT_LEDGER")  # audit: ids of every event handed to the spool
    try:
        spool = Spool.open(
            spool_path(spool_dir, worker_id),
            max_events=cfg.worker.spool_max_events,
            sync=cfg.worker.spool_sync,
            ledger=Path(ledger_dir) / f"{worker_id}.ledger" if ledger_dir else None,
        )
    except SpoolLocked:
        print(f"worker id {worker_id!r} is already running on this machine (its spool is locked)", file=sys.stderr)
        return 2
    # Fail fast on a lost connection: events are spooled, live state is best effort.
    client, embedded = connect(
        args.redis_url or cfg.redis.url, resolve_path(cfg.redis.data_dir), socket_timeout=5.0, retries=1
    )
    bus = EventBus(client, maxlen=cfg.redis.stream_maxlen)
    store = LiveStore(client)
    publisher = SpoolPublisher(client, spool, cfg.redis.stream_maxlen, wait_replicas=cfg.redis.wait_replicas)
    try:
        worker = Worker(
            cfg,
            args.camera,
            bus,
            store,
            publisher=publisher,
            worker_id=worker_id,
            leases=not args.static,
            spool_dir=spool_dir,
        )
    except ConfigError as e:
        print(e, file=sys.stderr)
        spool.close()
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if len(spool):
        log.warning("replaying %d event(s) left in the spool by the previous run", len(spool))
    publisher.start()
    worker.start()
    mode = "static" if args.static else f"sharing {len(worker.cameras)} camera(s) through leases"
    log.info("worker %s running (%s)", worker.worker_id, mode)
    try:
        worker.wait(stop)
    finally:
        log.info("worker %s stopping: draining cameras, flushing the spool, releasing leases", worker.worker_id)
        worker.stop()
        publisher.stop(flush_timeout=0)
        if embedded is not None:
            embedded.stop()
    return 0
