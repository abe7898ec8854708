"""Grouped ticket reports: counts and fines by state, offence kind, camera or day, as rows or CSV."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from archive.database import Database
from archive.models import TicketRecord
from archive.tickets import filter_tickets
from archive.views import TicketFilter

#: Report groupings (the ``by`` of :func:`ticket_report`).
REPORT_GROUPS = ("state", "kind", "camera", "day")
REPORT_COLUMNS = ("group", "key", "tickets", "fines_pkr", "original_fines_pkr")
_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One group: its key (state, kind, camera id or UTC day ``YYYY-MM-DD``), tickets, fines (now and as issued)."""

    key: str
    tickets: int
    fines_pkr: int
    original_fines_pkr: int


def ticket_report(db: Database, by: str, filters: TicketFilter | None = None) -> list[ReportRow]:
    """Tickets matching ``filters`` grouped ``by`` one of :data:`REPORT_GROUPS`, in key order.

    Raises:
        ValueError: an unknown grouping.
    """
    if by not in REPORT_GROUPS:
        raise ValueError(f"unknown report grouping {by!r}; use one of {', '.join(REPORT_GROUPS)}")
    key: Any = {
        "state": TicketRecord.state,
        "kind": TicketRecord.kind,
        "camera": TicketRecord.camera_id,
        "day": (TicketRecord.ts_ms / _DAY_MS),
    }[by]
    if by == "day":
        key = func.floor(key)
    original = func.coalesce(TicketRecord.original_fine_pkr, TicketRecord.fine_pkr)
    q = select(key.label("k"), func.count(), func.sum(TicketRecord.fine_pkr), func.sum(original)).select_from(
        TicketRecord
    )
    q = filter_tickets(q, filters or TicketFilter()).group_by("k").order_by("k")
    with db.session() as s:
        rows = s.execute(q).all()
    out = []
    for k, n, fines, orig in rows:
        label = time.strftime("%Y-%m-%d", time.gmtime(int(k) * 86_400)) if by == "day" else str(k)
        out.append(ReportRow(label, int(n), int(fines or 0), int(orig or 0)))
    return out


def report_csv(db: Database, by: str, filters: TicketFilter | None = None) -> Iterator[str]:
    """The report as CSV text (header, then one line per group)."""
    rows = ticket_report(db, by, filters)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(REPORT_COLUMNS)
    for r in rows:
        key = "'" + r.key if r.key[:1] in ("=", "+", "-", "@") else r.key
        w.writerow([by, key, r.tickets, r.fines_pkr, r.original_fines_pkr])
    yield buf.getvalue()


__all__ = ["REPORT_COLUMNS", "REPORT_GROUPS", "ReportRow", "report_csv", "ticket_report"]
