"""Back-office tables (issue 15): the vehicle register copy, ticket owners, the notice outbox, fine changes.

They share :class:`archive.models.Base` (the archive's metadata) and are created by migration 0002.
Owner data is personal data: it stays in this database (operator side), never in public feeds.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from archive.models import Base


class VehicleRegistrationRecord(Base):
    """One vehicle of the registration register (the SQL-table register; the demo seeds it)."""

    __tablename__ = "vehicle_registrations"

    plate: Mapped[str] = mapped_column(String(16), primary_key=True)
    owner_name: Mapped[str] = mapped_column(String(128))
    cnic_masked: Mapped[str] = mapped_column(String(15), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(128), default="")
    make: Mapped[str] = mapped_column(String(40), default="")
    colour: Mapped[str] = mapped_column(String(20), default="")
    updated_ms: Mapped[int] = mapped_column(BigInteger, default=0)


class TicketOwnerRecord(Base):
    """The owner lookup made for a ticket: who it found (or that nobody was found), from where, when."""

    __tablename__ = "ticket_owners"

    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.ticket_id", ondelete="CASCADE"), primary_key=True)
    found: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(10), default="sql")
    owner_name: Mapped[str] = mapped_column(String(128), default="")
    cnic_masked: Mapped[str] = mapped_column(String(15), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(128), default="")
    make: Mapped[str] = mapped_column(String(40), default="")
    colour: Mapped[str] = mapped_column(String(20), default="")
    looked_up_ms: Mapped[int] = mapped_column(BigInteger, default=0)


class NoticeRecord(Base):
    """One notice to send (email, SMS or PDF), written in the transaction of the state change causing it.

    ``state``: pending -> sending (claimed) -> sent | pending (retry at ``next_attempt_ms``) | dead
    (dead-letter after the last attempt or a permanent refusal); ``skipped`` when the channel is off
    or the owner has no address for it. ``(ticket_id, template, channel, transition_seq)`` is unique,
    so a state change queues each notice once.
    """

    __tablename__ = "notice_outbox"
    __table_args__ = (
        UniqueConstraint("ticket_id", "template", "channel", "transition_seq", name="uq_notice_dedupe"),
        Index("ix_notice_outbox_state_next", "state", "next_attempt_ms"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.ticket_id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    template: Mapped[str] = mapped_column(String(20))
    transition_seq: Mapped[int] = mapped_column(Integer)
    payload_json: Mapped[str] = mapped_column(Text, default="{}")
    state: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    claimed_until_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(String(200), default="")
    created_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    sent_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class FineChangeRecord(Base):
    """A change of a ticket's fine (overdue surcharge): old, new, the rule, who and when."""

    __tablename__ = "ticket_fine_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.ticket_id", ondelete="CASCADE"), index=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(64))
    old_fine_pkr: Mapped[int] = mapped_column(Integer)
    new_fine_pkr: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(120), default="")


__all__ = ["FineChangeRecord", "NoticeRecord", "TicketOwnerRecord", "VehicleRegistrationRecord"]
