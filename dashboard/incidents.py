"""Incidents and warden alerts as the pages show them, and the actions people take on them.

Incidents (SOS reports included) are raised on ``incident.raised``; every action
(acknowledge, assign, close, escalate) is an :class:`core.types.IncidentUpdate` on
``incident.updated``; warden alerts are on ``alert.warden``. The current state of each
incident is the fold of its updates over the raised event (:func:`fold_incidents`), so
every server process computes the same view from Redis. When the archive is installed,
actions go through its ``incident_action`` (durable, SQL) and the update is announced on
``incident.updated`` as well, so live views and the alert escalation see it at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bus.schema import stream_of
from bus.streams import EventBus
from core.clock import now_ms
from core.types import Incident, IncidentKind, IncidentUpdate, WardenAlert

log = logging.getLogger("dashboard.incidents")

RAISED = stream_of(Incident)
UPDATED = stream_of(IncidentUpdate)
ALERTS = stream_of(WardenAlert)
ACTIONS = ("ack", "assign", "close")
STATE_AFTER = {
    "ack": "acknowledged",
    "assign": "assigned",
    "close": "closed",
    "escalate": "escalated",
    "reopen": "open",
}
STATES = ("open", "acknowledged", "assigned", "escalated", "closed")
PRIORITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


class ActionError(ValueError):
    """An action that cannot be applied (unknown incident, closed already, no assignee ...)."""


@dataclass(frozen=True, slots=True)
class IncidentView:
    """One incident with its current state.

    Attributes:
        incident: The raised event.
        state: ``open``, ``acknowledged``, ``assigned``, ``escalated`` or ``closed``.
        assignee: Who it is assigned to.
        history: Its updates, oldest first.
    """

    incident: Incident
    state: str = "open"
    assignee: str | None = None
    history: tuple[IncidentUpdate, ...] = ()

    @property
    def id(self) -> str:
        return self.incident.incident_id

    @property
    def kind(self) -> str:
        return self.incident.kind.value

    @property
    def priority(self) -> str:
        return self.incident.priority.value


@dataclass(frozen=True, slots=True)
class AlertView:
    """A warden alert with its acknowledgement and incident state."""

    alert: WardenAlert
    acked_by: str = ""
    acked_ts_ms: int = 0
    closed: bool = False


def fold_incidents(raised: Iterable[Incident], updates: Iterable[IncidentUpdate]) -> dict[str, IncidentView]:
    """Current state of each incident: its updates applied in time order."""
    views: dict[str, IncidentView] = {}
    for inc in raised:
        views.setdefault(inc.incident_id, IncidentView(inc))
    for up in sorted(updates, key=lambda u: u.ts_ms):
        v = views.get(up.incident_id)
        if v is None:
            continue
        state = up.state if up.state in STATES and up.state != "open" else STATE_AFTER.get(up.action, v.state)
        assignee = up.assignee if up.action == "assign" else v.assignee
        views[up.incident_id] = replace(v, state=state, assignee=assignee, history=(*v.history, up))
    return views


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    """What the incident feed shows (empty = everything)."""

    kinds: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    segment_id: str | None = None
    since_ms: int | None = None

    def accepts(self, v: IncidentView) -> bool:
        if self.kinds and v.kind not in self.kinds:
            return False
        if self.states and v.state not in self.states:
            return False
        if self.segment_id and v.incident.segment_id != self.segment_id:
            return False
        return not (self.since_ms is not None and v.incident.ts_ms < self.since_ms)


def read_incidents(
    bus: EventBus, flt: IncidentFilter | None = None, limit: int = 200, depth: int = 2000
) -> list[IncidentView]:
    """Recent incidents (newest first) with their current state, filtered.

    Args:
        bus: Event streams.
        flt: Filter (None: all).
        limit: Max incidents returned.
        depth: How many recent raised/updated entries are read.
    """
    raised = [m.obj for m in bus.recent(RAISED, depth) if isinstance(m.obj, Incident)]
    updates = [m.obj for m in bus.recent(UPDATED, depth * 2) if isinstance(m.obj, IncidentUpdate)]
    views = fold_incidents(raised, updates)
    flt = flt or IncidentFilter()
    out = [v for v in views.values() if flt.accepts(v)]
    out.sort(key=lambda v: v.incident.ts_ms, reverse=True)
    return out[:limit]


def get_incident(bus: EventBus, incident_id: str, depth: int = 2000) -> IncidentView | None:
    for v in read_incidents(bus, None, limit=depth, depth=depth):
        if v.id == incident_id:
            return v
    return None


def act(
    bus: EventBus,
    archive: Any,
    incident_id: str,
    action: str,
    actor: str,
    note: str = "",
    assignee: str | None = None,
) -> IncidentUpdate:
    """Acknowledge, assign or close an incident.

    Raises:
        ActionError: unknown action or incident, assign without an assignee, or the
            incident already closed.
    """
    if action not in ACTIONS:
        raise ActionError(f"action must be one of {', '.join(ACTIONS)}")
    if action == "assign" and not (assignee or "").strip():
        raise ActionError("assign needs an assignee")
    current = get_incident(bus, incident_id)
    if current is None and archive is None:
        raise ActionError(f"unknown incident {incident_id!r}")
    if current is not None and current.state == "closed":
        raise ActionError(f"incident {incident_id} is closed")
    note = (note or "").strip()[:500]
    if archive is not None:
        try:
            archive.incident_action(incident_id, action, actor, note, assignee=assignee)
        except KeyError:  # IncidentNotFound: not archived yet (the incidents service is behind or down)
            if current is None:
                raise ActionError(f"unknown incident {incident_id!r}") from None
            log.warning("incident %s not archived yet: %s recorded on the stream only", incident_id, action)
        except ValueError as e:  # InvalidAction: not allowed in its current state
            raise ActionError(str(e)) from e
    up = IncidentUpdate(
        incident_id=incident_id,
        action=action,
        actor=actor,
        ts_ms=now_ms(),
        note=note,
        assignee=assignee.strip() if assignee else None,
        state=STATE_AFTER[action],
    )
    bus.publish(up)
    return up


def ack_alert(
    client: Any, bus: EventBus, archive: Any, control_room: str, alert_id: str, username: str, any_alert: bool
) -> WardenAlert:
    """Acknowledge a warden alert: the open-alert store (stops its escalation), the archive, the stream.

    The same steps as ``POST /api/v1/warden/alerts/<id>/ack``.

    Raises:
        ActionError: unknown alert, or not this warden's alert.
    """
    from bus.alerts import AlertStore
    from core.alerts import AlertError

    now = now_ms()
    try:
        alert = AlertStore(client, control_room).ack(alert_id, username, now, allow_any=any_alert)
    except AlertError as e:
        raise ActionError(str(e)) from None
    if archive is not None:
        try:
            archive.save_alert(alert)
            archive.incident_action(alert.incident_id, "ack", username, "alert acknowledged")
        except (KeyError, ValueError):
            pass  # already acknowledged/closed, or not archived yet
        except Exception as e:  # noqa: BLE001 - SQL down: Redis has it; the service archives acks too
            log.warning("ack %s not archived: %s", alert_id, e)
    bus.publish(IncidentUpdate(alert.incident_id, "ack", username, now, "alert acknowledged", None, "acknowledged"))
    return alert


def read_alerts(
    bus: EventBus, zones: Sequence[str] | None, username: str | None = None, depth: int = 500
) -> list[AlertView]:
    """Warden alerts, newest first: those of ``zones`` (or addressed to ``username``); all when ``zones`` is None.

    Acknowledgements and closures come from ``incident.updated``.
    """
    latest: dict[str, WardenAlert] = {}
    for m in reversed(bus.recent(ALERTS, depth)):  # oldest first: later versions (escalated) win
        a = m.obj
        if isinstance(a, WardenAlert):
            latest[a.alert_id] = a
    if zones is not None:
        zs = set(zones)
        latest = {
            k: a for k, a in latest.items() if (a.segment_id in zs) or (username is not None and username in a.wardens)
        }
    if not latest:
        return []
    incident_ids = {a.incident_id for a in latest.values()}
    acks: dict[str, IncidentUpdate] = {}
    closed: set[str] = set()
    for m in reversed(bus.recent(UPDATED, depth * 4)):
        up = m.obj
        if not isinstance(up, IncidentUpdate) or up.incident_id not in incident_ids:
            continue
        if up.action == "ack" and up.incident_id not in acks:
            acks[up.incident_id] = up
        if up.action == "close":
            closed.add(up.incident_id)
    out = []
    for a in latest.values():
        ack = acks.get(a.incident_id)
        out.append(
            AlertView(
                a,
                acked_by=a.acked_by or (ack.actor if ack else ""),
                acked_ts_ms=a.acked_ts_ms or (ack.ts_ms if ack else 0),
                closed=a.incident_id in closed,
            )
        )
    out.sort(key=lambda v: v.alert.ts_ms, reverse=True)
    return out


def kind_label(kind: str) -> str:
    """People's words for an incident kind."""
    return {
        IncidentKind.SOS.value: "SOS",
        IncidentKind.CONGESTION.value: "Congestion",
        IncidentKind.OVERSPEED.value: "Overspeed",
        IncidentKind.WRONG_WAY.value: "Wrong way",
        IncidentKind.RED_LIGHT.value: "Red light",
        IncidentKind.STALLED.value: "Stalled vehicle",
        IncidentKind.WATCHLIST.value: "Watch list",
    }.get(kind, kind.replace("_", " ").capitalize())
