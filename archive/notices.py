"""The notice outbox (``notice_outbox``): queued in the state change's transaction, claimed, sent once.

:func:`queue_for_transition` is called by :meth:`archive.tickets.TicketRepository.transition` inside its
transaction: a ticket entering a state of :data:`core.notices.NOTICE_TEMPLATES` gets one row per channel
(:func:`core.notices.channels_for` the owner's addresses; PDF only when no owner is known). The unique
key ``(ticket_id, template, channel, transition_seq)`` makes that idempotent.

:class:`NoticeOutbox` is the sending side: :meth:`~NoticeOutbox.claim` moves due rows to ``sending``
with a conditional UPDATE (only one process wins a row, on SQLite and PostgreSQL alike) and a lease
(a sender that crashed mid-send has its rows taken back after ``lease_ms``); the outcome is
:meth:`~NoticeOutbox.sent`, :meth:`~NoticeOutbox.failed` (retry later or dead-letter) or
:meth:`~NoticeOutbox.skipped`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from archive.database import Database
from archive.models import TicketRecord
from archive.models_backoffice import NoticeRecord, TicketOwnerRecord
from core.notices import DUE_STATES, NOTICE_TEMPLATES, Channel, NoticeState, channels_for
from core.types import TicketState


@dataclass(frozen=True, slots=True)
class NoticeView:
    """One outbox row as the service and the ticket page see it."""

    notice_id: int
    ticket_id: str
    channel: str
    template: str
    transition_seq: int
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_ms: int
    last_error: str
    result: str
    created_ms: int
    sent_ms: int | None


def queue_for_transition(s: Session, rec: TicketRecord, to: TicketState, seq: int, now: int, reason: str) -> int:
    """Queue the notices of ticket ``rec`` entering ``to`` (transition number ``seq``), in session ``s``.

    Entering a due state (notified, upheld) also clears the due date, for the notices service to set
    from the configured ``fines.due_days``.

    Returns:
        Rows queued (0 when the state sends nothing).
    """
    if to in DUE_STATES:
        rec.due_ts_ms = None
    template = NOTICE_TEMPLATES.get(to)
    if template is None:
        return 0
    owner = s.get(TicketOwnerRecord, rec.ticket_id)
    found = owner is not None and owner.found
    email = owner.email if found and owner is not None else ""
    phone = owner.phone if found and owner is not None else ""
    payload = {
        "name": owner.owner_name if found and owner is not None else "",
        "address": owner.address if found and owner is not None else "",
        "email": email,
        "phone": phone,
        "state": to.value,
        "reason": reason,
        "fine_pkr": rec.fine_pkr,
    }
    n = 0
    for ch in channels_for(email, phone):
        s.add(
            NoticeRecord(
                ticket_id=rec.ticket_id,
                channel=ch.value,
                template=template,
                transition_seq=seq,
                payload_json=json.dumps(payload, sort_keys=True),
                state=NoticeState.PENDING.value,
                attempts=0,
                next_attempt_ms=now,
                claimed_until_ms=0,
                last_error="",
                result="",
                created_ms=now,
            )
        )
        n += 1
    return n


class NoticeOutbox:
    """The sending side of the outbox.

    Args:
        db: The archive database.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def claim(self, limit: int, lease_ms: int = 120_000) -> list[NoticeView]:
        """Take up to ``limit`` due notices for sending (pending and due, or a crashed sender's expired claim).

        Each row is claimed by a conditional UPDATE, so two services never both get it; the claim
        counts as an attempt.
        """
        now = self._db.clock()
        due = or_(
            and_(NoticeRecord.state == NoticeState.PENDING.value, NoticeRecord.next_attempt_ms <= now),
            and_(NoticeRecord.state == NoticeState.SENDING.value, NoticeRecord.claimed_until_ms < now),
        )
        out: list[NoticeView] = []
        with self._db.session() as s:
            cands = s.execute(
                select(NoticeRecord.id, NoticeRecord.state, NoticeRecord.attempts)
                .where(due)
                .order_by(NoticeRecord.next_attempt_ms, NoticeRecord.id)
                .limit(limit)
            ).all()
        for nid, state, attempts in cands:
            with self._db.session() as s:
                res = s.execute(
                    update(NoticeRecord)
                    .where(NoticeRecord.id == nid, NoticeRecord.state == state, NoticeRecord.attempts == attempts)
                    .values(state=NoticeState.SENDING.value, attempts=attempts + 1, claimed_until_ms=now + lease_ms)
                )
                if res.rowcount == 1:  # type: ignore[attr-defined]
                    rec = s.get(NoticeRecord, nid)
                    if rec is not None:
                        out.append(_view(rec))
        return out

    def sent(self, notice_id: int, result: str = "") -> None:
        """The notice went out (``result``: message id, gateway id or the PDF's evidence id)."""
        self._finish(notice_id, state=NoticeState.SENT.value, result=result[:200], sent_ms=self._db.clock())

    def failed(self, notice_id: int, error: str, retry_at_ms: int | None) -> None:
        """Sending failed: retry at ``retry_at_ms``, or dead-letter it (None)."""
        state = NoticeState.PENDING.value if retry_at_ms is not None else NoticeState.DEAD.value
        self._finish(notice_id, state=state, last_error=error[:2000], next_attempt_ms=retry_at_ms or 0)

    def skipped(self, notice_id: int, why: str) -> None:
        """Not sent on purpose (the channel is off)."""
        self._finish(notice_id, state=NoticeState.SKIPPED.value, last_error=why[:2000])

    def _finish(self, notice_id: int, **values: Any) -> None:
        with self._db.session() as s:
            s.execute(
                update(NoticeRecord)
                .where(NoticeRecord.id == notice_id, NoticeRecord.state == NoticeState.SENDING.value)
                .values(claimed_until_ms=0, **values)
            )

    def for_ticket(self, ticket_id: str) -> list[NoticeView]:
        """A ticket's notices, oldest first."""
        with self._db.session() as s:
            rows = s.scalars(
                select(NoticeRecord).where(NoticeRecord.ticket_id == ticket_id).order_by(NoticeRecord.id)
            ).all()
            return [_view(r) for r in rows]

    def get(self, notice_id: int) -> NoticeView | None:
        with self._db.session() as s:
            r = s.get(NoticeRecord, notice_id)
            return None if r is None else _view(r)

    def counts(self) -> dict[str, int]:
        """Notices by state."""
        with self._db.session() as s:
            rows = s.execute(select(NoticeRecord.state, func.count()).group_by(NoticeRecord.state)).all()
        return {str(k): int(v) for k, v in rows}


def _view(r: NoticeRecord) -> NoticeView:
    return NoticeView(
        r.id,
        r.ticket_id,
        r.channel,
        r.template,
        r.transition_seq,
        json.loads(r.payload_json or "{}"),
        r.state,
        r.attempts,
        r.next_attempt_ms,
        r.last_error,
        r.result,
        r.created_ms,
        r.sent_ms,
    )


__all__ = ["Channel", "NoticeOutbox", "NoticeView", "queue_for_transition"]
