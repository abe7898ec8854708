"""One camera's tickets and incidents in a stretch of time: the markers of the recordings' playback timeline."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from archive.database import Database
from archive.models import IncidentRecord, TicketRecord


@dataclass(frozen=True, slots=True)
class TimelineMarker:
    """A ticket or incident of a camera, placed on the timeline at its moment.

    Attributes:
        kind: ``ticket`` or ``incident``.
        id: Ticket id or incident id.
        ts_ms: The moment (capture time).
        what: Violation / incident kind (``red_light``, ``congestion`` ...).
        label: Short text: plate for a ticket, the summary for an incident.
    """

    kind: str
    id: str
    ts_ms: int
    what: str
    label: str


def camera_markers(db: Database, camera_id: str, from_ms: int, to_ms: int, limit: int = 500) -> list[TimelineMarker]:
    """Tickets and incidents of ``camera_id`` in ``[from_ms, to_ms]``, in time order (at most ``limit`` of each)."""
    with db.session() as s:
        tickets = s.execute(
            select(TicketRecord.ticket_id, TicketRecord.ts_ms, TicketRecord.kind, TicketRecord.plate)
            .where(TicketRecord.camera_id == camera_id, TicketRecord.ts_ms.between(from_ms, to_ms))
            .order_by(TicketRecord.ts_ms)
            .limit(limit)
        ).all()
        incidents = s.execute(
            select(IncidentRecord.incident_id, IncidentRecord.ts_ms, IncidentRecord.kind, IncidentRecord.summary)
            .where(IncidentRecord.camera_id == camera_id, IncidentRecord.ts_ms.between(from_ms, to_ms))
            .order_by(IncidentRecord.ts_ms)
            .limit(limit)
        ).all()
    out = [TimelineMarker("ticket", t, ts, k, p or "no plate") for t, ts, k, p in tickets]
    out += [TimelineMarker("incident", i, ts, k, (summary or "")[:80]) for i, ts, k, summary in incidents]
    return sorted(out, key=lambda m: (m.ts_ms, m.kind, m.id))


__all__ = ["TimelineMarker", "camera_markers"]
