"""Incidents and what is done about them: kinds, priorities, warden alerts, operator actions.

Pure data (see :mod:`core.types`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class IncidentKind(str, Enum):
    CONGESTION = "congestion"
    OVERSPEED = "overspeed"
    WRONG_WAY = "wrong_way"
    RED_LIGHT = "red_light"
    STALLED = "stalled"
    WATCHLIST = "watchlist"
    SOS = "sos"


class Priority(str, Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Incident:
    """Something an operator or warden must see (stream ``incident.raised``).

    Attributes:
        incident_id: Idempotent id (same cause -> same id, so replays never duplicate).
        kind: What happened.
        priority: How urgent.
        ts_ms: Frame time (or report time for SOS).
        camera_id: Camera that saw it, if any.
        segment_id: Road segment, if known.
        location: (lat, lon), if known.
        track_id: Track involved, if any.
        plate: Plate text, if any (personal data: never in public feeds or info logs).
        summary: One line for people.
        evidence: Ids (SHA-256 hex) of stored evidence files.
        details: Extra key/value facts (e.g. ``("speed_kmh", "92.5")``).
    """

    incident_id: str
    kind: IncidentKind
    priority: Priority
    ts_ms: int
    camera_id: str | None = None
    segment_id: str | None = None
    location: tuple[float, float] | None = None
    track_id: int | None = None
    plate: str | None = None
    summary: str = ""
    evidence: tuple[str, ...] = ()
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class WardenAlert:
    """An incident pushed to the wardens of its segment (stream ``alert.warden``).

    Attributes:
        alert_id: Idempotent id (incident id + escalation flag).
        incident_id: Incident it is about.
        segment_id: Segment (the wardens' zone), if known.
        wardens: Usernames it went to (empty when the segment has none: control room only).
        ts_ms: When it was raised (or escalated).
        escalated: True when nobody acknowledged in time and it went to the control room.
        kind: Incident kind.
        priority: Incident priority.
        summary: One line for people.
        deadline_ms: Escalation time if not acknowledged.
        acked_by: Username that acknowledged, or "".
        acked_ts_ms: When, or 0.
    """

    alert_id: str
    incident_id: str
    segment_id: str | None
    wardens: tuple[str, ...]
    ts_ms: int
    escalated: bool = False
    kind: IncidentKind = IncidentKind.CONGESTION
    priority: Priority = Priority.MEDIUM
    summary: str = ""
    deadline_ms: int = 0
    acked_by: str = ""
    acked_ts_ms: int = 0


@dataclass(frozen=True, slots=True)
class IncidentUpdate:
    """An operator/warden action on an incident (stream ``incident.updated``).

    Attributes:
        incident_id: Incident.
        action: ``ack``, ``assign``, ``close`` or ``escalate``.
        actor: Username (or ``system``).
        ts_ms: When.
        note: Free text.
        assignee: For ``assign``.
        state: Incident state after the action (``open``, ``acknowledged``, ``assigned``,
            ``escalated``, ``closed``).
    """

    incident_id: str
    action: str
    actor: str
    ts_ms: int
    note: str = ""
    assignee: str | None = None
    state: str = "open"
