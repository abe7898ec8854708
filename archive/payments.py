"""Payments in SQL: each attempt started from the portal and every callback the webhook received.

A callback whose signature held claims its nonce (:meth:`PaymentRepository.claim`): the nonce
column is unique, so the same delivery replayed is refused however many processes receive it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from archive.database import Database
from archive.models import PaymentAttemptRecord, PaymentCallbackRecord

#: Raw callback bodies are kept up to this many characters (the SHA-256 is of the whole body).
BODY_KEEP_CHARS = 4000
ATTEMPT_STATES = ("started", "paid", "failed", "cancelled")


@dataclass(frozen=True, slots=True)
class PaymentAttempt:
    """One payment started from the portal."""

    txn_id: str
    ticket_id: str
    gateway: str
    amount_pkr: int
    state: str
    created_ts_ms: int
    updated_ts_ms: int


@dataclass(frozen=True, slots=True)
class CallbackRow:
    """One received callback and what became of it."""

    id: int
    received_ts_ms: int
    gateway: str
    txn_id: str | None
    signature_ok: bool
    status_code: int
    outcome: str
    reason: str


def _attempt(r: PaymentAttemptRecord) -> PaymentAttempt:
    return PaymentAttempt(r.txn_id, r.ticket_id, r.gateway, r.amount_pkr, r.state, r.created_ts_ms, r.updated_ts_ms)


class PaymentRepository:
    """Payment attempts and callbacks in the archive database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def start(self, ticket_id: str, gateway: str, amount_pkr: int) -> PaymentAttempt:
        """Record a new attempt with a fresh, unguessable transaction id."""
        now = self._db.clock()
        rec = PaymentAttemptRecord(
            txn_id=secrets.token_urlsafe(18),
            ticket_id=ticket_id,
            gateway=gateway,
            amount_pkr=amount_pkr,
            state="started",
            created_ts_ms=now,
            updated_ts_ms=now,
        )
        with self._db.session() as s:
            s.add(rec)
            s.flush()
            return _attempt(rec)

    def get(self, txn_id: str) -> PaymentAttempt | None:
        with self._db.session() as s:
            rec = s.get(PaymentAttemptRecord, txn_id)
            return None if rec is None else _attempt(rec)

    def for_ticket(self, ticket_id: str) -> list[PaymentAttempt]:
        """The ticket's attempts, oldest first."""
        with self._db.session() as s:
            q = (
                select(PaymentAttemptRecord)
                .where(PaymentAttemptRecord.ticket_id == ticket_id)
                .order_by(PaymentAttemptRecord.created_ts_ms)
            )
            return [_attempt(r) for r in s.scalars(q)]

    def set_state(self, txn_id: str, state: str) -> None:
        if state not in ATTEMPT_STATES:
            raise ValueError(f"unknown payment state {state!r}")
        with self._db.session() as s:
            rec = s.get(PaymentAttemptRecord, txn_id)
            if rec is not None:
                rec.state, rec.updated_ts_ms = state, self._db.clock()

    def claim(self, gateway: str, body: bytes, txn_id: str, nonce: str) -> int | None:
        """Record a signed callback and claim its nonce; its row id, or None when the nonce was used (replay)."""
        rec = self._callback(gateway, body, txn_id, True, 102, "processing", "")
        rec.accepted_nonce = nonce
        try:
            with self._db.session() as s:
                s.add(rec)
                s.flush()
                return int(rec.id)
        except IntegrityError:
            return None

    def finish(self, callback_id: int, status_code: int, outcome: str, reason: str = "") -> None:
        """What became of a claimed callback."""
        with self._db.session() as s:
            rec = s.get(PaymentCallbackRecord, callback_id)
            if rec is not None:
                rec.status_code, rec.outcome, rec.reason = status_code, outcome, reason

    def reject(
        self, gateway: str, body: bytes, status_code: int, reason: str, txn_id: str | None, signature_ok: bool
    ) -> None:
        """Record a callback refused before its nonce was claimed (forged, malformed, stale, replayed)."""
        with self._db.session() as s:
            s.add(self._callback(gateway, body, txn_id, signature_ok, status_code, "rejected", reason))

    def callbacks(self, txn_id: str | None = None, limit: int = 100) -> list[CallbackRow]:
        """Received callbacks, newest first (of one transaction when given)."""
        with self._db.session() as s:
            q = select(PaymentCallbackRecord).order_by(PaymentCallbackRecord.id.desc()).limit(limit)
            if txn_id is not None:
                q = q.where(PaymentCallbackRecord.txn_id == txn_id)
            return [
                CallbackRow(
                    r.id, r.received_ts_ms, r.gateway, r.txn_id, r.signature_ok, r.status_code, r.outcome, r.reason
                )
                for r in s.scalars(q)
            ]

    def _callback(
        self, gateway: str, body: bytes, txn_id: str | None, ok: bool, status: int, outcome: str, reason: str
    ) -> PaymentCallbackRecord:
        return PaymentCallbackRecord(
            received_ts_ms=self._db.clock(),
            gateway=gateway,
            txn_id=txn_id[:64] if txn_id else None,
            signature_ok=ok,
            status_code=status,
            outcome=outcome,
            reason=reason[:1000],
            body_sha256=hashlib.sha256(body).hexdigest(),
            body=body[:BODY_KEEP_CHARS].decode("utf-8", "replace"),
        )


__all__ = ["ATTEMPT_STATES", "CallbackRow", "PaymentAttempt", "PaymentRepository"]
