"""One worker's side of camera ownership: renew, spread evenly, take over, drain (see :mod:`bus.leases`)."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis

from bus.lease_board import LeaseBoard
from core.clock import now_ms

# The keeper's messages keep the logger name they have always had (log lines show it).
log = logging.getLogger("bus.leases")


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
