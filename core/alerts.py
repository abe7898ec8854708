"""Warden alerts: route incidents to the wardens of their segment, acknowledge, escalate. Pure logic.

A :class:`AlertDesk` holds the open alerts. :meth:`AlertDesk.raise_for` routes an
incident to the wardens assigned to its segment (from the config, plus run-time
assignments by an admin) and sets the escalation deadline; :meth:`AlertDesk.ack`
records who acknowledged; :meth:`AlertDesk.due` returns the alerts nobody
acknowledged in time, escalated to the control room (each escalates once). An
incident on a segment without wardens goes straight to the control room.

The state is plain data (:meth:`AlertDesk.snapshot` / :meth:`AlertDesk.load`) so a
service can keep it in Redis and survive restarts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from core.types import Incident, IncidentKind, Priority, WardenAlert


def alert_id_for(incident_id: str) -> str:
    """Idempotent alert id of an incident's alert."""
    return hashlib.sha1(("alert\x1f" + incident_id).encode("utf-8")).hexdigest()[:20]


class AlertError(ValueError):
    """An acknowledgement that cannot be accepted (unknown alert, not your alert, ...)."""


class UnknownAlert(AlertError):
    """No open alert with that id."""


@dataclass(frozen=True, slots=True)
class Roster:
    """Who answers for which segment.

    Attributes:
        by_warden: username -> segment ids.
    """

    by_warden: Mapping[str, tuple[str, ...]]

    @classmethod
    def build(
        cls, configured: Iterable[tuple[str, Sequence[str]]], runtime: Mapping[str, Sequence[str]] | None = None
    ) -> Roster:
        """Configured assignments, replaced per warden by run-time ones (an admin's decision wins)."""
        out = {u: tuple(s) for u, s in configured}
        for u, segs in (runtime or {}).items():
            out[u] = tuple(segs)
        return cls(out)

    def wardens_of(self, segment_id: str | None) -> tuple[str, ...]:
        """Usernames assigned to a segment, sorted."""
        if segment_id is None:
            return ()
        return tuple(sorted(u for u, segs in self.by_warden.items() if segment_id in segs))


def acknowledge(alert: WardenAlert, username: str, now_ms: int, allow_any: bool = False) -> WardenAlert:
    """The alert acknowledged by ``username``.

    Args:
        alert: The alert.
        username: Who acknowledges.
        now_ms: When.
        allow_any: Control-room staff may acknowledge any alert; wardens only their own.

    Returns:
        The acknowledged alert (acknowledging twice keeps the first).

    Raises:
        AlertError: a warden acknowledging someone else's alert.
    """
    if not allow_any and username not in alert.wardens:
        raise AlertError(f"alert {alert.alert_id} is not assigned to {username!r}")
    if alert.acked_by:
        return alert
    return replace(alert, acked_by=username, acked_ts_ms=now_ms)


class AlertDesk:
    """Open warden alerts and their escalation timers.

    Args:
        roster: Warden assignments.
        escalate_after_s: Unacknowledged alerts escalate after this long.
    """

    def __init__(self, roster: Roster, escalate_after_s: float) -> None:
        self.roster = roster
        self.escalate_after_ms = int(escalate_after_s * 1000)
        self.open: dict[str, WardenAlert] = {}

    def raise_for(self, incident: Incident, now_ms: int) -> WardenAlert | None:
        """The alert for an incident (None when one was already raised: idempotent).

        An incident whose segment has no warden is escalated to the control room at once.
        """
        aid = alert_id_for(incident.incident_id)
        if aid in self.open:
            return None
        wardens = self.roster.wardens_of(incident.segment_id)
        alert = WardenAlert(
            alert_id=aid,
            incident_id=incident.incident_id,
            segment_id=incident.segment_id,
            wardens=wardens,
            ts_ms=now_ms,
            escalated=not wardens,
            kind=incident.kind,
            priority=incident.priority,
            summary=incident.summary,
            deadline_ms=now_ms + self.escalate_after_ms,
        )
        self.open[aid] = alert
        return alert

    def ack(self, alert_id: str, username: str, now_ms: int, allow_any: bool = False) -> WardenAlert:
        """Record an acknowledgement (see :func:`acknowledge`).

        Raises:
            AlertError: unknown alert, or a warden acknowledging someone else's alert.
        """
        alert = self.open.get(alert_id)
        if alert is None:
            raise UnknownAlert(f"unknown alert {alert_id!r}")
        alert = acknowledge(alert, username, now_ms, allow_any)
        self.open[alert_id] = alert
        return alert

    def due(self, now_ms: int) -> list[WardenAlert]:
        """Alerts to escalate now: not acknowledged by their deadline, not escalated yet."""
        out = []
        for aid, a in sorted(self.open.items(), key=lambda kv: kv[1].deadline_ms):
            if not a.acked_by and not a.escalated and now_ms >= a.deadline_ms:
                a = replace(a, escalated=True, ts_ms=now_ms)
                self.open[aid] = a
                out.append(a)
        return out

    def close(self, incident_id: str) -> None:
        """Forget the alert of a closed incident."""
        self.open.pop(alert_id_for(incident_id), None)

    def prune(self, now_ms: int, keep_s: float = 86_400) -> int:
        """Drop acknowledged or escalated alerts older than ``keep_s``; returns how many."""
        cutoff = now_ms - int(keep_s * 1000)
        old = [k for k, a in self.open.items() if (a.acked_by or a.escalated) and a.ts_ms < cutoff]
        for k in old:
            del self.open[k]
        return len(old)

    # ------------------------------------------------------------------ persistence

    @staticmethod
    def to_dict(alert: WardenAlert) -> dict[str, Any]:
        d = asdict(alert)
        d["kind"], d["priority"], d["wardens"] = alert.kind.value, alert.priority.value, list(alert.wardens)
        return d

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> WardenAlert:
        return WardenAlert(
            alert_id=str(d["alert_id"]),
            incident_id=str(d["incident_id"]),
            segment_id=d.get("segment_id"),
            wardens=tuple(d.get("wardens") or ()),
            ts_ms=int(d["ts_ms"]),
            escalated=bool(d.get("escalated")),
            kind=IncidentKind(d.get("kind", "congestion")),
            priority=Priority(d.get("priority", "medium")),
            summary=str(d.get("summary", "")),
            deadline_ms=int(d.get("deadline_ms", 0)),
            acked_by=str(d.get("acked_by", "")),
            acked_ts_ms=int(d.get("acked_ts_ms", 0)),
        )


__all__ = ["AlertDesk", "AlertError", "Roster", "UnknownAlert", "acknowledge", "alert_id_for"]
