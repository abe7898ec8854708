"""Which worker holds which camera; drain a worker for maintenance.

``python -m ingest.worker.leases_cli status`` prints the registered workers (alive,
draining, their cameras and spool backlog) and each enabled camera's owner as JSON;
``drain WORKER`` makes a worker release all its cameras (the others take them over within
a couple of lease ticks), ``undrain WORKER`` lets it take its share again. The leases
themselves are :mod:`bus.leases`; this command loads the config, so it lives here.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from bus.embedded import RedisClient, connect
from bus.leases import LeaseBoard, set_drain
from config.settings import AppConfig, ConfigError, load_config, resolve_path


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m ingest.worker.leases_cli",
        description="Show which worker holds which camera; drain a worker for maintenance.",
    )
    ap.add_argument("--config", help="YAML config (default: $SAFECITY_CONFIG or config/default.yaml)")
    ap.add_argument("--redis-url", help="Redis URL (default: config, then $REDIS_URL)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("status", help="workers, their cameras, and unowned cameras (JSON)")
    d = sub.add_parser("drain", help="make a worker release all its cameras (others take them over)")
    d.add_argument("worker_id")
    u = sub.add_parser("undrain", help="let a drained worker take its share again")
    u.add_argument("worker_id")
    return ap


def status(board: LeaseBoard, cfg: AppConfig) -> dict[str, Any]:
    """Workers, the owner of each enabled camera, and the cameras nobody holds."""
    owners = board.owners([c.id for c in cfg.cameras if c.enabled])
    return {
        "workers": [
            {"worker_id": w.worker_id, "alive": w.alive, "draining": w.draining, **w.info}
            for w in board.workers(prune=False)
        ],
        "owners": owners,
        "unowned": sorted(c for c, o in owners.items() if o is None),
    }


def _drain(client: RedisClient, board: LeaseBoard, worker_id: str, on: bool) -> None:
    known = {w.worker_id for w in board.workers(prune=False)}
    if worker_id not in known:
        print(
            f"warning: no registered worker {worker_id!r} (known: {', '.join(sorted(known)) or 'none'})",
            file=sys.stderr,
        )
    set_drain(client, worker_id, on)
    print(f"{'drain' if on else 'undrain'}: {worker_id}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    client, embedded = connect(args.redis_url or cfg.redis.url, resolve_path(cfg.redis.data_dir))
    try:
        board = LeaseBoard(client, "cli")
        if args.cmd in ("drain", "undrain"):
            _drain(client, board, args.worker_id, args.cmd == "drain")
        else:
            print(json.dumps(status(board, cfg), indent=2, default=str))
        return 0
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    raise SystemExit(main())
