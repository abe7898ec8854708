"""Tickets as CSV for spreadsheets: streamed in batches, spreadsheet formulas neutralised."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator

from sqlalchemy import select

from archive.database import Database
from archive.models import TicketEvidenceRecord, TicketRecord
from archive.tickets import filter_tickets
from archive.views import TicketFilter

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


def export_csv(db: Database, filters: TicketFilter | None = None, batch: int = 500) -> Iterator[str]:
    """CSV text of the matching tickets (header first), one chunk per batch of rows.

    Args:
        db: The archive database.
        filters: Which tickets (all when None).
        batch: Rows read and yielded at a time.
    """
    f = filters or TicketFilter()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    yield buf.getvalue()
    offset = 0
    while True:
        buf.seek(0)
        buf.truncate()
        with db.session() as s:
            q = filter_tickets(select(TicketRecord), f).order_by(TicketRecord.ts_ms, TicketRecord.ticket_id)
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


def _csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas (a cell starting with = + - @)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


__all__ = ["CSV_COLUMNS", "export_csv"]
