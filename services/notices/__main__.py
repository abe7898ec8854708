"""``python -m services.notices``: owner lookup, ticket notices (e-mail, SMS, PDF) and overdue fines.

Runs :meth:`services.notices.service.NoticeService.tick` every ``notices.poll_s`` until SIGINT/SIGTERM
(``--once``: one pass, then exit). Needs the archive database; with a Redis URL (``--redis-url``, the
config's ``redis.url`` or ``$REDIS_URL``; the launcher passes it) its state changes (notified, owner
unknown, overdue) are announced on ``ticket.updated`` for the live feed. With the SQL register
and ``notices.owner_register.seed_demo_minutes`` > 0, an empty ``vehicle_registrations`` table is seeded
in the background with the synthetic cameras' plates (:mod:`sim.registrations`).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

from archive import Archive, archive_url
from bus.redis_client import client_for_url
from bus.streams import EventBus
from config.cli import start_cli
from config.settings import AppConfig, resolve_path
from services.notices.register import build_register
from services.notices.service import NoticeService

log = logging.getLogger("services.notices")


def seed_demo(cfg: AppConfig, archive: Archive) -> int:
    """Seed the SQL register for the synthetic cameras when it is empty; returns rows written."""
    minutes = cfg.notices.owner_register.seed_demo_minutes
    if cfg.notices.owner_register.kind != "sql" or minutes <= 0 or archive.register.count() > 0:
        return 0
    from sim.registrations import demo_registrations  # the simulator only for the demo seed

    n = archive.register.upsert(demo_registrations(cfg, minutes))
    log.info("vehicle register seeded with %d synthetic owners (%g min of each synthetic camera)", n, minutes)
    return n


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m services.notices", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", help="YAML config (default: $SAFECITY_CONFIG or config/default.yaml)")
    ap.add_argument("--archive-url", help="SQLAlchemy URL of the archive (default: config, $ARCHIVE_URL, SQLite)")
    ap.add_argument("--once", action="store_true", help="one pass (owners, due dates, overdue, outbox), then exit")
    ap.add_argument("--no-seed", action="store_true", help="do not seed the demo register")
    ap.add_argument(
        "--redis-url",
        help="Redis for ticket.updated announcements (default: config, then $REDIS_URL; none: not announced)",
    )
    ap.add_argument("--log-level", default="INFO")
    args = ap.parse_args(argv)
    cfg = start_cli(args.config, args.log_level)
    if cfg is None:
        return 2
    url = args.archive_url or archive_url(cfg)
    archive = Archive(url, resolve_path(cfg.archive.evidence_dir))
    register, name = build_register(cfg.notices.owner_register, archive)
    redis_url = args.redis_url or cfg.redis.url or os.environ.get("REDIS_URL")
    bus = (
        EventBus(client_for_url(redis_url, socket_timeout=5.0, retries=0), cfg.redis.stream_maxlen)
        if redis_url
        else None
    )
    if bus is None:
        log.warning("no Redis URL: ticket changes are archived but not announced on ticket.updated")
    svc = NoticeService(cfg, archive, register, name, bus=bus)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if not args.no_seed:
        if args.once:
            seed_demo(cfg, archive)
        else:
            threading.Thread(target=seed_demo, args=(cfg, archive), name="seed-register", daemon=True).start()
    log.info(
        "notices: %s (email %s, sms %s, register %s)",
        url.split("@")[-1],
        cfg.notices.email.mode,
        cfg.notices.sms.mode,
        name,
    )
    try:
        while True:
            try:
                svc.tick()
            except Exception as e:  # noqa: BLE001 - database hiccup: log and try again next pass
                log.warning("notices pass failed: %s: %s; retrying", type(e).__name__, e)
            if args.once or stop.wait(cfg.notices.poll_s):
                break
    finally:
        archive.close()
    log.info("notices stopped: %s", svc.stats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
