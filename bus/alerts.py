"""Warden alerts in Redis: the open alerts (shared by the incidents service and the
dashboard's acknowledge endpoint) and the live push channels.

* ``alerts:open``: hash ``alert_id -> JSON`` of :class:`core.types.WardenAlert`.
* Push channels (pub/sub, JSON payloads): ``alerts:warden:<username>`` for each warden
  an alert goes to, and ``alerts:<control_room>`` for escalations and alerts on
  segments without wardens. The websocket layer relays them to browsers.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from bus.keys import ALERTS_OPEN_KEY, control_channel, warden_channel
from core.alerts import AlertDesk, UnknownAlert, acknowledge
from core.types import WardenAlert


def _s(v: bytes | str) -> str:
    return v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v)


class AlertStore:
    """Open alerts and their push notifications."""

    def __init__(self, client: redis.Redis, control_room: str = "control-room") -> None:
        self.client = client
        self.control_channel = control_channel(control_room)

    def save(self, alert: WardenAlert) -> None:
        self.client.hset(ALERTS_OPEN_KEY, alert.alert_id, json.dumps(AlertDesk.to_dict(alert), separators=(",", ":")))

    def get(self, alert_id: str) -> WardenAlert | None:
        raw: Any = self.client.hget(ALERTS_OPEN_KEY, alert_id)
        if raw is None:
            return None
        try:
            return AlertDesk.from_dict(json.loads(_s(raw)))
        except (ValueError, KeyError, TypeError):
            return None

    def all(self) -> dict[str, WardenAlert]:
        raw: Any = self.client.hgetall(ALERTS_OPEN_KEY)
        out = {}
        for k, v in raw.items():
            try:
                out[_s(k)] = AlertDesk.from_dict(json.loads(_s(v)))
            except (ValueError, KeyError, TypeError):
                continue
        return out

    def delete(self, alert_id: str) -> None:
        self.client.hdel(ALERTS_OPEN_KEY, alert_id)

    def ack(self, alert_id: str, username: str, now_ms: int, allow_any: bool = False) -> WardenAlert:
        """Acknowledge atomically (optimistic lock on the hash).

        Raises:
            core.alerts.UnknownAlert: unknown alert.
            core.alerts.AlertError: not the user's alert.
        """
        while True:
            with self.client.pipeline() as pipe:
                try:
                    pipe.watch(ALERTS_OPEN_KEY)
                    alert = self.get(alert_id)
                    if alert is None:
                        raise UnknownAlert(f"unknown alert {alert_id!r}")
                    acked = acknowledge(alert, username, now_ms, allow_any)
                    pipe.multi()
                    pipe.hset(ALERTS_OPEN_KEY, alert_id, json.dumps(AlertDesk.to_dict(acked), separators=(",", ":")))
                    pipe.execute()
                    return acked
                except redis.WatchError:
                    continue

    def push(self, alert: WardenAlert) -> int:
        """Notify the alert's wardens (and the control room when escalated); returns receivers."""
        payload = json.dumps({"type": "alert", **AlertDesk.to_dict(alert)}, separators=(",", ":"))
        pipe = self.client.pipeline(transaction=False)
        for w in alert.wardens:
            pipe.publish(warden_channel(w), payload)
        if alert.escalated or not alert.wardens:
            pipe.publish(self.control_channel, payload)
        return int(sum(int(x) for x in pipe.execute()))


__all__ = ["AlertStore"]
