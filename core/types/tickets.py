"""Violations and e-tickets: a broken rule, the ticket issued for it, and its state changes.

Pure data (see :mod:`core.types`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from core.types.frames import Box
from core.types.incidents import IncidentKind


@dataclass(frozen=True, slots=True)
class Violation:
    """A traffic rule broken by one tracked vehicle (stream ``violation.detected``).

    Attributes:
        violation_id: Idempotent id: hash of camera, track id, the track's first frame
            time and the kind, so a replayed or re-detected violation gets the same id.
        kind: ``overspeed``, ``wrong_way``, ``red_light`` or ``stalled`` (no-stopping zone).
        camera_id: Camera that saw it.
        segment_id: Road segment of the camera.
        track_id: Track id (of the track's first appearance; see ``track_first_ts_ms``).
        ts_ms: Frame time of the moment of the violation.
        label: Vehicle class.
        plate: Best plate reading of the vehicle, or None (the ticket then goes to manual review).
        plate_confidence: 0-1 (0 without a plate).
        speed_kmh: Measured speed at the moment, if known.
        limit_kmh: Speed limit that applied, if any.
        location: (lat, lon) of the camera.
        evidence: SHA-256 hex ids of the evidence files: 2-3 frames around the moment, then
            the plate crop when there is one.
        details: Extra facts as ``(key, value)`` strings (zone, signal phase, ...).
        box: Pixel box of the vehicle at the moment.
        track_first_ts_ms: Frame time when the vehicle's track was first seen.
    """

    violation_id: str
    kind: IncidentKind
    camera_id: str
    segment_id: str
    track_id: int
    ts_ms: int
    label: str
    plate: str | None = None
    plate_confidence: float = 0.0
    speed_kmh: float | None = None
    limit_kmh: float | None = None
    location: tuple[float, float] | None = None
    evidence: tuple[str, ...] = ()
    details: tuple[tuple[str, str], ...] = ()
    box: Box = (0.0, 0.0, 0.0, 0.0)
    track_first_ts_ms: int = 0


class TicketState(str, Enum):
    """Life of an e-ticket (the allowed changes are :data:`core.tickets.TRANSITIONS`).

    Control room: issued -> under_review -> approved | void. Citizen side: approved -> notified
    (owner found, notice queued) | owner_unknown; notified -> paid | appealed | overdue;
    appealed -> upheld | cancelled; upheld and overdue can still be paid.
    """

    ISSUED = "issued"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    VOID = "void"
    PAID = "paid"
    OWNER_UNKNOWN = "owner_unknown"
    NOTIFIED = "notified"
    APPEALED = "appealed"
    UPHELD = "upheld"
    CANCELLED = "cancelled"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class TicketTransition:
    """One recorded change of a ticket's state: who did it, when, and why."""

    from_state: TicketState | None
    to_state: TicketState
    actor: str
    ts_ms: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ETicket:
    """An e-ticket (e-challan) for one violation (streams ``ticket.issued`` / ``ticket.updated``).

    Attributes:
        ticket_id: Ticket number people type (``ET-XXXX-XXXX-XXXX``), derived from the
            violation id, so the same violation always gets the same number.
        violation_id: The violation it is for (one ticket per violation).
        kind: Violation kind.
        state: Current state.
        camera_id: Camera.
        segment_id: Road segment.
        ts_ms: Time of the violation.
        issued_ts_ms: When the ticket was created.
        label: Vehicle class.
        plate: Plate text, or None (manual review).
        plate_confidence: 0-1.
        fine_pkr: Fine in Pakistani rupees.
        speed_kmh: Measured speed, if relevant.
        limit_kmh: Limit, if relevant.
        location: (lat, lon).
        evidence: SHA-256 ids of the evidence files.
        transitions: Every state change so far, oldest first.
        details: Extra facts.
        track_id: Track id of the vehicle.
    """

    ticket_id: str
    violation_id: str
    kind: IncidentKind
    state: TicketState
    camera_id: str
    segment_id: str
    ts_ms: int
    issued_ts_ms: int
    label: str
    plate: str | None
    plate_confidence: float
    fine_pkr: int
    speed_kmh: float | None = None
    limit_kmh: float | None = None
    location: tuple[float, float] | None = None
    evidence: tuple[str, ...] = ()
    transitions: tuple[TicketTransition, ...] = ()
    details: tuple[tuple[str, str], ...] = ()
    track_id: int = -1


@dataclass(frozen=True, slots=True)
class TicketUpdate:
    """A ticket changed state (stream ``ticket.updated``)."""

    ticket_id: str
    from_state: TicketState | None
    to_state: TicketState
    actor: str
    ts_ms: int
    reason: str = ""
    camera_id: str = ""
