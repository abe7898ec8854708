"""Due dates and overdue tickets: set a due ticket's pay-by time, find those past it, grow their fine."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from archive.database import Database
from archive.models import TicketRecord, TicketTransitionRecord
from archive.tickets import change_fine
from core.notices import DUE_STATES, due_ms
from core.types import TicketState


@dataclass(frozen=True, slots=True)
class DueTicket:
    """A ticket whose due date has passed (or an overdue one whose surcharge may grow)."""

    ticket_id: str
    state: str
    fine_pkr: int
    original_fine_pkr: int
    due_ts_ms: int


class DueDates:
    """Due dates in the ``tickets`` table.

    Args:
        db: The archive database.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def fill(self, due_days: int, limit: int = 500) -> int:
        """Give tickets in a due state without a due date one: entry time into the state + ``due_days``."""
        n = 0
        with self._db.session() as s:
            recs = s.scalars(
                select(TicketRecord)
                .where(TicketRecord.state.in_([x.value for x in DUE_STATES]), TicketRecord.due_ts_ms.is_(None))
                .limit(limit)
            ).all()
            for rec in recs:
                entered = s.scalar(
                    select(TicketTransitionRecord.ts_ms)
                    .where(
                        TicketTransitionRecord.ticket_id == rec.ticket_id, TicketTransitionRecord.to_state == rec.state
                    )
                    .order_by(TicketTransitionRecord.seq.desc())
                    .limit(1)
                )
                rec.due_ts_ms = due_ms(int(entered if entered is not None else rec.updated_ts_ms), due_days)
                n += 1
        return n

    def past_due(self, now_ms: int, limit: int = 500) -> list[DueTicket]:
        """Tickets past their due date: in a due state (to become overdue) or already overdue (surcharge steps)."""
        states = [x.value for x in DUE_STATES] + [TicketState.OVERDUE.value]
        with self._db.session() as s:
            recs = s.scalars(
                select(TicketRecord)
                .where(TicketRecord.state.in_(states), TicketRecord.due_ts_ms.is_not(None))
                .where(TicketRecord.due_ts_ms < now_ms)
                .order_by(TicketRecord.due_ts_ms)
                .limit(limit)
            ).all()
            return [
                DueTicket(
                    r.ticket_id,
                    r.state,
                    r.fine_pkr,
                    r.original_fine_pkr if r.original_fine_pkr is not None else r.fine_pkr,
                    int(r.due_ts_ms or 0),
                )
                for r in recs
            ]

    def get(self, ticket_id: str) -> int | None:
        """A ticket's due date (UTC ms), or None."""
        with self._db.session() as s:
            rec = s.get(TicketRecord, ticket_id)
            return None if rec is None else rec.due_ts_ms

    def set_fine(self, ticket_id: str, new_pkr: int, rule: str, actor: str) -> bool:
        """Change an (overdue) ticket's fine without a state change; recorded. False when unchanged."""
        with self._db.session() as s:
            rec = s.scalars(select(TicketRecord).where(TicketRecord.ticket_id == ticket_id).with_for_update()).first()
            if rec is None or rec.state != TicketState.OVERDUE.value:
                return False
            return change_fine(s, rec, new_pkr, rule, actor, self._db.clock())


__all__ = ["DueDates", "DueTicket"]
