"""Appeals in SQL: what the citizen said (reason, optional photo in the evidence store) and the decision."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from archive.database import Database
from archive.models import AppealRecord
from archive.paging import page

APPEAL_STATES = ("pending", "upheld", "cancelled")


class AppealNotFound(KeyError):
    """No appeal with that id."""


class AppealClosed(ValueError):
    """The appeal was decided already."""


@dataclass(frozen=True, slots=True)
class Appeal:
    """One appeal and its decision (``state`` pending, upheld or cancelled)."""

    appeal_id: str
    ticket_id: str
    state: str
    reason: str
    photo_sha256: str | None
    photo_mime: str | None
    created_ts_ms: int
    decided_ts_ms: int | None
    decided_by: str | None
    decision_note: str


def _view(r: AppealRecord) -> Appeal:
    return Appeal(
        r.appeal_id,
        r.ticket_id,
        r.state,
        r.reason,
        r.photo_sha256,
        r.photo_mime,
        r.created_ts_ms,
        r.decided_ts_ms,
        r.decided_by,
        r.decision_note or "",
    )


class AppealRepository:
    """Appeals in the archive database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self, ticket_id: str, reason: str, photo_sha256: str | None = None, photo_mime: str | None = None
    ) -> Appeal:
        rec = AppealRecord(
            appeal_id="AP-" + secrets.token_hex(8).upper(),
            ticket_id=ticket_id,
            state="pending",
            reason=reason,
            photo_sha256=photo_sha256,
            photo_mime=photo_mime,
            created_ts_ms=self._db.clock(),
            decision_note="",
        )
        with self._db.session() as s:
            s.add(rec)
            s.flush()
            return _view(rec)

    def get(self, appeal_id: str) -> Appeal | None:
        with self._db.session() as s:
            rec = s.get(AppealRecord, appeal_id)
            return None if rec is None else _view(rec)

    def latest_for(self, ticket_id: str) -> Appeal | None:
        """The ticket's most recent appeal, or None."""
        with self._db.session() as s:
            q = (
                select(AppealRecord)
                .where(AppealRecord.ticket_id == ticket_id)
                .order_by(AppealRecord.created_ts_ms.desc())
                .limit(1)
            )
            rec = s.scalars(q).first()
            return None if rec is None else _view(rec)

    def list(self, state: str | None = "pending", offset: int = 0, limit: int = 50) -> tuple[list[Appeal], int]:
        """A page of appeals (oldest first when pending, else newest first) and the total."""
        if state is not None and state not in APPEAL_STATES:
            raise ValueError(f"unknown appeal state {state!r}; use one of {', '.join(APPEAL_STATES)}")
        where = [] if state is None else [AppealRecord.state == state]
        order = AppealRecord.created_ts_ms if state == "pending" else AppealRecord.created_ts_ms.desc()
        with self._db.session() as s:
            recs, total = page(s, AppealRecord, where, (order,), offset, limit)
            return [_view(r) for r in recs], total

    def decide(self, appeal_id: str, decision: str, actor: str, note: str) -> Appeal:
        """Record the decision on a pending appeal.

        Raises:
            AppealNotFound: no such appeal.
            AppealClosed: decided already.
            ValueError: an unknown decision.
        """
        if decision not in ("upheld", "cancelled"):
            raise ValueError("decision must be upheld or cancelled")
        with self._db.session() as s:
            rec = s.scalars(select(AppealRecord).where(AppealRecord.appeal_id == appeal_id).with_for_update()).first()
            if rec is None:
                raise AppealNotFound(appeal_id)
            if rec.state != "pending":
                raise AppealClosed(f"appeal {appeal_id} was decided already ({rec.state})")
            rec.state, rec.decided_by, rec.decision_note = decision, actor, note
            rec.decided_ts_ms = self._db.clock()
            s.flush()
            return _view(rec)


__all__ = ["APPEAL_STATES", "Appeal", "AppealClosed", "AppealNotFound", "AppealRepository"]
