"""SQLAlchemy 2 tables of the incident and e-ticket archive (SQLite by default, PostgreSQL by URL).

The archive has its own metadata (:class:`Base`); the dashboard keeps its ``dash_``
tables in the same database with separate metadata. Times are UTC epoch milliseconds
(``BigInteger``); personal data (plates, SOS contact) lives only here and in Redis
streams, never in public feeds.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Metadata of the archive tables."""


class TicketRecord(Base):
    """One e-ticket (one per violation: ``violation_id`` is unique)."""

    __tablename__ = "tickets"

    ticket_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    violation_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    segment_id: Mapped[str] = mapped_column(String(64), index=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    issued_ts_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ts_ms: Mapped[int] = mapped_column(BigInteger)
    label: Mapped[str] = mapped_column(String(20))
    plate: Mapped[str | None] = mapped_column(String(16), index=True, nullable=True)
    plate_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    fine_pkr: Mapped[int] = mapped_column(Integer)
    speed_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    limit_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    track_id: Mapped[int] = mapped_column(Integer, default=-1)
    details_json: Mapped[str] = mapped_column(Text, default="[]")
    evidence_missing: Mapped[int] = mapped_column(Integer, default=0)
    original_fine_pkr: Mapped[int | None] = mapped_column(Integer, nullable=True)  # before an overdue surcharge
    due_ts_ms: Mapped[int | None] = mapped_column(BigInteger, index=True, nullable=True)  # pay by (notified/upheld)


class TicketTransitionRecord(Base):
    """A recorded state change of a ticket (``seq`` 0 is the issue)."""

    __tablename__ = "ticket_transitions"
    __table_args__ = (UniqueConstraint("ticket_id", "seq", name="uq_ticket_transition_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.ticket_id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    from_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text, default="")


class EvidenceRecord(Base):
    """A content-addressed evidence file, stored once whatever the number of tickets using it."""

    __tablename__ = "evidence"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    mime: Mapped[str] = mapped_column(String(40), default="image/jpeg")
    size: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(200))
    created_ts_ms: Mapped[int] = mapped_column(BigInteger)


class TicketEvidenceRecord(Base):
    """Which evidence a ticket uses, in order (frames first, then the plate crop)."""

    __tablename__ = "ticket_evidence"

    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.ticket_id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(20), default="frame")
    present: Mapped[bool] = mapped_column(Boolean, default=True)


class IncidentRecord(Base):
    """An incident (congestion, wrong-way, stalled, watch list, SOS ...)."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_state_ts", "state", "ts_ms"),)

    incident_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    priority: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20), default="open")
    ts_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    updated_ts_ms: Mapped[int] = mapped_column(BigInteger)
    camera_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    segment_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    track_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    plate: Mapped[str | None] = mapped_column(String(16), nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    details_json: Mapped[str] = mapped_column(Text, default="[]")
    evidence_json: Mapped[str] = mapped_column(Text, default="[]")
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)


class IncidentActionRecord(Base):
    """Who did what to an incident, and when."""

    __tablename__ = "incident_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.incident_id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AlertRecord(Base):
    """A warden alert and what became of it."""

    __tablename__ = "warden_alerts"

    alert_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    segment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    wardens_json: Mapped[str] = mapped_column(Text, default="[]")
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    deadline_ms: Mapped[int] = mapped_column(BigInteger)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    acked_by: Mapped[str] = mapped_column(String(64), default="")
    acked_ts_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    kind: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10))
    summary: Mapped[str] = mapped_column(Text, default="")


class SightingRecord(Base):
    """One voted plate reading (``plate.read``): where and when a plate was seen. Personal data.

    ``event_id`` is the bus message's idempotent id, so a replayed message is stored once.
    ``crop_sha256`` names the plate crop in the evidence store (None: none, or unreadable).
    Rows older than ``archive.sightings_retention_days`` are purged.
    """

    __tablename__ = "plate_sightings"
    __table_args__ = (
        Index("ix_plate_sightings_len_ts", "plate_len", "ts_ms"),
        Index("ix_plate_sightings_plate_ts", "plate", "ts_ms"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    plate: Mapped[str] = mapped_column(String(16), nullable=False)
    plate_len: Mapped[int] = mapped_column(Integer, nullable=False)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    votes: Mapped[int] = mapped_column(Integer, default=1)
    track_id: Mapped[int] = mapped_column(Integer, default=-1)
    box_json: Mapped[str] = mapped_column(Text, default="[]")
    crop_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    crop_path: Mapped[str | None] = mapped_column(String(200), nullable=True)


class PlateIndexRecord(Base):
    """Each distinct plate that has sightings, by length: what a fuzzy search scans.

    A search's candidates come from here (one row per plate, not per sighting), so its cost grows
    with the number of distinct plates, not with how often they were seen.
    """

    __tablename__ = "plate_index"
    __table_args__ = (Index("ix_plate_index_len_plate", "plate_len", "plate"),)

    plate: Mapped[str] = mapped_column(String(16), primary_key=True)
    plate_len: Mapped[int] = mapped_column(Integer, nullable=False)


class SearchAuditRecord(Base):
    """One plate search: who asked what, when, and how many sightings it returned."""

    __tablename__ = "plate_search_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(10), default="api")
    query_json: Mapped[str] = mapped_column(Text, default="{}")
    results: Mapped[int] = mapped_column(Integer, default=0)


class PaymentAttemptRecord(Base):
    """One payment started from the portal: the transaction id given to the gateway, and its outcome."""

    __tablename__ = "payment_attempts"

    txn_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(20), index=True)
    gateway: Mapped[str] = mapped_column(String(20))
    amount_pkr: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default="started")  # started | paid | failed | cancelled
    created_ts_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    updated_ts_ms: Mapped[int] = mapped_column(BigInteger)


class PaymentCallbackRecord(Base):
    """Every callback the webhook received, accepted or not (forged, replayed, stale, wrong amount ...).

    ``accepted_nonce`` is set only on callbacks whose signature held: unique, so a replay of one
    cannot be applied twice, even by two processes at once.
    """

    __tablename__ = "payment_callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_ts_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    gateway: Mapped[str] = mapped_column(String(20))
    txn_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    accepted_nonce: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    signature_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    status_code: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))  # applied | duplicate | recorded | rejected
    reason: Mapped[str] = mapped_column(Text, default="")
    body_sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text, default="")


class AppealRecord(Base):
    """A citizen's appeal against a ticket and the operator's decision on it."""

    __tablename__ = "appeal_requests"

    appeal_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(20), index=True)
    state: Mapped[str] = mapped_column(String(12), index=True, default="pending")  # pending | upheld | cancelled
    reason: Mapped[str] = mapped_column(Text)
    photo_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    photo_mime: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_ts_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    decided_ts_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")


class NotifyDeliveryRecord(Base):
    """One alert to one notification destination (and Web Push subscription): state and retries."""

    __tablename__ = "notify_deliveries"
    __table_args__ = (Index("ix_notify_deliveries_state_next", "state", "next_try_ms"),)

    delivery_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(64), index=True)
    recipient: Mapped[str] = mapped_column(String(64), default="")
    alert_id: Mapped[str] = mapped_column(String(20), index=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class NotifySubscriptionRecord(Base):
    """A browser's Web Push subscription (a warden's phone), registered on the warden page."""

    __tablename__ = "notify_push_subscriptions"

    subscription_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(20))
    endpoint: Mapped[str] = mapped_column(Text)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    created_ms: Mapped[int] = mapped_column(BigInteger)
    last_ok_ms: Mapped[int] = mapped_column(BigInteger, default=0)


class ClipRecord(Base):
    """A video clip of a violation or incident in the blob store (one per owner)."""

    __tablename__ = "clip_records"
    __table_args__ = (UniqueConstraint("owner_kind", "owner_id", name="uq_clip_owner"),)

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    start_ts_ms: Mapped[int] = mapped_column(BigInteger)
    end_ts_ms: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[float] = mapped_column(Float)
    frames: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(40), default="video/mp4")
    created_ts_ms: Mapped[int] = mapped_column(BigInteger)


class RecordingSegmentRecord(Base):
    """One continuous-recording segment in the blob store."""

    __tablename__ = "recording_segments"
    __table_args__ = (Index("ix_recording_camera_start", "camera_id", "start_ts_ms"),)

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    start_ts_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    end_ts_ms: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[float] = mapped_column(Float)
    frames: Mapped[int] = mapped_column(Integer)
    created_ts_ms: Mapped[int] = mapped_column(BigInteger)


__all__ = [
    "AlertRecord",
    "AppealRecord",
    "Base",
    "ClipRecord",
    "EvidenceRecord",
    "IncidentActionRecord",
    "IncidentRecord",
    "PaymentAttemptRecord",
    "PaymentCallbackRecord",
    "NotifyDeliveryRecord",
    "NotifySubscriptionRecord",
    "PlateIndexRecord",
    "RecordingSegmentRecord",
    "SearchAuditRecord",
    "SightingRecord",
    "TicketEvidenceRecord",
    "TicketRecord",
    "TicketTransitionRecord",
]
