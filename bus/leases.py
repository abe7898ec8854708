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
* **Drain**: ``HSET workers:drain <id> 1`` (``python -m ingest.worker.leases_cli drain <id>``): the
  worker releases all its cameras and takes none until undrained; the others take
  them over within a couple of ticks. Draining workers do not count for the shares.

:class:`LeaseKeeper` runs one worker's side of all this; ``python -m ingest.worker.leases_cli status``
shows who holds what (the command loads the config, so it lives above :mod:`bus`).
"""

from __future__ import annotations

from bus.lease_board import RELEASE as RELEASE
from bus.lease_board import RENEW as RENEW
from bus.lease_board import LeaseBoard, WorkerInfo, default_worker_id, set_drain
from bus.lease_keeper import LeaseKeeper, TickResult, preference, shares

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
