"""What the archive returns about tickets: the list filter, list rows, details with evidence, the citizen's view.

Incidents are returned as :class:`core.incidents.IncidentView`.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.types import ETicket, IncidentKind, TicketState, TicketTransition


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """Filters of :meth:`Archive.list_tickets` (all optional, combined with AND)."""

    states: tuple[TicketState, ...] = ()
    kinds: tuple[IncidentKind, ...] = ()
    camera_id: str | None = None
    segment_id: str | None = None
    plate: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    needs_plate: bool | None = None


@dataclass(frozen=True, slots=True)
class TicketRow:
    """One line of the ticket list."""

    ticket_id: str
    kind: str
    state: str
    camera_id: str
    segment_id: str
    ts_ms: int
    label: str
    plate: str | None
    fine_pkr: int
    speed_kmh: float | None
    limit_kmh: float | None
    updated_ts_ms: int


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """One evidence file of a ticket."""

    sha256: str
    role: str
    position: int
    present: bool
    size: int | None = None
    mime: str = "image/jpeg"


@dataclass(frozen=True, slots=True)
class TicketDetail:
    """A ticket with its evidence and history."""

    ticket: ETicket
    evidence: tuple[EvidenceItem, ...]
    transitions: tuple[TicketTransition, ...]
    updated_ts_ms: int


__all__ = ["EvidenceItem", "TicketDetail", "TicketFilter", "TicketRow"]
