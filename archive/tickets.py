"""Tickets: the e-ticket aggregate (ticket, its transitions and its evidence links) in SQL.

A ticket is keyed by its number and unique per violation, so writes are idempotent;
state changes go through :func:`core.tickets.transition` and are recorded with who and when.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.database import Database
from archive.errors import InvalidTransition, TicketNotFound
from archive.models import EvidenceRecord, TicketEvidenceRecord, TicketRecord, TicketTransitionRecord
from archive.models_backoffice import FineChangeRecord
from archive.notices import queue_for_transition
from archive.paging import page
from archive.views import EvidenceItem, TicketDetail, TicketFilter, TicketRow
from core.anpr import normalise_plate_text
from core.tickets import normalise_ticket_id
from core.tickets import transition as ticket_transition
from core.types import ETicket, IncidentKind, TicketState, TicketTransition

TICKET_SORTS = {
    "ts": TicketRecord.ts_ms,
    "-ts": TicketRecord.ts_ms.desc(),
    "fine": TicketRecord.fine_pkr,
    "-fine": TicketRecord.fine_pkr.desc(),
    "state": TicketRecord.state,
    "kind": TicketRecord.kind,
    "camera": TicketRecord.camera_id,
    "-updated": TicketRecord.updated_ts_ms.desc(),
}


class TicketRepository:
    """Tickets in the archive database.

    Args:
        db: The archive database.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_ticket(self, ticket: ETicket, evidence_roles: Sequence[str] = (), missing: Sequence[str] = ()) -> bool:
        """Archive a new ticket with its history and evidence links.

        Args:
            ticket: The ticket (its ``transitions`` are written as the history).
            evidence_roles: Role of each evidence id (``frame``/``plate``), same order.
            missing: Evidence ids that could not be stored (kept, flagged not present).

        Returns:
            True when created, False when a ticket for the same violation already exists.
        """
        now = self._db.clock()
        lat, lon = ticket.location if ticket.location else (None, None)
        try:
            with self._db.session() as s:
                if s.get(TicketRecord, ticket.ticket_id) is not None:
                    return False
                s.add(
                    TicketRecord(
                        ticket_id=ticket.ticket_id,
                        violation_id=ticket.violation_id,
                        kind=ticket.kind.value,
                        state=ticket.state.value,
                        camera_id=ticket.camera_id,
                        segment_id=ticket.segment_id,
                        ts_ms=ticket.ts_ms,
                        issued_ts_ms=ticket.issued_ts_ms,
                        updated_ts_ms=(ticket.transitions[-1].ts_ms if ticket.transitions else now),
                        label=ticket.label,
                        plate=ticket.plate,
                        plate_confidence=ticket.plate_confidence,
                        fine_pkr=ticket.fine_pkr,
                        speed_kmh=ticket.speed_kmh,
                        limit_kmh=ticket.limit_kmh,
                        lat=lat,
                        lon=lon,
                        track_id=ticket.track_id,
                        details_json=json.dumps([list(d) for d in ticket.details]),
                        evidence_missing=len(missing),
                    )
                )
                s.flush()
                for i, tr in enumerate(ticket.transitions):
                    s.add(_transition_record(ticket.ticket_id, i, tr))
                for i, sha in enumerate(ticket.evidence):
                    role = evidence_roles[i] if i < len(evidence_roles) else "frame"
                    s.add(
                        TicketEvidenceRecord(
                            ticket_id=ticket.ticket_id, position=i, sha256=sha, role=role, present=sha not in missing
                        )
                    )
        except IntegrityError:
            return False  # a concurrent writer archived the same violation
        return True

    def has_violation(self, violation_id: str) -> bool:
        """True when a ticket for this violation is archived."""
        with self._db.session() as s:
            return (s.scalar(select(func.count()).where(TicketRecord.violation_id == violation_id)) or 0) > 0

    def list_tickets(
        self, filters: TicketFilter | None = None, sort: str = "-ts", offset: int = 0, limit: int = 50
    ) -> tuple[list[TicketRow], int]:
        """A page of tickets and the total matching.

        Raises:
            ValueError: unknown ``sort`` (see :data:`TICKET_SORTS`) or a negative offset/limit.
        """
        if sort not in TICKET_SORTS:
            raise ValueError(f"unknown sort {sort!r}; use one of {', '.join(TICKET_SORTS)}")
        conds = ticket_conditions(filters or TicketFilter())
        with self._db.session() as s:
            recs, total = page(s, TicketRecord, conds, (TICKET_SORTS[sort], TicketRecord.ticket_id), offset, limit)
            return [_row_view(r) for r in recs], total

    def review_queue(self, offset: int = 0, limit: int = 50) -> tuple[list[TicketRow], int]:
        """Tickets waiting for an operator (issued, under review), oldest first."""
        return self.list_tickets(
            TicketFilter(states=(TicketState.ISSUED, TicketState.UNDER_REVIEW)), "ts", offset, limit
        )

    def get_ticket(self, ticket_id: str) -> TicketDetail | None:
        """A ticket with its evidence list (SHA-256 each) and transitions, or None."""
        with self._db.session() as s:
            rec = s.get(TicketRecord, normalise_ticket_id(ticket_id))
            return None if rec is None else ticket_detail(s, rec)

    def transition(
        self,
        ticket_id: str,
        to: TicketState | str,
        actor: str,
        reason: str = "",
        plate: str | None = None,
        fine: tuple[int, str] | None = None,
    ) -> TicketDetail:
        """Move a ticket to another state, recording who and when.

        In the same transaction: the notices the new state sends are queued in the outbox
        (:func:`archive.notices.queue_for_transition`), and ``fine`` (new fine in PKR, the rule that
        set it), when given, replaces the fine (the original is kept, the change recorded).

        Raises:
            TicketNotFound: no such ticket.
            InvalidTransition: not allowed now (or changed concurrently: try again).
            ValueError: a malformed plate.
        """
        try:
            target = TicketState(to)
        except ValueError:
            raise InvalidTransition(
                f"unknown state {to!r}; states: {', '.join(s.value for s in TicketState)}"
            ) from None
        if plate is not None:
            plate = normalise_plate_text(plate)
            if not 2 <= len(plate) <= 12:
                raise ValueError("plate must have 2-12 letters or digits")
        tid = normalise_ticket_id(ticket_id)
        try:
            with self._db.session() as s:
                rec = s.scalars(select(TicketRecord).where(TicketRecord.ticket_id == tid).with_for_update()).first()
                if rec is None:
                    raise TicketNotFound(tid)
                cur = ticket_detail(s, rec).ticket
                new = ticket_transition(cur, target, actor, self._db.clock(), reason, plate=plate)
                rec.state, rec.plate, rec.plate_confidence = new.state.value, new.plate, new.plate_confidence
                rec.updated_ts_ms = new.transitions[-1].ts_ms
                s.add(_transition_record(tid, len(cur.transitions), new.transitions[-1]))
                now = new.transitions[-1].ts_ms
                if fine is not None:
                    change_fine(s, rec, fine[0], fine[1], actor, now)
                queue_for_transition(s, rec, target, len(cur.transitions), now, reason)
                s.flush()
                return ticket_detail(s, rec)
        except IntegrityError:
            raise InvalidTransition(f"ticket {tid} was changed at the same time; reload and try again") from None

    def set_plate_if_missing(self, ticket_id: str, plate: str, confidence: float, actor: str = "system") -> bool:
        """Fill in a plate read after the ticket was issued (no state change); False when it has one."""
        with self._db.session() as s:
            rec = s.get(TicketRecord, ticket_id)
            if rec is None or rec.plate:
                return False
            rec.plate, rec.plate_confidence, rec.updated_ts_ms = (
                normalise_plate_text(plate),
                confidence,
                self._db.clock(),
            )
            return True

    def count_tickets(self) -> int:
        """Number of archived tickets."""
        with self._db.session() as s:
            return int(s.scalar(select(func.count()).select_from(TicketRecord)) or 0)


