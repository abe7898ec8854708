"""Camera ownership across ingest workers: Redis leases, a worker registry, even spreading.

Any number of ``python -m ingest.worker`` processes, on one machine or many, are given
the same camera list and share it through Redis:

* **Lease** per camera: key ``lease:camera:<id>`` = worker id, taken with ``SET NX PX``
  (``ttl_s``), renewed every tick by a Lua compare-and-``PEXPIRE`` (or re-taken when it
  expired and nobody else took it, e.g. after a Redis restart), released by a Lua
  compare-and-``DEL``. A worker that dies stops renewing; its leases expire after
  ``ttl_s`` and the others take the cameras over.
* **Registry**: every worker heartbeats ``workers:alive:<id>`` (``PX ttl_s``) and its
  description in the hash ``workers:info`` (host, pid, cameras, spool backlog ...).
  Live workers are those whose ``alive`` key exists: no clocks are compared, so machines
  may disagree about the time.
* **Even spreading**: with ``n`` cameras and ``k`` live, non-draining workers, the
  workers sorted by id get ``ceil(n/k)`` (the first ``n mod k``) or ``floor(n/k)``
  cameras each. A worker above its share releases its extras (newer workers then take
  them); a worker below it takes free cameras, preferring those that rendezvous hashing
  (highest ``sha1(worker, camera)``) assigns to it, so workers seldom race for the same one.
* **Hand-over safety**: a camera seen free is only taken if it is still free on the next
  tick. After a Redis restart (all leases expired at once) the previous owner, which
  re-takes its cameras on its first tick, keeps them instead of another worker
  grabbing them (two workers never analyse one camera after a Redis restart).
* **Drain**: ``HSET workers:drain <id> 1`` (``python -m bus.leases drain <id>``): the
  worker releases all its cameras and takes none until undrained; the others take
  them over within a couple of ticks. Draining workers do not count for the shares.

:class:`LeaseKeeper` runs one worker's side of all this; ``python -m bus.leases status``
shows who holds what.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from bus.lease_board import RELEASE as RELEASE
from bus.lease_board import RENEW as RENEW
from bus.lease_board import LeaseBoard, WorkerInfo, default_worker_id, set_drain
from bus.lease_keeper import LeaseKeeper, TickResult, preference, shares

# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    from bus.embedded import connect
    from config.settings import ConfigError, load_config, resolve_path

    ap = argparse.ArgumentParser(
        prog="python -m bus.leases",
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
    args = ap.parse_args(argv)
    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    client, embedded = connect(args.redis_url or cfg.redis.url, resolve_path(cfg.redis.data_dir))
    try:
        board = LeaseBoard(client, "cli")
        if args.cmd in ("drain", "undrain"):
            known = {w.worker_id for w in board.workers(prune=False)}
            if args.worker_id not in known:
                print(
                    f"warning: no registered worker {args.worker_id!r} (known: {', '.join(sorted(known)) or 'none'})",
                    file=sys.stderr,
                )
            set_drain(client, args.worker_id, args.cmd == "drain")
            print(f"{args.cmd}: {args.worker_id}", file=sys.stderr)
            return 0
        cams = [c.id for c in cfg.cameras if c.enabled]
        owners = board.owners(cams)
        doc = {
            "workers": [
                {"worker_id": w.worker_id, "alive": w.alive, "draining": w.draining, **w.info}
                for w in board.workers(prune=False)
            ],
            "owners": owners,
            "unowned": sorted(c for c, o in owners.items() if o is None),
        }
        print(json.dumps(doc, indent=2, default=str))
        return 0
    finally:
        if embedded is not None:
            embedded.stop()


__all__ = [
    "LeaseBoard",
    "LeaseKeeper",
    "TickResult",
    "WorkerInfo",
    "default_worker_id",
    "preference",
    "set_drain",
    "shares",
]

if __name__ == "__main__":
    sys.exit(main())
