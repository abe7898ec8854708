"""The notifier's shared state in Redis: the Web Push public key and the notifier's counters.

* ``notify:vapid_public_key``: the application server key (base64url of the uncompressed P-256
  point) that the notifier signs pushes with; the warden page subscribes browsers with it.
* ``notify:status``: hash of the notifier's counters and its last heartbeat (``ts_ms``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis

from bus.keys import NOTIFY_STATUS_KEY, NOTIFY_VAPID_PUBLIC_KEY


def _s(v: bytes | str) -> str:
    return v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v)


class NotifyState:
    """Read and write the notifier's Redis keys."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def set_public_key(self, key: str) -> None:
        self.client.set(NOTIFY_VAPID_PUBLIC_KEY, key)

    def public_key(self) -> str | None:
        """The Web Push application server key, or None before the notifier first started."""
        raw: Any = self.client.get(NOTIFY_VAPID_PUBLIC_KEY)
        return None if raw is None else _s(raw)

    def set_status(self, counters: Mapping[str, int]) -> None:
        self.client.hset(NOTIFY_STATUS_KEY, mapping={k: str(int(v)) for k, v in counters.items()})

    def status(self) -> dict[str, int]:
        raw: Any = self.client.hgetall(NOTIFY_STATUS_KEY)
        out: dict[str, int] = {}
        for k, v in raw.items():
            try:
                out[_s(k)] = int(_s(v))
            except ValueError:
                continue
        return out


__all__ = ["NotifyState"]
