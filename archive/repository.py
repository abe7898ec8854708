"""The archive: tickets, incidents, warden alerts and evidence files, durable in SQL.

``Archive(url)`` works with SQLite (the default ``sqlite:///var/archive.db``) and
PostgreSQL (``postgresql+psycopg2://user@host:5432/db``). Writes are idempotent: a
ticket is keyed by its violation id, an incident by its id, so replays and retries
never duplicate. Evidence files are content-addressed under ``evidence_dir``
(``ab/cd/<sha256>.jpg``), stored once, and their SHA-256 is re-checked on demand.

:class:`Archive` is a facade over one repository per aggregate, sharing one
:class:`~archive.database.Database`: :class:`~archive.tickets.TicketRepository`
(``Archive.tickets``, CSV export in :mod:`archive.ticket_export`),
:class:`~archive.incidents.IncidentRepository` (``Archive.incidents``),
:class:`~archive.alerts.AlertRepository` (``Archive.alerts``),
:class:`~archive.sightings.SightingRepository` (``Archive.sightings``: plate sightings and the
search audit log), :class:`~archive.payments.PaymentRepository` (``Archive.payments``: portal payment
attempts and gateway callbacks), :class:`~archive.appeals.AppealRepository` (``Archive.appeals``),
:class:`~archive.notify.NotifyRepository` (``Archive.notify``: notification deliveries and Web Push
subscriptions),
:class:`~archive.evidence.EvidenceStore` (``Archive.evidence``, files in the blob store of :mod:`storage`),
:class:`~archive.clips.ClipRepository` (``Archive.clips``: video clips and recording segments), and the back office (issue 15):
:class:`~archive.notices.NoticeOutbox` (``Archive.notices``), :class:`~archive.owners.TicketOwners`
(``Archive.owners``), :class:`~archive.owners.SqlOwnerRegister` (``Archive.register``) and
:class:`~archive.duedates.DueDates` (``Archive.due``). Ticket views and errors live
in :mod:`archive.views` and :mod:`archive.errors`, the incident view and rules in
:mod:`core.incidents`, the URL and engine in :mod:`archive.db`; all are re-exported here.

Methods used by the dashboard: :meth:`Archive.list_tickets`, :meth:`Archive.get_ticket`,
:meth:`Archive.transition`, :meth:`Archive.export_csv`,
:meth:`Archive.list_incidents`, :meth:`Archive.incident_action`,
:meth:`Archive.evidence_path`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from archive.alerts import AlertRepository
from archive.appeals import AppealRepository
from archive.clips import ClipRepository
from archive.database import Database
from archive.db import DEFAULT_URL, archive_url
from archive.duedates import DueDates
from archive.errors import EvidenceError, IncidentNotFound, InvalidAction, InvalidTransition, TicketNotFound
from archive.evidence import SHA256_HEX, EvidenceStore
from archive.incidents import IncidentRepository
from archive.notices import NoticeOutbox
from archive.notify import NotifyRepository
from archive.owners import SqlOwnerRegister, TicketOwners
from archive.payments import PaymentRepository
from archive.sightings import SearchAudit, Sighting, SightingRepository
from archive.ticket_export import CSV_COLUMNS, export_csv
from archive.tickets import TICKET_SORTS, TicketRepository
from archive.views import EvidenceItem, TicketDetail, TicketFilter, TicketRow
from config.settings import REPO_ROOT, AppConfig, resolve_path
from core.clock import now_ms
from core.incidents import IncidentView
from core.types import ETicket, Incident, TicketState, WardenAlert
from storage.base import BlobStore


class Archive:
    """Repository over the archive tables and the evidence directory.

    Every method delegates to the repository of its aggregate (``tickets``, ``incidents``,
    ``alerts``, ``evidence``); use those directly in new code that needs one aggregate only.

    Args:
        url: SQLAlchemy URL.
        evidence_dir: Where evidence files go (created on demand).
        create: Create missing tables.
        clock: Wall clock (ms), for tests.
        store: The blob store of evidence files (disk or S3, :mod:`storage`); None = the disk under
            ``evidence_dir``.
    """

    def __init__(
        self,
        url: str,
        evidence_dir: Path | None = None,
        create: bool = True,
        clock: Any = now_ms,
        store: BlobStore | None = None,
    ) -> None:
        self.db = Database(url, clock)
        self.url = url
        self.engine: Engine = self.db.engine
        self.evidence = EvidenceStore(self.db, evidence_dir or (REPO_ROOT / "var" / "evidence"), store)
        self.clips = ClipRepository(self.db)
        self.tickets = TicketRepository(self.db)
        self.incidents = IncidentRepository(self.db)
        self.alerts = AlertRepository(self.db)
        self.sightings = SightingRepository(self.db, self.evidence)
        self.payments = PaymentRepository(self.db)
        self.appeals = AppealRepository(self.db)
        self.notices = NoticeOutbox(self.db)
        self.owners = TicketOwners(self.db)
        self.register = SqlOwnerRegister(self.db)
        self.due = DueDates(self.db)
        self.notify = NotifyRepository(self.db)
        if create:
            self._create_tables()

    @property
    def clock(self) -> Any:
        """Wall clock (UTC epoch ms) of every repository."""
        return self.db.clock

    @clock.setter
    def clock(self, clock: Any) -> None:
        self.db.clock = clock

    @property
    def evidence_dir(self) -> Path:
        """Where evidence files go."""
        return self.evidence.evidence_dir

    @evidence_dir.setter
    def evidence_dir(self, path: Path) -> None:
        self.evidence.evidence_dir = path

    def _create_tables(self) -> None:
        """Create missing tables; tolerates another process creating them at the same moment."""
        self.db.create_tables()

    @classmethod
    def from_config(cls, cfg: AppConfig) -> Archive:
        """The archive the configuration names (``archive.url``, ``archive.evidence_dir``)."""
        from storage import open_store

        return cls(archive_url(cfg), resolve_path(cfg.archive.evidence_dir), store=open_store(cfg))

    def close(self) -> None:
        """Release the database connections."""
        self.db.close()

    def session(self) -> AbstractContextManager[Session]:
        """A session committed when the block ends, rolled back when it raises."""
        return self.db.session()

    # ------------------------------------------------------------------ evidence files

    def store_evidence(self, data: bytes, sha256: str | None = None, mime: str = "image/jpeg") -> str:
        """Store a file once by content; returns its SHA-256 hex (:meth:`EvidenceStore.store_evidence`)."""
        return self.evidence.store_evidence(data, sha256, mime)

    def evidence_path(self, sha256: str) -> Path | None:
        """Path of a stored evidence file on this machine's disk (disk backend), or None."""
        return self.evidence.evidence_path(sha256)

    def has_evidence(self, sha256: str) -> bool:
        """True when the evidence file is recorded and present in the blob store."""
        return self.evidence.has_evidence(sha256)

    def evidence_bytes(self, sha256: str) -> bytes | None:
        """The bytes of a stored evidence file, or None (unknown id or file missing)."""
        return self.evidence.evidence_bytes(sha256)

    @property
    def store(self) -> BlobStore:
        """The blob store of evidence files, clips and recordings."""
        return self.evidence.store

    def verify_evidence(self, sha256: str) -> bool:
        """True when the stored file exists and still hashes to its id."""
        return self.evidence.verify_evidence(sha256)

    # ------------------------------------------------------------------ tickets

    def add_ticket(self, ticket: ETicket, evidence_roles: Sequence[str] = (), missing: Sequence[str] = ()) -> bool:
        """Archive a new ticket; False when one for the same violation exists (:meth:`TicketRepository.add_ticket`)."""
        return self.tickets.add_ticket(ticket, evidence_roles, missing)

    def has_violation(self, violation_id: str) -> bool:
        """True when a ticket for this violation is archived."""
        return self.tickets.has_violation(violation_id)

    def list_tickets(
        self, filters: TicketFilter | None = None, sort: str = "-ts", offset: int = 0, limit: int = 50
    ) -> tuple[list[TicketRow], int]:
        """A page of tickets and the total matching (:meth:`TicketRepository.list_tickets`)."""
        return self.tickets.list_tickets(filters, sort, offset, limit)

    def review_queue(self, offset: int = 0, limit: int = 50) -> tuple[list[TicketRow], int]:
        """Tickets waiting for an operator (issued, under review), oldest first."""
        return self.tickets.review_queue(offset, limit)

    def get_ticket(self, ticket_id: str) -> TicketDetail | None:
        """A ticket with its evidence list (SHA-256 each) and transitions, or None."""
        return self.tickets.get_ticket(ticket_id)

    def transition(
        self,
        ticket_id: str,
        to: TicketState | str,
        actor: str,
        reason: str = "",
        plate: str | None = None,
        fine: tuple[int, str] | None = None,
    ) -> TicketDetail:
        """Move a ticket to another state, recording who and when, queueing its notices (:meth:`TicketRepository.transition`)."""
        return self.tickets.transition(ticket_id, to, actor, reason, plate, fine)

    def set_plate_if_missing(self, ticket_id: str, plate: str, confidence: float, actor: str = "system") -> bool:
        """Fill in a plate read after the ticket was issued (no state change); False when it has one."""
        return self.tickets.set_plate_if_missing(ticket_id, plate, confidence, actor)

    def export_csv(self, filters: TicketFilter | None = None, batch: int = 500) -> Iterator[str]:
        """CSV text of the matching tickets (header first), one chunk per batch of rows."""
        return export_csv(self.db, filters, batch)

    def count_tickets(self) -> int:
        """Number of archived tickets."""
        return self.tickets.count_tickets()

    # ------------------------------------------------------------------ incidents

    def add_incident(self, incident: Incident) -> bool:
        """Archive an incident; False when it is already there (idempotent)."""
        return self.incidents.add_incident(incident)

    def get_incident(self, incident_id: str) -> IncidentView | None:
        """An incident with its action history, or None."""
        return self.incidents.get_incident(incident_id)

    def list_incidents(
        self,
        states: Sequence[str] = (),
        kinds: Sequence[str] = (),
        segment_id: str | None = None,
        since_ms: int | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[IncidentView], int]:
        """A page of incidents, newest first (critical ones first at equal time), and the total."""
        return self.incidents.list_incidents(states, kinds, segment_id, since_ms, offset, limit)

    def incident_action(
        self, incident_id: str, action: str, actor: str, note: str = "", assignee: str | None = None
    ) -> IncidentView:
        """Acknowledge, assign, close, escalate or reopen an incident (:meth:`IncidentRepository.incident_action`)."""
        return self.incidents.incident_action(incident_id, action, actor, note, assignee)

    def count_incidents(self, kind: str | None = None) -> int:
        """Number of archived incidents (of one kind when given)."""
        return self.incidents.count_incidents(kind)

    # ------------------------------------------------------------------ alerts

    def save_alert(self, alert: WardenAlert) -> None:
        """Insert or update a warden alert."""
        self.alerts.save_alert(alert)

    def get_alert(self, alert_id: str) -> dict[str, Any] | None:
        """A warden alert as a dict, or None."""
        return self.alerts.get_alert(alert_id)


__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_URL",
    "SHA256_HEX",
    "TICKET_SORTS",
    "Archive",
    "EvidenceError",
    "EvidenceItem",
    "IncidentNotFound",
    "IncidentView",
    "InvalidAction",
    "InvalidTransition",
    "SearchAudit",
    "Sighting",
    "SightingRepository",
    "TicketDetail",
    "TicketFilter",
    "TicketNotFound",
    "TicketRow",
    "archive_url",
]
