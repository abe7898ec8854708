"""Worker-side enforcement state in Redis, so a restarted worker continues where it stopped.

* ``rules:checkpoint:<camera_id>``: JSON of :meth:`core.rules.RuleEngine.checkpoint`
  (the vehicles in view and what they were already reported for).
* ``rules:pending:<camera_id>``: hash ``violation_id -> JSON`` of violations detected
  but not published yet (waiting for the evidence frame after the moment or a better
  plate reading); a restarted worker publishes them with the evidence they have.
* ``rules:plates:<camera_id>``: hash ``job key -> JSON`` of plate reads asked for and not
  finished (the crop is in the evidence store); a restarted worker asks for them again, so a
  watch-listed car whose read was in flight at a crash is still read.
* ``congestion:episodes``: hash ``segment_id -> start ms`` of each segment's current
  heavy/jammed spell, so a restarted aggregator keeps the same congestion incident.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from bus.keys import CONGESTION_EPISODES_KEY, rules_checkpoint_key, rules_pending_key, rules_plates_key


def _s(v: bytes | str) -> str:
    return v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v)


class RuleStateStore:
    """Checkpoints and pending violations of the cameras' rule engines."""

    def __init__(self, client: redis.Redis, ttl_s: int = 3600) -> None:
        self.client = client
        self.ttl_s = ttl_s

    def save_checkpoint(self, camera_id: str, data: dict[str, Any]) -> None:
        self.client.set(rules_checkpoint_key(camera_id), json.dumps(data, separators=(",", ":")), ex=self.ttl_s)

    def load_checkpoint(self, camera_id: str) -> dict[str, Any] | None:
        raw: Any = self.client.get(rules_checkpoint_key(camera_id))
        if raw is None:
            return None
        try:
            data = json.loads(_s(raw))
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _put(self, key: str, field: str, data: dict[str, Any]) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(key, field, json.dumps(data, separators=(",", ":")))
        pipe.expire(key, self.ttl_s)
        pipe.execute()

    def _all(self, key: str) -> dict[str, dict[str, Any]]:
        raw: Any = self.client.hgetall(key)
        out = {}
        for k, v in raw.items():
            try:
                d = json.loads(_s(v))
            except ValueError:
                continue
            if isinstance(d, dict):
                out[_s(k)] = d
        return out

    def put_pending(self, camera_id: str, violation_id: str, data: dict[str, Any]) -> None:
        self._put(rules_pending_key(camera_id), violation_id, data)

    def pending(self, camera_id: str) -> dict[str, dict[str, Any]]:
        return self._all(rules_pending_key(camera_id))

    def drop_pending(self, camera_id: str, violation_id: str) -> None:
        self.client.hdel(rules_pending_key(camera_id), violation_id)

    # plate reads in flight (the worker's reader thread holds them in memory only)

    def put_plate_job(self, camera_id: str, job_key: str, data: dict[str, Any]) -> None:
        self._put(rules_plates_key(camera_id), job_key, data)

    def plate_jobs(self, camera_id: str) -> dict[str, dict[str, Any]]:
        return self._all(rules_plates_key(camera_id))

    def drop_plate_job(self, camera_id: str, job_key: str) -> None:
        self.client.hdel(rules_plates_key(camera_id), job_key)

    # congestion episodes (the aggregator's): segment -> start time of the current heavy/jammed spell

    def episode(self, segment_id: str) -> int | None:
        raw: Any = self.client.hget(CONGESTION_EPISODES_KEY, segment_id)
        try:
            return int(raw) if raw is not None else None
        except ValueError:
            return None

    def set_episode(self, segment_id: str, start_ms: int) -> None:
        self.client.hset(CONGESTION_EPISODES_KEY, segment_id, str(int(start_ms)))

    def clear_episode(self, segment_id: str) -> None:
        self.client.hdel(CONGESTION_EPISODES_KEY, segment_id)

    def clear(self, camera_id: str) -> None:
        self.client.delete(rules_checkpoint_key(camera_id), rules_pending_key(camera_id), rules_plates_key(camera_id))


__all__ = ["RuleStateStore"]