def change_fine(s: Session, rec: TicketRecord, new_pkr: int, rule: str, actor: str, now: int) -> bool:
    """Set a ticket's fine in session ``s``, keeping the original and recording the change; False when unchanged."""
    if new_pkr == rec.fine_pkr:
        return False
    s.add(
        FineChangeRecord(
            ticket_id=rec.ticket_id,
            ts_ms=now,
            actor=actor,
            old_fine_pkr=rec.fine_pkr,
            new_fine_pkr=new_pkr,
            rule=rule[:120],
        )
    )
    if rec.original_fine_pkr is None:
        rec.original_fine_pkr = rec.fine_pkr
    rec.fine_pkr = new_pkr
    rec.updated_ts_ms = now
    return True


def ticket_conditions(f: TicketFilter) -> list[ColumnElement[bool]]:
    """The conditions a ticket must meet to match ``f`` (all given filters, combined with AND)."""
    conds: list[ColumnElement[bool]] = []
    if f.states:
        conds.append(TicketRecord.state.in_([TicketState(x).value for x in f.states]))
    if f.kinds:
        conds.append(TicketRecord.kind.in_([IncidentKind(x).value for x in f.kinds]))
    if f.camera_id:
        conds.append(TicketRecord.camera_id == f.camera_id)
    if f.segment_id:
        conds.append(TicketRecord.segment_id == f.segment_id)
    if f.plate:
        conds.append(TicketRecord.plate == normalise_plate_text(f.plate))
    if f.since_ms is not None:
        conds.append(TicketRecord.ts_ms >= f.since_ms)
    if f.until_ms is not None:
        conds.append(TicketRecord.ts_ms <= f.until_ms)
    if f.needs_plate is True:
        conds.append(TicketRecord.plate.is_(None))
    elif f.needs_plate is False:
        conds.append(TicketRecord.plate.is_not(None))
    return conds


