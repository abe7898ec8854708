"""Redis side of camera leases and the worker registry (see :mod:`bus.leases`).

:class:`LeaseBoard` takes, renews and releases one worker's camera leases and keeps
its registry entry; :func:`set_drain` flags a worker for maintenance.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from bus.keys import WORKERS_DRAIN_KEY, WORKERS_INFO_KEY, lease_key, worker_alive_key

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
