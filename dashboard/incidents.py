"""Incidents and warden alerts as the pages show them, and the actions people take on them.

Incidents (SOS reports included) are raised on ``incident.raised``; every action
(acknowledge, assign, close, escalate) is an :class:`core.types.IncidentUpdate` on
``incident.updated``; warden alerts are on ``alert.warden``. The current state of each
incident is the fold of its updates over the raised event (:func:`core.incidents.fold_incidents`),
so every server process computes the same view from Redis. Operator actions and alert
acknowledgements go through :func:`act` and :func:`ack_alert`, whether they come from a
page or the REST API: when the archive is installed they are recorded there (durable,
SQL), and the update is announced on ``incident.updated`` as well, so live views and the
alert escalation see it at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bus.alerts import AlertStore
from bus.schema import stream_of
from bus.streams import EventBus
from core.alerts import AlertError, UnknownAlert, alert_id_for
from core.clock import now_ms
from core.incidents import (
    OPERATOR_ACTIONS,
    TAKES_INCIDENT,
    ActionNotAllowed,
    IncidentView,
    InvalidAction,
    fold_incidents,
    next_state,
    validate_action,
)
from core.types import Incident, IncidentKind, IncidentUpdate, WardenAlert

log = logging.getLogger("dashboard.incidents")

RAISED = stream_of(Incident)
UPDATED = stream_of(IncidentUpdate)
ALERTS = stream_of(WardenAlert)
PRIORITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


class ActionError(ValueError):
    """An action that cannot be applied: a bad value (the message says which); subclasses say more."""


class NotFound(ActionError):
    """Unknown incident or alert."""


class NotAllowed(ActionError):
    """Not allowed in the incident's current state (e.g. it is closed)."""


class Forbidden(ActionError):
    """Not this user's alert."""


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an operator action did.

    Attributes:
        update: The update announced on ``incident.updated``.
        view: The incident after it (from the archive when installed, else folded from the streams).
    """

    update: IncidentUpdate
    view: IncidentView


@dataclass(frozen=True, slots=True)
class AlertView:
    """A warden alert with its acknowledgement and incident state."""

    alert: WardenAlert
    acked_by: str = ""
    acked_ts_ms: int = 0
    closed: bool = False


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
    alerts: AlertStore,
    incident_id: str,
    action: str,
    actor: str,
    note: str = "",
    assignee: str | None = None,
) -> ActionResult:
    """Apply an operator's action to an incident: what the incidents page and ``POST /api/v1/incidents/<id>/action`` do.

    1. Validate (:func:`core.incidents.validate_action`: a known operator action, an actor,
       an assignee for ``assign``, a note of at most ``NOTE_MAX_CHARS`` characters).
    2. Change the state: in the archive when installed (durable; an incident it does not
       have yet is refused, so SQL and the streams never disagree), else checked against
       the state folded from the streams (:func:`core.incidents.next_state`).
    3. ``ack``/``assign``/``close``: acknowledge the incident's warden alert (the control
       room has taken it, so it does not escalate).
    4. Announce the update on ``incident.updated``.

    Raises:
        NotFound: unknown incident.
        NotAllowed: its current state does not allow the action.
        ActionError: a bad value (unknown action, no assignee, note too long ...).
    """
    note = (note or "").strip()
    assignee = assignee.strip() if assignee else None
    if action not in OPERATOR_ACTIONS:
        raise ActionError(f"unknown action {action!r}; use one of {', '.join(OPERATOR_ACTIONS)}")
    try:
        validate_action(action, actor, note, assignee)
    except InvalidAction as e:
        raise ActionError(str(e)) from None
    now = now_ms()
    if archive is not None:
        try:
            view: IncidentView = archive.incident_action(incident_id, action, actor, note, assignee=assignee)
        except ActionNotAllowed as e:
            raise NotAllowed(str(e)) from None
        except InvalidAction as e:
            raise ActionError(str(e)) from None
        except KeyError:  # archive.IncidentNotFound (the incidents service may be behind: try again)
            raise NotFound(f"unknown incident {incident_id!r} (not in the archive)") from None
        up = IncidentUpdate(incident_id, action, actor, now, note, assignee, view.state)
    else:
        current = get_incident(bus, incident_id)
        if current is None:
            raise NotFound(f"unknown incident {incident_id!r}")
        try:
            up = IncidentUpdate(incident_id, action, actor, now, note, assignee, next_state(current.state, action))
        except ActionNotAllowed as e:
            raise NotAllowed(str(e)) from None
        view = current.after(up)
    if action in TAKES_INCIDENT:
        try:
            alerts.ack(alert_id_for(incident_id), actor, now, allow_any=True)
        except AlertError:
            pass  # no alert for this incident (yet)
        except Exception as e:  # noqa: BLE001 - Redis down: the action itself stands
            log.warning("incident %s: alert not acknowledged in Redis: %s", incident_id, e)
    if archive is None:
        bus.publish(up)  # the stream is the only record: a failure is the caller's
    else:
        try:
            bus.publish(up)
        except Exception as e:  # noqa: BLE001 - SQL has it; the live feed is best effort
            log.warning("incident %s: update not announced: %s", incident_id, e)
    return ActionResult(up, view)


def ack_alert(
    alerts: AlertStore, bus: EventBus, archive: Any, alert_id: str, username: str, any_alert: bool
) -> WardenAlert:
    """Acknowledge a warden alert: what the warden page and ``POST /api/v1/warden/alerts/<id>/ack`` do.

    The open-alert store first (stops its escalation), then the archive (the alert and an
    ``ack`` of its incident, when that is still allowed) and ``incident.updated``; those two
    are best effort once Redis has the acknowledgement.

    Args:
        any_alert: Control-room staff may acknowledge any alert; wardens only their own.

    Raises:
        NotFound: unknown alert.
        Forbidden: not this warden's alert.
    """
    now = now_ms()
    try:
        alert = alerts.ack(alert_id, username, now, allow_any=any_alert)
    except UnknownAlert as e:
        raise NotFound(str(e)) from None
    except AlertError as e:
        raise Forbidden(str(e)) from None
    if archive is not None:
        try:
            archive.save_alert(alert)
            archive.incident_action(alert.incident_id, "ack", username, "alert acknowledged")
        except (KeyError, ValueError):
            pass  # already acknowledged/closed, or not archived yet (the incidents service archives acks too)
        except Exception as e:  # noqa: BLE001 - SQL down: Redis has it
            log.warning("ack %s not archived: %s", alert_id, e)
    try:
        bus.publish(IncidentUpdate(alert.incident_id, "ack", username, now, "alert acknowledged", None, "acknowledged"))
    except Exception as e:  # noqa: BLE001 - Redis has the acknowledgement; the live feed is best effort
        log.warning("ack %s not announced: %s", alert_id, e)
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