def filter_tickets(q: Select[Any], f: TicketFilter) -> Select[Any]:
    """``q`` restricted to the tickets matching ``f``."""
    return q.where(*ticket_conditions(f))


def ticket_detail(s: Session, rec: TicketRecord) -> TicketDetail:
    """A ticket row with its transitions and evidence, read in session ``s``."""
    trs = s.scalars(
        select(TicketTransitionRecord)
        .where(TicketTransitionRecord.ticket_id == rec.ticket_id)
        .order_by(TicketTransitionRecord.seq)
    ).all()
    evs = s.scalars(
        select(TicketEvidenceRecord)
        .where(TicketEvidenceRecord.ticket_id == rec.ticket_id)
        .order_by(TicketEvidenceRecord.position)
    ).all()
    sizes = (
        {
            e.sha256: e
            for e in s.scalars(select(EvidenceRecord).where(EvidenceRecord.sha256.in_([e.sha256 for e in evs])))
        }
        if evs
        else {}
    )
    transitions = tuple(
        TicketTransition(
            TicketState(t.from_state) if t.from_state else None, TicketState(t.to_state), t.actor, t.ts_ms, t.reason
        )
        for t in trs
    )
    evidence = tuple(
        EvidenceItem(
            e.sha256,
            e.role,
            e.position,
            bool(e.present and e.sha256 in sizes),
            sizes[e.sha256].size if e.sha256 in sizes else None,
            sizes[e.sha256].mime if e.sha256 in sizes else "image/jpeg",
        )
        for e in evs
    )
    ticket = ETicket(
        ticket_id=rec.ticket_id,
        violation_id=rec.violation_id,
        kind=IncidentKind(rec.kind),
        state=TicketState(rec.state),
        camera_id=rec.camera_id,
        segment_id=rec.segment_id,
        ts_ms=rec.ts_ms,
        issued_ts_ms=rec.issued_ts_ms,
        label=rec.label,
        plate=rec.plate,
        plate_confidence=rec.plate_confidence,
        fine_pkr=rec.fine_pkr,
        speed_kmh=rec.speed_kmh,
        limit_kmh=rec.limit_kmh,
        location=(rec.lat, rec.lon) if rec.lat is not None and rec.lon is not None else None,
        evidence=tuple(e.sha256 for e in evs),
        transitions=transitions,
        details=tuple((str(k), str(v)) for k, v in json.loads(rec.details_json or "[]")),
        track_id=rec.track_id,
    )
    return TicketDetail(ticket, evidence, transitions, rec.updated_ts_ms)


def _transition_record(ticket_id: str, seq: int, tr: TicketTransition) -> TicketTransitionRecord:
    """The row of transition number ``seq`` of a ticket."""
    return TicketTransitionRecord(
        ticket_id=ticket_id,
        seq=seq,
        from_state=tr.from_state.value if tr.from_state else None,
        to_state=tr.to_state.value,
        actor=tr.actor,
        ts_ms=tr.ts_ms,
        reason=tr.reason,
    )


def _row_view(r: TicketRecord) -> TicketRow:
    """One line of the ticket list."""
    return TicketRow(
        r.ticket_id,
        r.kind,
        r.state,
        r.camera_id,
        r.segment_id,
        r.ts_ms,
        r.label,
        r.plate,
        r.fine_pkr,
        r.speed_kmh,
        r.limit_kmh,
        r.updated_ts_ms,
    )


__all__ = ["TICKET_SORTS", "TicketRepository", "change_fine", "filter_tickets", "ticket_conditions", "ticket_detail"]
