"""Plate sightings and the audit log of plate searches (tables ``plate_sightings``, ``plate_search_audit``).

A sighting is one voted plate reading from ``plate.read`` (:class:`core.types.PlateRead`): plate,
camera, time, confidence, votes, track id and the plate crop's evidence id. Sightings are
personal data: they are kept ``archive.sightings_retention_days`` and then purged with the crops
nothing else uses (:meth:`SightingRepository.purge`). Every search is recorded with who asked,
what, when and how many sightings it returned (:meth:`SightingRepository.audit`).

Searching is :meth:`SightingRepository.search`: SQL returns the distinct plates of the right
length from ``plate_index`` (a plate more than ``d`` characters longer or shorter cannot be
``d`` edits away; one row per plate, however often it was seen);
:func:`core.sightings.match_plates` (rapidfuzz) picks the plates within the allowed edits; SQL
then returns those plates' sightings in the time window and camera, nearest plates first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from archive.database import Database
from archive.evidence import EvidenceStore
from archive.models import (
    IncidentRecord,
    PlateIndexRecord,
    SearchAuditRecord,
    SightingRecord,
    TicketEvidenceRecord,
)
from archive.paging import page
from core.sightings import PlateQuery, Ranked, length_range, match_plates, rank_key
from core.types import PlateRead

#: Rows deleted per statement when purging.
PURGE_BATCH = 2000


@dataclass(frozen=True, slots=True)
class Sighting:
    """One archived sighting, as a search returns it.

    Attributes:
        plate: Normalised plate text.
        camera_id: Camera id.
        ts_ms: Frame time of the reading (UTC epoch ms).
        confidence: 0-1.
        votes: Readings of the vehicle that agreed.
        track_id: Track of the vehicle.
        crop_sha256: Evidence id of the plate crop, or None.
        distance: Edits between this plate and the one searched (0 = exact).
    """

    plate: str
    camera_id: str
    ts_ms: int
    confidence: float
    votes: int
    track_id: int
    crop_sha256: str | None
    distance: int = 0


@dataclass(frozen=True, slots=True)
class SearchAudit:
    """One audit-log entry: who searched for what, when, with how many results."""

    ts_ms: int
    username: str
    role: str
    source: str
    query: dict[str, Any]
    results: int


class SightingRepository:
    """Sightings and search audit entries in the archive database.

    Args:
        db: The archive database.
        evidence: The evidence store (crops are purged with their sightings).
    """

    def __init__(self, db: Database, evidence: EvidenceStore) -> None:
        self._db = db
        self._evidence = evidence

    # ------------------------------------------------------------------ writing

    def add(self, read: PlateRead, event_id: str, crop_sha256: str | None = None) -> bool:
        """Archive one sighting; False when this event is already there (idempotent by ``event_id``)."""
        crop_path = None
        if crop_sha256 is not None:
            crop_path = self._evidence.stored_key(crop_sha256)
        record = SightingRecord(
            event_id=event_id,
            plate=read.text,
            plate_len=len(read.text),
            camera_id=read.camera_id,
            ts_ms=read.ts_ms,
            confidence=float(read.confidence),
            votes=int(read.votes),
            track_id=int(read.track_id),
            box_json=json.dumps([round(float(c), 1) for c in read.box]),
            crop_sha256=crop_sha256,
            crop_path=crop_path,
        )
        try:
            with self._db.session() as s:
                new = s.scalar(select(SightingRecord.id).where(SightingRecord.event_id == event_id)) is None
                if new:
                    s.add(record)
        except IntegrityError:  # stored by a concurrent consumer (a reclaimed message): same event
            new = False
        # After the row, so a purge that just dropped the plate from the index (its last old
        # sighting gone) cannot leave this new sighting unsearchable.
        self._index_plate(read.text)
        return new

    def _index_plate(self, plate: str) -> None:
        """Put ``plate`` in ``plate_index`` (once; another writer may add it at the same moment)."""
        with self._db.session() as s:
            if s.get(PlateIndexRecord, plate) is not None:
                return
            s.add(PlateIndexRecord(plate=plate, plate_len=len(plate)))
            try:
                s.flush()
            except IntegrityError:  # added by a concurrent writer: same row
                s.rollback()

    def count(self) -> int:
        """Sightings archived."""
        with self._db.session() as s:
            return int(s.scalar(select(func.count()).select_from(SightingRecord)) or 0)

    # ------------------------------------------------------------------ searching

    @staticmethod
    def _filtered(stmt: Select[Any], q: PlateQuery) -> Select[Any]:
        if q.from_ms is not None:
            stmt = stmt.where(SightingRecord.ts_ms >= q.from_ms)
        if q.to_ms is not None:
            stmt = stmt.where(SightingRecord.ts_ms <= q.to_ms)
        if q.camera_id is not None:
            stmt = stmt.where(SightingRecord.camera_id == q.camera_id)
        return stmt

    def search(self, q: PlateQuery) -> list[Sighting]:
        """Sightings of ``q.plate`` and of plates a few edits away (see the module docstring).

        Returns:
            At most ``q.limit`` sightings: exact plate first, then by distance, newest first
            within a distance (:func:`core.sightings.rank`).
        """
        lo, hi = length_range(q.plate)
        with self._db.session() as s:
            index = PlateIndexRecord.__table__.c
            stmt = select(index.plate).where(index.plate_len.between(lo, hi))
            # Core rows, not ORM objects: tens of thousands of plates come back (about 5x faster).
            distances = match_plates(q.plate, s.connection().execute(stmt).scalars().all())
            out: list[Sighting] = []
            for d in sorted(set(distances.values())):
                if len(out) >= q.limit:
                    break
                plates = [p for p, dist in distances.items() if dist == d]
                rows = s.scalars(
                    self._filtered(select(SightingRecord).where(SightingRecord.plate.in_(plates)), q)
                    .order_by(SightingRecord.ts_ms.desc(), SightingRecord.id.desc())
                    .limit(q.limit - len(out))
                ).all()
                out.extend(_sighting(r, d) for r in rows)
        return sorted(out, key=lambda x: rank_key(Ranked(x.plate, x.distance, x.ts_ms)))

    # ------------------------------------------------------------------ retention

    def purge(self, before_ms: int) -> tuple[int, int]:
        """Delete sightings older than ``before_ms`` and the crops nothing else refers to.

        A crop stays while another sighting, a ticket or an incident still uses it.

        Returns:
            ``(sightings deleted, crop files deleted)``.
        """
        deleted, crops = 0, 0
        while True:
            with self._db.session() as s:
                rows = s.execute(
                    select(SightingRecord.id, SightingRecord.crop_sha256, SightingRecord.plate)
                    .where(SightingRecord.ts_ms < before_ms)
                    .limit(PURGE_BATCH)
                ).all()
                if not rows:
                    break
                s.execute(delete(SightingRecord).where(SightingRecord.id.in_([r[0] for r in rows])))
                deleted += len(rows)
                for plate in {r[2] for r in rows}:
                    if s.scalar(select(SightingRecord.id).where(SightingRecord.plate == plate).limit(1)) is None:
                        s.execute(delete(PlateIndexRecord).where(PlateIndexRecord.plate == plate))
                shas = {r[1] for r in rows if r[1]}
                unused = [sha for sha in shas if not self._crop_in_use(s, sha)]
            for sha in unused:
                if self._evidence.delete_evidence(sha):
                    crops += 1
        return deleted, crops

    @staticmethod
    def _crop_in_use(s: Session, sha: str) -> bool:
        if s.scalar(select(SightingRecord.id).where(SightingRecord.crop_sha256 == sha).limit(1)) is not None:
            return True
        if s.scalar(select(TicketEvidenceRecord.sha256).where(TicketEvidenceRecord.sha256 == sha).limit(1)):
            return True
        used = select(IncidentRecord.incident_id).where(IncidentRecord.evidence_json.like(f'%"{sha}"%')).limit(1)
        return s.scalar(used) is not None

    # ------------------------------------------------------------------ audit log

    def audit(self, username: str, role: str, query: dict[str, Any], results: int, source: str = "api") -> None:
        """Record one search: who, what, when (the database clock), how many results."""
        with self._db.session() as s:
            s.add(
                SearchAuditRecord(
                    ts_ms=self._db.clock(),
                    username=username,
                    role=role,
                    source=source,
                    query_json=json.dumps(query, sort_keys=True),
                    results=int(results),
                )
            )

    def audit_log(self, offset: int = 0, limit: int = 100) -> tuple[list[SearchAudit], int]:
        """A page of the audit log, newest first, and the number of entries."""
        with self._db.session() as s:
            order = (SearchAuditRecord.ts_ms.desc(), SearchAuditRecord.id.desc())
            rows, total = page(s, SearchAuditRecord, (), order, offset, limit)
        return [
            SearchAudit(r.ts_ms, r.username, r.role, r.source, json.loads(r.query_json or "{}"), r.results)
            for r in rows
        ], total


def _sighting(r: SightingRecord, distance: int) -> Sighting:
    return Sighting(r.plate, r.camera_id, r.ts_ms, r.confidence, r.votes, r.track_id, r.crop_sha256, distance)


__all__ = ["PURGE_BATCH", "SearchAudit", "Sighting", "SightingRepository"]
