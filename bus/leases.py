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
import hashlib
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from bus.keys import WORKERS_DRAIN_KEY, WORKERS_INFO_KEY, lease_key, worker_alive_key
from core.clock import now_ms

log = logging.getLogger(__name__)

#: KEYS[1] lease; ARGV[1] worker id, ARGV[2] ttl ms. 1 = renewed, 2 = re-taken (had expired), 0 = someone else's.
RENEW = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
elseif not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
"""

#: KEYS[1] lease; ARGV[1] worker id. 1 = released, 0 = not ours.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _s(v: bytes | str | None) -> str | None:
    if v is None:
        return None
    return v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v)


def default_worker_id() -> str:
    """``<hostname>-<pid>``: unique per process across machines."""
    return f"{socket.gethostname()}-{os.getpid()}"


def shares(n_cameras: int, workers: Sequence[str]) -> dict[str, int]:
    """How many cameras each worker should hold: as even as possible, deterministic.

    The first ``n mod k`` workers (sorted by id) get one more than the others.
    """
    ws = sorted(set(workers))
    if not ws:
        return {}
    base, extra = divmod(max(0, n_cameras), len(ws))
    return {w: base + (1 if i < extra else 0) for i, w in enumerate(ws)}


def preference(worker_id: str, cameras: Sequence[str]) -> list[str]:
    """Cameras in this worker's order of preference (rendezvous / highest-random-weight hashing)."""
    return sorted(cameras, key=lambda c: hashlib.sha1(f"{worker_id}\x1f{c}".encode()).digest(), reverse=True)


# --------------------------------------------------------------------------- Redis side


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """A registered worker as others see it.

    Attributes:
        worker_id: Its id.
        alive: Its heartbeat key exists.
        draining: Its drain flag is set.
        info: What it last reported (host, pid, cameras, backlog ...).
    """

    worker_id: str
    alive: bool
    draining: bool
    info: dict[str, Any] = field(default_factory=dict)


class LeaseBoard:
    """Lease and registry operations of one worker (no state of its own beyond ids).

    Args:
        client: Redis client.
        worker_id: This worker's id.
        ttl_s: Lease and heartbeat lifetime; a dead worker's cameras are free after this.
    """

    def __init__(self, client: redis.Redis, worker_id: str, ttl_s: float = 8.0) -> None:
        if ttl_s <= 0:
            raise ValueError("ttl_s must be > 0")
        self.client = client
        self.worker_id = worker_id
        self.ttl_ms = int(ttl_s * 1000)
        self._renew = client.register_script(RENEW)
        self._release = client.register_script(RELEASE)

    # leases
    def acquire(self, camera_id: str) -> bool:
        """Take a free camera (``SET NX PX``); False when someone holds it."""
        return bool(self.client.set(lease_key(camera_id), self.worker_id, nx=True, px=self.ttl_ms))

    def renew(self, camera_id: str) -> bool:
        """Extend our lease (re-taking it when it expired and is free); False when another worker holds it."""
        return int(self._renew(keys=[lease_key(camera_id)], args=[self.worker_id, self.ttl_ms])) > 0

    def release(self, camera_id: str) -> bool:
        """Give a camera up (only if we hold it)."""
        return int(self._release(keys=[lease_key(camera_id)], args=[self.worker_id])) > 0

    def owners(self, cameras: Sequence[str]) -> dict[str, str | None]:
        """Current holder of each camera (None = free). One round trip (pipelined GETs)."""
        pipe = self.client.pipeline(transaction=False)
        for c in cameras:
            pipe.get(lease_key(c))
        return {c: _s(v) for c, v in zip(cameras, pipe.execute(), strict=True)}

    # registry
    def heartbeat(self, info: Mapping[str, Any]) -> None:
        """Announce this worker alive for ``ttl_s`` with its description."""
        doc = json.dumps({**info, "worker_id": self.worker_id}, separators=(",", ":"), default=str)
        pipe = self.client.pipeline(transaction=False)
        pipe.set(worker_alive_key(self.worker_id), "1", px=self.ttl_ms)
        pipe.hset(WORKERS_INFO_KEY, self.worker_id, doc)
        pipe.execute()

    def deregister(self) -> None:
        """Leave the registry (clean shutdown); clears our drain flag."""
        pipe = self.client.pipeline(transaction=False)
        pipe.delete(worker_alive_key(self.worker_id))
        pipe.hdel(WORKERS_INFO_KEY, self.worker_id)
        pipe.hdel(WORKERS_DRAIN_KEY, self.worker_id)
        pipe.execute()

    def draining(self) -> bool:
        return bool(self.client.hexists(WORKERS_DRAIN_KEY, self.worker_id))

    def workers(self, prune: bool = True) -> list[WorkerInfo]:
        """Every registered worker; dead ones are removed from the registry when ``prune``."""
        raw: Any = self.client.hgetall(WORKERS_INFO_KEY)
        ids = sorted(_s(k) or "" for k in raw)
        drains = {_s(k) for k in (self.client.hkeys(WORKERS_DRAIN_KEY) or [])}  # type: ignore[union-attr]
        pipe = self.client.pipeline(transaction=False)
        for w in ids:
            pipe.exists(worker_alive_key(w))
        alive = [bool(x) for x in pipe.execute()] if ids else []
        out = []
        dead = []
        for w, a in zip(ids, alive, strict=True):
            try:
                info = json.loads(raw.get(w.encode(), raw.get(w)) or "{}")
            except (ValueError, TypeError):
                info = {}
            out.append(WorkerInfo(w, a, w in drains, info if isinstance(info, dict) else {}))
            if not a:
                dead.append(w)
        if prune and dead:
            self.client.hdel(WORKERS_INFO_KEY, *dead)
        return out


