"""The archive: tickets, incidents, warden alerts and evidence files, durable in SQL.

``Archive(url)`` works with SQLite (the default ``sqlite:///var/archive.db``) and
PostgreSQL (``postgresql+psycopg2://user@host:5432/db``). Writes are idempotent: a
ticket is keyed by its violation id, an incident by its id, so replays and retries
never duplicate. Evidence files are content-addressed under ``evidence_dir``
(``ab/cd/<sha256>.jpg``), stored once, and their SHA-256 is re-checked on demand.

Methods used by the dashboard: :meth:`Archive.list_tickets`, :meth:`Archive.get_ticket`,
:meth:`Archive.transition`, :meth:`Archive.lookup_public`, :meth:`Archive.export_csv`,
:meth:`Archive.list_incidents`, :meth:`Archive.incident_action`,
:meth:`Archive.evidence_path`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from archive.db import DEFAULT_URL, archive_url, make_engine
from archive.ddl import create_tables
from archive.models import (
    AlertRecord,
    Base,
    EvidenceRecord,
    IncidentActionRecord,
    IncidentRecord,
    TicketEvidenceRecord,
    TicketRecord,
    TicketTransitionRecord,
)
from config.settings import REPO_ROOT, AppConfig, resolve_path
from core.anpr import normalize_plate_text
from core.clock import now_ms
from core.incidents import STATE_AFTER, IncidentView, InvalidAction, next_state, validate_action
from core.tickets import InvalidTransition, normalise_ticket_id
from core.tickets import transition as ticket_transition
from core.types import (
    ETicket,
    Incident,
    IncidentKind,
    IncidentUpdate,
    Priority,
    TicketState,
    TicketTransition,
    WardenAlert,
)

SHA256_HEX = frozenset("0123456789abcdef")

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
CSV_COLUMNS = (
    "ticket_id",
    "state",
    "kind",
    "time_utc",
    "camera_id",
    "segment_id",
    "label",
    "plate",
    "fine_pkr",
    "speed_kmh",
    "limit_kmh",
    "lat",
    "lon",
    "evidence_sha256",
)


class TicketNotFound(KeyError):
    """No ticket with that number."""


class IncidentNotFound(KeyError):
    """No incident with that id."""


class EvidenceError(ValueError):
    """Evidence bytes that do not match their SHA-256, or a malformed id."""


# --------------------------------------------------------------------------- views


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


@dataclass(frozen=True, slots=True)
class CitizenTicketView:
    """What a citizen sees after giving the ticket number and the plate: no other personal data."""

    ticket_id: str
    kind: str
    state: str
    ts_ms: int
    camera_id: str
    segment_id: str
    location: tuple[float, float] | None
    fine_pkr: int
    speed_kmh: float | None
    limit_kmh: float | None
    evidence_sha256: tuple[str, ...]


# --------------------------------------------------------------------------- archive


class Archive:
    """Repository over the archive tables and the evidence directory.

    Args:
        url: SQLAlchemy URL.
        evidence_dir: Where evidence files go (created on demand).
        create: Create missing tables.
        clock: Wall clock (ms), for tests.
    """

    def __init__(
        self,
        url: str,
        evidence_dir: Path | None = None,
        create: bool = True,
        clock: Any = now_ms,
    ) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self.evidence_dir = evidence_dir or (REPO_ROOT / "var" / "evidence")
        self.clock = clock
        if create:
            self._create_tables()

    def _create_tables(self) -> None:
        """Create missing tables; tolerates another process creating them at the same moment."""
        create_tables(Base.metadata, self.engine)

    @classmethod
    def from_config(cls, cfg: AppConfig) -> Archive:
        return cls(archive_url(cfg), resolve_path(cfg.archive.evidence_dir))

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        s = self._session()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    # ------------------------------------------------------------------ evidence files

    def _evidence_file(self, sha: str, ext: str = ".jpg") -> Path:
        return self.evidence_dir / sha[:2] / sha[2:4] / f"{sha}{ext}"

    def store_evidence(self, data: bytes, sha256: str | None = None, mime: str = "image/jpeg") -> str:
        """Store a file once by content; returns its SHA-256 hex.

        Raises:
            EvidenceError: ``sha256`` given and not the hash of ``data``.
        """
        sha = hashlib.sha256(data).hexdigest()
        if sha256 is not None and sha256 != sha:
            raise EvidenceError(f"evidence bytes do not match their id {sha256[:12]}...")
        path = self._evidence_file(sha, ".png" if mime == "image/png" else ".jpg")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        with self.session() as s:
            if s.get(EvidenceRecord, sha) is None:
                s.add(
                    EvidenceRecord(
                        sha256=sha,
                        mime=mime,
                        size=len(data),
                        path=str(path.relative_to(self.evidence_dir)),
                        created_ts_ms=self.clock(),
                    )
                )
                try:
                    s.flush()
                except IntegrityError:  # stored by a concurrent writer: same content
                    s.rollback()
        return sha

    def evidence_path(self, sha256: str) -> Path | None:
        """Path of a stored evidence file, or None (unknown id or file missing)."""
        if len(sha256) != 64 or not set(sha256) <= SHA256_HEX:
            return None
        with self.session() as s:
            rec = s.get(EvidenceRecord, sha256)
        if rec is None:
            return None
        p = self.evidence_dir / rec.path
        return p if p.is_file() else None

    def verify_evidence(self, sha256: str) -> bool:
        """True when the stored file exists and still hashes to its id."""
        p = self.evidence_path(sha256)
        return p is not None and hashlib.sha256(p.read_bytes()).hexdigest() == sha256

    # ------------------------------------------------------------------ tickets

    def add_ticket(self, ticket: ETicket, evidence_roles: Sequence[str] = (), missing: Sequence[str] = ()) -> bool:
        """Archive a new ticket with its history and evidence links.

        Args:
            ticket: The ticket (its ``transitions`` are written as the history).
            evidence_roles: Role of each evidence id (``frame``/``plate``), same order.
            missing: Evidence ids that could not be stored (kept, flagged not present).

        Returns:
            True when created, False when a ticket for the same violation already exists.
        """
        now = self.clock()
        lat, lon = ticket.location if ticket.location else (None, None)
        try:
            with self.session() as s:
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
        with self.session() as s:
            return s.scalar(select(func.count()).where(TicketRecord.violation_id == violation_id)) > 0

    def _filtered(self, q: Select[Any], f: TicketFilter) -> Select[Any]:
        if f.states:
            q = q.where(TicketRecord.state.in_([TicketState(x).value for x in f.states]))
        if f.kinds:
            q = q.where(TicketRecord.kind.in_([IncidentKind(x).value for x in f.kinds]))
        if f.camera_id:
            q = q.where(TicketRecord.camera_id == f.camera_id)
        if f.segment_id:
            q = q.where(TicketRecord.segment_id == f.segment_id)
        if f.plate:
            q = q.where(TicketRecord.plate == normalize_plate_text(f.plate))
        if f.since_ms is not None:
            q = q.where(TicketRecord.ts_ms >= f.since_ms)
        if f.until_ms is not None:
            q = q.where(TicketRecord.ts_ms <= f.until_ms)
        if f.needs_plate is True:
            q = q.where(TicketRecord.plate.is_(None))
        elif f.needs_plate is False:
            q = q.where(TicketRecord.plate.is_not(None))
        return q

    def list_tickets(
        self, filters: TicketFilter | None = None, sort: str = "-ts", offset: int = 0, limit: int = 50
    ) -> tuple[list[TicketRow], int]:
        """A page of tickets and the total matching.

        Raises:
            ValueError: unknown ``sort`` (see :data:`TICKET_SORTS`) or a negative offset/limit.
        """
        if sort not in TICKET_SORTS:
            raise ValueError(f"unknown sort {sort!r}; use one of {', '.join(TICKET_SORTS)}")
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must be >= 0")
        f = filters or TicketFilter()
        with self.session() as s:
            total = int(s.scalar(self._filtered(select(func.count()).select_from(TicketRecord), f)) or 0)
            q = self._filtered(select(TicketRecord), f).order_by(TICKET_SORTS[sort], TicketRecord.ticket_id)
            rows = [_row_view(r) for r in s.scalars(q.offset(offset).limit(limit))]
        return rows, total

    def review_queue(self, offset: int = 0, limit: int = 50) -> tuple[list[TicketRow], int]:
        """Tickets waiting for an operator (issued, under review), oldest first."""
        return self.list_tickets(
            TicketFilter(states=(TicketState.ISSUED, TicketState.UNDER_REVIEW)), "ts", offset, limit
        )

    def _detail(self, s: Session, rec: TicketRecord) -> TicketDetail:
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

    def get_ticket(self, ticket_id: str) -> TicketDetail | None:
        """A ticket with its evidence list (SHA-256 each) and transitions, or None."""
        with self.session() as s:
            rec = s.get(TicketRecord, normalise_ticket_id(ticket_id))
            return None if rec is None else self._detail(s, rec)

    def transition(
        self, ticket_id: str, to: TicketState | str, actor: str, reason: str = "", plate: str | None = None
    ) -> TicketDetail:
        """Move a ticket to another state, recording who and when.

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
            plate = normalize_plate_text(plate)
            if not 2 <= len(plate) <= 12:
                raise ValueError("plate must have 2-12 letters or digits")
        tid = normalise_ticket_id(ticket_id)
        try:
            with self.session() as s:
                rec = s.scalars(select(TicketRecord).where(TicketRecord.ticket_id == tid).with_for_update()).first()
                if rec is None:
                    raise TicketNotFound(tid)
                cur = self._detail(s, rec).ticket
                new = ticket_transition(cur, target, actor, self.clock(), reason, plate=plate)
                rec.state, rec.plate, rec.plate_confidence = new.state.value, new.plate, new.plate_confidence
                rec.updated_ts_ms = new.transitions[-1].ts_ms
                s.add(_transition_record(tid, len(cur.transitions), new.transitions[-1]))
                s.flush()
                return self._detail(s, rec)
        except IntegrityError:
            raise InvalidTransition(f"ticket {tid} was changed at the same time; reload and try again") from None

    def set_plate_if_missing(self, ticket_id: str, plate: str, confidence: float, actor: str = "system") -> bool:
        """Fill in a plate read after the ticket was issued (no state change); False when it has one."""
        with self.session() as s:
            rec = s.get(TicketRecord, ticket_id)
            if rec is None or rec.plate:
                return False
            rec.plate, rec.plate_confidence, rec.updated_ts_ms = normalize_plate_text(plate), confidence, self.clock()
            return True

    def lookup_public(self, ticket_id: str, plate: str) -> CitizenTicketView | None:
        """A citizen's view of their ticket: both the number and the plate must match (else None).

        Tickets without a plate, or voided ones, are never shown.
        """
        tid = normalise_ticket_id(ticket_id)
        want = normalize_plate_text(plate)
        if not want:
            return None
        with self.session() as s:
            rec = s.get(TicketRecord, tid)
            if rec is None or not rec.plate or rec.plate != want or rec.state == TicketState.VOID.value:
                return None
            evs = s.scalars(
                select(TicketEvidenceRecord.sha256)
                .where(TicketEvidenceRecord.ticket_id == tid)
                .order_by(TicketEvidenceRecord.position)
            ).all()
            return CitizenTicketView(
                ticket_id=rec.ticket_id,
                kind=rec.kind,
                state=rec.state,
                ts_ms=rec.ts_ms,
                camera_id=rec.camera_id,
                segment_id=rec.segment_id,
                location=(rec.lat, rec.lon) if rec.lat is not None and rec.lon is not None else None,
                fine_pkr=rec.fine_pkr,
                speed_kmh=rec.speed_kmh,
                limit_kmh=rec.limit_kmh,
                evidence_sha256=tuple(evs),
            )

    def export_csv(self, filters: TicketFilter | None = None, batch: int = 500) -> Iterator[str]:
        """CSV text of the matching tickets (header first), one chunk per batch of rows."""
        f = filters or TicketFilter()
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        yield buf.getvalue()
        offset = 0
        while True:
            buf.seek(0)
            buf.truncate()
            with self.session() as s:
                q = self._filtered(select(TicketRecord), f).order_by(TicketRecord.ts_ms, TicketRecord.ticket_id)
                recs = s.scalars(q.offset(offset).limit(batch)).all()
                if not recs:
                    return
                ev: dict[str, list[str]] = {}
                for e in s.scalars(
                    select(TicketEvidenceRecord)
                    .where(TicketEvidenceRecord.ticket_id.in_([r.ticket_id for r in recs]))
                    .order_by(TicketEvidenceRecord.ticket_id, TicketEvidenceRecord.position)
                ):
                    ev.setdefault(e.ticket_id, []).append(e.sha256)
            for r in recs:
                w.writerow(
                    [
                        r.ticket_id,
                        r.state,
                        r.kind,
                        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(r.ts_ms / 1000)) + f".{r.ts_ms % 1000:03d}Z",
                        r.camera_id,
                        r.segment_id,
                        r.label,
                        _csv_safe(r.plate or ""),
                        r.fine_pkr,
                        "" if r.speed_kmh is None else f"{r.speed_kmh:.1f}",
                        "" if r.limit_kmh is None else f"{r.limit_kmh:.0f}",
                        "" if r.lat is None else f"{r.lat:.6f}",
                        "" if r.lon is None else f"{r.lon:.6f}",
                        " ".join(ev.get(r.ticket_id, [])),
                    ]
                )
            yield buf.getvalue()
            offset += len(recs)

    def count_tickets(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(TicketRecord)) or 0)

    # ------------------------------------------------------------------ incidents

    def add_incident(self, incident: Incident) -> bool:
        """Archive an incident; False when it is already there (idempotent)."""
        now = self.clock()
        lat, lon = incident.location if incident.location else (None, None)
        try:
            with self.session() as s:
                if s.get(IncidentRecord, incident.incident_id) is not None:
                    return False
                s.add(
                    IncidentRecord(
                        incident_id=incident.incident_id,
                        kind=incident.kind.value,
                        priority=incident.priority.value,
                        state="open",
                        ts_ms=incident.ts_ms,
                        updated_ts_ms=now,
                        camera_id=incident.camera_id,
                        segment_id=incident.segment_id,
                        lat=lat,
                        lon=lon,
                        track_id=incident.track_id,
                        plate=incident.plate,
                        summary=incident.summary,
                        details_json=json.dumps([list(d) for d in incident.details]),
                        evidence_json=json.dumps(list(incident.evidence)),
                    )
                )
        except IntegrityError:
            return False
        return True

    def _incident_view(self, s: Session, r: IncidentRecord, with_actions: bool = False) -> IncidentView:
        history: tuple[IncidentUpdate, ...] = ()
        if with_actions:
            history = tuple(
                IncidentUpdate(r.incident_id, a.action, a.actor, a.ts_ms, a.note, a.assignee, STATE_AFTER[a.action])
                for a in s.scalars(
                    select(IncidentActionRecord)
                    .where(IncidentActionRecord.incident_id == r.incident_id)
                    .order_by(IncidentActionRecord.id)
                )
            )
        incident = Incident(
            incident_id=r.incident_id,
            kind=IncidentKind(r.kind),
            priority=Priority(r.priority),
            ts_ms=r.ts_ms,
            camera_id=r.camera_id,
            segment_id=r.segment_id,
            location=(r.lat, r.lon) if r.lat is not None and r.lon is not None else None,
            track_id=r.track_id,
            plate=r.plate,
            summary=r.summary,
            evidence=tuple(json.loads(r.evidence_json or "[]")),
            details=tuple((str(k), str(v)) for k, v in json.loads(r.details_json or "[]")),
        )
        return IncidentView(incident, r.state, r.assignee, history, r.updated_ts_ms)

    def get_incident(self, incident_id: str) -> IncidentView | None:
        with self.session() as s:
            r = s.get(IncidentRecord, incident_id)
            return None if r is None else self._incident_view(s, r, with_actions=True)

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
        q = select(IncidentRecord)
        c = select(func.count()).select_from(IncidentRecord)
        conds = []
        if states:
            conds.append(IncidentRecord.state.in_(list(states)))
        if kinds:
            conds.append(IncidentRecord.kind.in_([IncidentKind(k).value for k in kinds]))
        if segment_id:
            conds.append(IncidentRecord.segment_id == segment_id)
        if since_ms is not None:
            conds.append(IncidentRecord.ts_ms >= since_ms)
        for cond in conds:
            q, c = q.where(cond), c.where(cond)
        with self.session() as s:
            total = int(s.scalar(c) or 0)
            rows = s.scalars(
                q.order_by(IncidentRecord.ts_ms.desc(), IncidentRecord.incident_id).offset(offset).limit(limit)
            ).all()
            return [self._incident_view(s, r) for r in rows], total

    def incident_action(
        self, incident_id: str, action: str, actor: str, note: str = "", assignee: str | None = None
    ) -> IncidentView:
        """Acknowledge, assign, close, escalate or reopen an incident, recording who and when.

        The rules are :mod:`core.incidents` (:func:`~core.incidents.validate_action`,
        :func:`~core.incidents.next_state`).

        Raises:
            IncidentNotFound: no such incident.
            InvalidAction: unknown action, missing assignee/actor, a note or assignee too long;
                ``core.incidents.ActionNotAllowed`` (a subclass) when the current state does not allow it.
        """
        validate_action(action, actor, note, assignee)
        assignee = assignee.strip() if assignee else None
        with self.session() as s:
            r = s.scalars(
                select(IncidentRecord).where(IncidentRecord.incident_id == incident_id).with_for_update()
            ).first()
            if r is None:
                raise IncidentNotFound(incident_id)
            state = next_state(r.state, action)
            now = self.clock()
            r.state, r.updated_ts_ms = state, now
            if action == "assign":
                r.assignee = assignee
            s.add(
                IncidentActionRecord(
                    incident_id=incident_id, action=action, actor=actor.strip(), ts_ms=now, note=note, assignee=assignee
                )
            )
            s.flush()
            return self._incident_view(s, r, with_actions=True)

    def count_incidents(self, kind: str | None = None) -> int:
        with self.session() as s:
            q = select(func.count()).select_from(IncidentRecord)
            if kind:
                q = q.where(IncidentRecord.kind == kind)
            return int(s.scalar(q) or 0)

    # ------------------------------------------------------------------ alerts

    def save_alert(self, alert: WardenAlert) -> None:
        """Insert or update a warden alert."""
        with self.session() as s:
            r = s.get(AlertRecord, alert.alert_id)
            if r is None:
                r = AlertRecord(alert_id=alert.alert_id)
                s.add(r)
            r.incident_id, r.segment_id = alert.incident_id, alert.segment_id
            r.wardens_json = json.dumps(list(alert.wardens))
            r.ts_ms, r.deadline_ms, r.escalated = alert.ts_ms, alert.deadline_ms, alert.escalated
            r.acked_by, r.acked_ts_ms = alert.acked_by, alert.acked_ts_ms
            r.kind, r.priority, r.summary = alert.kind.value, alert.priority.value, alert.summary

    def get_alert(self, alert_id: str) -> dict[str, Any] | None:
        with self.session() as s:
            r = s.get(AlertRecord, alert_id)
            if r is None:
                return None
            return {
                "alert_id": r.alert_id,
                "incident_id": r.incident_id,
                "segment_id": r.segment_id,
                "wardens": json.loads(r.wardens_json),
                "ts_ms": r.ts_ms,
                "deadline_ms": r.deadline_ms,
                "escalated": r.escalated,
                "acked_by": r.acked_by,
                "acked_ts_ms": r.acked_ts_ms,
                "kind": r.kind,
                "priority": r.priority,
                "summary": r.summary,
            }


def _transition_record(ticket_id: str, seq: int, tr: TicketTransition) -> TicketTransitionRecord:
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


def _csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas (a cell starting with = + - @)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_URL",
    "Archive",
    "CitizenTicketView",
    "EvidenceError",
    "EvidenceItem",
    "IncidentNotFound",
    "IncidentView",
    "InvalidAction",
    "InvalidTransition",
    "TicketDetail",
    "TicketFilter",
    "TicketNotFound",
    "TicketRow",
    "archive_url",
]
