"""The watchlist's audit trail in Redis: who changed what, when (``watchlist:audit``).

Each change of :class:`bus.watchlist.RedisWatchlist` pushes one JSON record in the same
transaction as the change (newest first, capped at :data:`bus.keys.WATCHLIST_AUDIT_MAX`).
Records name the plate, so they stay in Redis and on the admin screen: the process logs
say only who did what, never the plate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis

from bus.keys import WATCHLIST_AUDIT_KEY, WATCHLIST_AUDIT_MAX

#: Actions recorded.
ACTIONS = ("add", "change", "remove", "load", "replace")


@dataclass(frozen=True)
class AuditRecord:
    """One watchlist change.

    Attributes:
        ts_ms: When (UTC epoch ms).
        actor: Who (a dashboard username, or e.g. ``"launcher"`` for a seed from a file).
        action: One of :data:`ACTIONS`.
        plate: The plate changed ("" for a whole-list load/replace).
        detail: What changed (e.g. ``"priority high, expires 2027-01-01T00:00:00Z"`` or ``"12 entries"``).
    """

    ts_ms: int
    actor: str
    action: str
    plate: str
    detail: str


def encode(ts_ms: int, actor: str, action: str, plate: str, detail: str) -> str:
    """A record as stored."""
    return json.dumps(
        {"ts_ms": ts_ms, "actor": actor, "action": action, "plate": plate, "detail": detail},
        separators=(",", ":"),
    )


def push(pipe: redis.client.Pipeline, record: str) -> None:
    """Queue one record on a transaction pipeline (with the cap)."""
    pipe.lpush(WATCHLIST_AUDIT_KEY, record)
    pipe.ltrim(WATCHLIST_AUDIT_KEY, 0, WATCHLIST_AUDIT_MAX - 1)


def read(client: redis.Redis, limit: int = 100) -> list[AuditRecord]:
    """The newest ``limit`` records, newest first (malformed ones skipped)."""
    out = []
    for raw in client.lrange(WATCHLIST_AUDIT_KEY, 0, max(0, limit - 1)):
        try:
            d = json.loads(raw)
            out.append(
                AuditRecord(
                    int(d["ts_ms"]),
                    str(d["actor"]),
                    str(d["action"]),
                    str(d.get("plate", "")),
                    str(d.get("detail", "")),
                )
            )
        except (ValueError, KeyError, TypeError):
            continue
    return out
