"""Video clips and recording segments in SQL: what is in the blob store, for which ticket/incident, when."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from archive.database import Database
from archive.models import ClipRecord, RecordingSegmentRecord
from archive.timeline import TimelineMarker, camera_markers
from core.types import ClipSaved, RecordingSegment


def _clip(r: ClipRecord) -> ClipSaved:
    return ClipSaved(
        owner_kind=r.owner_kind,
        owner_id=r.owner_id,
        camera_id=r.camera_id,
        ts_ms=r.ts_ms,
        start_ts_ms=r.start_ts_ms,
        end_ts_ms=r.end_ts_ms,
        key=r.key,
        sha256=r.sha256,
        size=r.size,
        duration_s=r.duration_s,
        frames=r.frames,
        width=r.width,
        height=r.height,
        mime=r.mime,
    )


def _segment(r: RecordingSegmentRecord) -> RecordingSegment:
    return RecordingSegment(
        camera_id=r.camera_id,
        ts_ms=r.start_ts_ms,
        end_ts_ms=r.end_ts_ms,
        key=r.key,
        sha256=r.sha256,
        size=r.size,
        duration_s=r.duration_s,
        frames=r.frames,
    )


class ClipRepository:
    """The ``clip_records`` and ``recording_segments`` tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # ------------------------------------------------------------------ clips

    def add_clip(self, c: ClipSaved) -> bool:
        """Record a clip; False when that owner already has one (idempotent)."""
        with self._db.session() as s:
            if s.scalar(
                select(ClipRecord.key).where(ClipRecord.owner_kind == c.owner_kind, ClipRecord.owner_id == c.owner_id)
            ):
                return False
            s.add(
                ClipRecord(
                    key=c.key,
                    owner_kind=c.owner_kind,
                    owner_id=c.owner_id,
                    camera_id=c.camera_id,
                    ts_ms=c.ts_ms,
                    start_ts_ms=c.start_ts_ms,
                    end_ts_ms=c.end_ts_ms,
                    sha256=c.sha256,
                    size=c.size,
                    duration_s=c.duration_s,
                    frames=c.frames,
                    width=c.width,
                    height=c.height,
                    mime=c.mime,
                    created_ts_ms=self._db.clock(),
                )
            )
            try:
                s.flush()
            except IntegrityError:  # a concurrent consumer recorded it
                s.rollback()
                return False
        return True

    def clip_of(self, owner_kind: str, owner_id: str) -> ClipSaved | None:
        """The clip of a violation (``owner_kind="violation"``) or incident, or None."""
        with self._db.session() as s:
            r = s.scalar(select(ClipRecord).where(ClipRecord.owner_kind == owner_kind, ClipRecord.owner_id == owner_id))
            return _clip(r) if r is not None else None

    def owners_with_clips(self, owner_kind: str, owner_ids: Sequence[str]) -> set[str]:
        """Which of ``owner_ids`` have a clip (one query, for lists of tickets/incidents)."""
        if not owner_ids:
            return set()
        with self._db.session() as s:
            rows = s.scalars(
                select(ClipRecord.owner_id).where(
                    ClipRecord.owner_kind == owner_kind, ClipRecord.owner_id.in_(list(owner_ids))
                )
            )
            return set(rows)

    def clips_of_camera(self, camera_id: str, from_ms: int, to_ms: int, limit: int = 500) -> list[ClipSaved]:
        with self._db.session() as s:
            rows = s.scalars(
                select(ClipRecord)
                .where(ClipRecord.camera_id == camera_id, ClipRecord.ts_ms >= from_ms, ClipRecord.ts_ms <= to_ms)
                .order_by(ClipRecord.ts_ms)
                .limit(limit)
            )
            return [_clip(r) for r in rows]

    # ------------------------------------------------------------------ recording segments

    def add_segment(self, seg: RecordingSegment) -> bool:
        """Record a segment; False when it is already there."""
        with self._db.session() as s:
            if s.get(RecordingSegmentRecord, seg.key) is not None:
                return False
            s.add(
                RecordingSegmentRecord(
                    key=seg.key,
                    camera_id=seg.camera_id,
                    start_ts_ms=seg.ts_ms,
                    end_ts_ms=seg.end_ts_ms,
                    sha256=seg.sha256,
                    size=seg.size,
                    duration_s=seg.duration_s,
                    frames=seg.frames,
                    created_ts_ms=self._db.clock(),
                )
            )
            try:
                s.flush()
            except IntegrityError:
                s.rollback()
                return False
        return True

    def segments(self, camera_id: str, from_ms: int, to_ms: int, limit: int = 2000) -> list[RecordingSegment]:
        """Segments of a camera overlapping ``[from_ms, to_ms]``, oldest first."""
        with self._db.session() as s:
            rows = s.scalars(
                select(RecordingSegmentRecord)
                .where(
                    RecordingSegmentRecord.camera_id == camera_id,
                    RecordingSegmentRecord.end_ts_ms >= from_ms,
                    RecordingSegmentRecord.start_ts_ms <= to_ms,
                )
                .order_by(RecordingSegmentRecord.start_ts_ms)
                .limit(limit)
            )
            return [_segment(r) for r in rows]

    def markers(self, camera_id: str, from_ms: int, to_ms: int) -> list[TimelineMarker]:
        """The camera's tickets and incidents in ``[from_ms, to_ms]`` (the playback timeline's markers)."""
        return camera_markers(self._db, camera_id, from_ms, to_ms)

    def segment_at(self, camera_id: str, ts_ms: int) -> RecordingSegment | None:
        """The segment of a camera that holds the moment ``ts_ms`` (or the next one after it), or None."""
        with self._db.session() as s:
            r = s.scalar(
                select(RecordingSegmentRecord)
                .where(RecordingSegmentRecord.camera_id == camera_id, RecordingSegmentRecord.end_ts_ms >= ts_ms)
                .order_by(RecordingSegmentRecord.start_ts_ms)
                .limit(1)
            )
            return _segment(r) if r is not None else None

    def recorded_cameras(self) -> list[str]:
        with self._db.session() as s:
            return sorted(s.scalars(select(RecordingSegmentRecord.camera_id).distinct()))

    def expired_segments(self, older_than_ms: int | None, max_total_bytes: int | None) -> list[RecordingSegment]:
        """Segments to delete, oldest first: those ending before ``older_than_ms``, then the oldest ones
        while the total size is over ``max_total_bytes`` (None = no such limit)."""
        out: list[RecordingSegment] = []
        with self._db.session() as s:
            if older_than_ms is not None:
                rows = s.scalars(
                    select(RecordingSegmentRecord)
                    .where(RecordingSegmentRecord.end_ts_ms < older_than_ms)
                    .order_by(RecordingSegmentRecord.start_ts_ms)
                )
                out = [_segment(r) for r in rows]
            if max_total_bytes is not None:
                gone = {x.key for x in out}
                total = int(s.scalar(select(func.coalesce(func.sum(RecordingSegmentRecord.size), 0))) or 0)
                total -= sum(x.size for x in out)
                if total > max_total_bytes:
                    for r in s.scalars(select(RecordingSegmentRecord).order_by(RecordingSegmentRecord.start_ts_ms)):
                        if total <= max_total_bytes:
                            break
                        if r.key in gone:
                            continue
                        out.append(_segment(r))
                        total -= r.size
        return out

    def drop_segments(self, keys: Sequence[str]) -> int:
        """Remove segment rows (after their blobs were deleted)."""
        if not keys:
            return 0
        with self._db.session() as s:
            res = s.execute(delete(RecordingSegmentRecord).where(RecordingSegmentRecord.key.in_(list(keys))))
            return int(getattr(res, "rowcount", 0) or 0)


__all__ = ["ClipRepository"]