def set_drain(client: redis.Redis, worker_id: str, on: bool = True) -> None:
    """Ask a worker to give up all its cameras (``on``) or to take its share again."""
    if on:
        client.hset(WORKERS_DRAIN_KEY, worker_id, str(int(time.time())))
    else:
        client.hdel(WORKERS_DRAIN_KEY, worker_id)


# --------------------------------------------------------------------------- the keeper


@dataclass(frozen=True, slots=True)
class TickResult:
    """What one :meth:`LeaseKeeper.tick` changed."""

    acquired: tuple[str, ...] = ()
    released: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    share: int = 0
    live_workers: int = 0
    error: str = ""


class LeaseKeeper:
    """One worker's side of camera ownership: renew, spread, take over, drain.

    Call :meth:`tick` every ``tick_s`` (or :meth:`start` a thread doing it). The
    callbacks start and stop the work for a camera; ``on_release`` is called *before*
    the lease is given up, so no two workers ever run one camera at the same time
    through a voluntary hand-over.

    While Redis is unreachable nothing changes: the worker keeps its cameras (their
    events are spooled) and tries again next tick.

    Args:
        board: Redis operations for this worker.
        cameras: Every camera id the workers share.
        on_acquire: Start a camera (called from the tick thread).
        on_release: Stop a camera (we released it, or another worker owns it now).
        tick_s: Period of renewals and rebalancing (must be well below the lease ttl).
        info: Extra description for the registry, called each tick (e.g. spool backlog).
    """

    def __init__(
        self,
        board: LeaseBoard,
        cameras: Sequence[str],
        on_acquire: Callable[[str], None],
        on_release: Callable[[str], None],
        tick_s: float = 1.0,
        info: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        if tick_s * 2 >= board.ttl_ms / 1000:
            raise ValueError("tick_s must be less than half the lease ttl")
        self.board = board
        self.cameras = list(dict.fromkeys(cameras))
        self.on_acquire = on_acquire
        self.on_release = on_release
        self.tick_s = tick_s
        self.info = info
        self.held: list[str] = []  # in order of acquisition
        self._held_lock = threading.Lock()
        self._lost: set[str] = set()  # found by the renewer thread, stopped by the next tick
        self._seen_free: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._renewer: threading.Thread | None = None
        self.errors = 0
        self.last_error = ""
        self.draining = False
        self.started_ms = now_ms()

    @property
    def worker_id(self) -> str:
        return self.board.worker_id

    def _describe(self) -> dict[str, Any]:
        extra = dict(self.info()) if self.info is not None else {}
        return {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started_ms": self.started_ms,
            "cameras": sorted(self._held()),
            "draining": self.draining,
            **extra,
        }

    def _held(self) -> list[str]:
        with self._held_lock:
            return list(self.held)

    def _start_camera(self, cam: str) -> bool:
        with self._held_lock:
            self.held.append(cam)  # renewed from now on, even while a slow start runs
        try:
            self.on_acquire(cam)
        except Exception:
            log.exception("camera %s: could not start; giving its lease back", cam)
            with self._held_lock:
                self.held.remove(cam)
            self.board.release(cam)
            return False
        return True

    def renew_held(self) -> list[str]:
        """Heartbeat and renew every held lease; returns those another worker holds now.

        Runs on its own thread too (every ``tick_s``), so slow camera starts and stops
        in :meth:`tick` never let this worker's leases or heartbeat expire.
        """
        self.board.heartbeat(self._describe())
        lost = [cam for cam in self._held() if not self.board.renew(cam)]
        if lost:
            with self._held_lock:
                self._lost.update(lost)
        return lost

    def _stop_cameras(self, cams: Sequence[str], release: bool) -> None:
        """Stop cameras (concurrently: a capture blocked in a read must not delay the others), then release."""
        with self._held_lock:
            for cam in cams:
                if cam in self.held:
                    self.held.remove(cam)
                self._lost.discard(cam)

        def stop_one(cam: str) -> None:
            try:
                self.on_release(cam)
            except Exception:
                log.exception("camera %s: error while stopping", cam)

        threads = [threading.Thread(target=stop_one, args=(c,), name=f"stop-{c}", daemon=True) for c in cams]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if release:
            for cam in cams:
                self.board.release(cam)

    def tick(self) -> TickResult:
        """Heartbeat, renew, then release or take cameras toward this worker's share."""
        try:
            return self._tick()
        except (redis.RedisError, OSError) as e:
            self.errors += 1
            if not self.last_error:
                log.warning("leases: Redis unreachable (%s); keeping %d camera(s) running", e, len(self.held))
            self.last_error = f"{type(e).__name__}: {e}"
            self._seen_free.clear()
            return TickResult(error=self.last_error)

    def _tick(self) -> TickResult:
        t0 = time.monotonic()
        b = self.board
        self.draining = b.draining()
        self.renew_held()
        if self.last_error:
            log.warning("leases: Redis reachable again")
            self.last_error = ""
        with self._held_lock:
            lost = sorted(self._lost & set(self.held))
            self._lost.clear()
        if lost:
            log.warning("camera(s) %s: lease now held by another worker; stopping here", ", ".join(lost))
            self._stop_cameras(lost, release=False)
        if self.draining:
            drained = self._held()
            if drained:
                self._stop_cameras(drained, release=True)
                log.info("draining: released %d camera(s)", len(drained))
            self._seen_free.clear()
            return TickResult(released=tuple(drained), lost=tuple(lost))
        live = [w.worker_id for w in b.workers() if w.alive and not w.draining]
        if self.worker_id not in live:
            live.append(self.worker_id)
        share = shares(len(self.cameras), live)[self.worker_id]
        released: list[str] = []
        if len(self.held) > share:
            released = preference(self.worker_id, self._held())[share:]  # keep the ones we prefer most
            self._stop_cameras(released, release=True)
        acquired: list[str] = []
        if len(self.held) >= share:
            self._seen_free.clear()  # at our share: no need to look at everyone's leases (the common case)
            return TickResult((), tuple(released), tuple(lost), share, len(live))
        owners = b.owners(self.cameras)
        free = {c for c, o in owners.items() if o is None}
        # Ours in Redis but not running here: this worker restarted under the same id; resume at once.
        resumable = [c for c, o in owners.items() if o == self.worker_id and c not in self.held]
        for cam in preference(self.worker_id, resumable) + preference(self.worker_id, sorted(free)):
            if len(self.held) >= share or time.monotonic() - t0 > self.tick_s:
                break  # the rest next tick: renewals must not wait behind slow camera starts
            if cam in free and cam not in self._seen_free:
                continue  # confirm on the next tick: its owner may be re-taking it
            if (b.renew(cam) if cam not in free else b.acquire(cam)) and self._start_camera(cam):
                acquired.append(cam)
        self._seen_free = free - set(acquired)
        return TickResult(tuple(acquired), tuple(released), tuple(lost), share, len(live))

    def release_all(self) -> list[str]:
        """Stop and release every camera (shutdown); Redis errors are logged, not raised."""
        out = self._held()
        try:
            self._stop_cameras(out, release=True)
        except (redis.RedisError, OSError) as e:
            log.warning("leases not released (%s); they expire by themselves", e)
        return out

    # ------------------------------------------------------------------ thread

    def start(self) -> LeaseKeeper:
        """Tick on a background thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)
        self._renewer = threading.Thread(target=self._renew_run, name="lease-renewer", daemon=True)
        self._thread.start()
        self._renewer.start()
        return self

    def _renew_run(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                self.renew_held()
            except (redis.RedisError, OSError) as e:
                log.debug("lease renewal failed: %s", e)

    def _run(self) -> None:
        while not self._stop.is_set():
            t0 = time.monotonic()
            r = self.tick()
            if r.acquired or r.released or r.lost:
                log.info(
                    "leases: share %d of %d camera(s) over %d worker(s); +%s -%s lost %s",
                    r.share,
                    len(self.cameras),
                    r.live_workers,
                    ",".join(r.acquired) or "0",
                    ",".join(r.released) or "0",
                    ",".join(r.lost) or "0",
                )
            self._stop.wait(max(0.0, self.tick_s - (time.monotonic() - t0)))

    def halt(self) -> None:
        """Stop ticking (cameras keep running and keep their leases until they expire)."""
        self._stop.set()
        for t in (self._thread, self._renewer):
            if t is not None:
                t.join(self.tick_s * 3 + 30)

    def stop(self, release: bool = True, deregister: bool = True) -> None:
        """Stop ticking; stop and release every camera; leave the registry."""
        self.halt()
        if release:
            self.release_all()
        if deregister:
            try:
                self.board.deregister()
            except (redis.RedisError, OSError) as e:
                log.warning("worker %s not deregistered (%s); its heartbeat expires by itself", self.worker_id, e)


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
