"""Back-office API (issue 15): a ticket's owner, notices and fine changes; the notice PDFs; grouped reports.

Operators and admins (login by :mod:`dashboard.auth`):

* ``GET /api/v1/tickets/<ticket_id>/notices`` - owner lookup result (CNIC masked), every notice with its
  state (pending, sending, sent, dead, skipped), attempts, last error and result, and the fine changes
  (also included in ``GET /api/v1/tickets/<ticket_id>`` as ``backoffice``)
* ``GET /api/v1/tickets/<ticket_id>/notices/<notice_id>.pdf`` - the PDF notice as sent
* ``GET /api/v1/tickets/report?by=state|kind|camera|day&<list filters>`` - counts and fines per group (JSON)
* ``GET /api/v1/tickets/report.csv?by=...`` - the same as CSV
"""

from __future__ import annotations

import time
from typing import Any

import flask
from sqlalchemy import select

from archive import Archive
from archive.models_backoffice import FineChangeRecord
from archive.ticket_reports import REPORT_GROUPS, report_csv, ticket_report
from dashboard.api_base import BadRequest, _actor, _archive, _handle, _ok, bp
from dashboard.ticket_args import _check_ticket_id, _ticket_filter


def backoffice_detail(arc: Archive, ticket_id: str) -> dict[str, Any]:
    """Owner, notices and fine changes of one ticket, as JSON."""
    owner = arc.owners.get(ticket_id)
    with arc.session() as s:
        changes = s.scalars(
            select(FineChangeRecord).where(FineChangeRecord.ticket_id == ticket_id).order_by(FineChangeRecord.id)
        ).all()
        fine_changes = [
            {"ts_ms": c.ts_ms, "actor": c.actor, "from_pkr": c.old_fine_pkr, "to_pkr": c.new_fine_pkr, "rule": c.rule}
            for c in changes
        ]
    return {
        "due_ts_ms": arc.due.get(ticket_id),
        "owner": None
        if owner is None
        else {
            "found": owner[0],
            "looked_up_ms": owner[2],
            **(
                {
                    "name": owner[1].name,
                    "cnic_masked": owner[1].cnic_masked,
                    "address": owner[1].address,
                    "phone": owner[1].phone,
                    "email": owner[1].email,
                    "make": owner[1].make,
                    "colour": owner[1].colour,
                    "source": owner[1].source,
                }
                if owner[1] is not None
                else {}
            ),
        },
        "notices": [
            {
                "id": n.notice_id,
                "channel": n.channel,
                "template": n.template,
                "state": n.state,
                "attempts": n.attempts,
                "next_attempt_ms": n.next_attempt_ms if n.state == "pending" else None,
                "last_error": n.last_error,
                "result": n.result,
                "created_ms": n.created_ms,
                "sent_ms": n.sent_ms,
                "pdf_url": f"/api/v1/tickets/{ticket_id}/notices/{n.notice_id}.pdf"
                if n.channel == "pdf" and n.state == "sent"
                else None,
            }
            for n in arc.notices.for_ticket(ticket_id)
        ],
        "fine_changes": fine_changes,
    }


def _tid(ticket_id: str) -> str:
    return _check_ticket_id(ticket_id)


@bp.get("/api/v1/tickets/<ticket_id>/notices")
@_handle
def ticket_notices(ticket_id: str) -> flask.Response:
    _actor(("operator", "admin"))
    tid = _tid(ticket_id)
    arc = _archive()
    if arc.get_ticket(tid) is None:
        raise BadRequest(404, f"no ticket {tid}")
    return _ok(backoffice_detail(arc, tid))


@bp.get("/api/v1/tickets/<ticket_id>/notices/<int:notice_id>.pdf")
@_handle
def notice_pdf(ticket_id: str, notice_id: int) -> flask.Response:
    _actor(("operator", "admin"))
    tid = _tid(ticket_id)
    arc = _archive()
    n = arc.notices.get(notice_id)
    if n is None or n.ticket_id != tid or n.channel != "pdf":
        raise BadRequest(404, f"no PDF notice {notice_id} for ticket {tid}")
    path = arc.evidence_path(n.result) if n.state == "sent" and n.result else None
    if path is None:
        raise BadRequest(404, f"PDF notice {notice_id} is {n.state}, not stored yet")
    resp = flask.send_file(path, mimetype="application/pdf", download_name=f"{tid}-{n.template}.pdf")
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _report_args() -> tuple[str, Any]:
    by = flask.request.args.get("by", "state")
    if by not in REPORT_GROUPS:
        raise BadRequest(400, f"unknown report grouping {by!r}; use by= one of {', '.join(REPORT_GROUPS)}")
    return by, _ticket_filter(frozenset({"by"}))


@bp.get("/api/v1/tickets/report")
@_handle
def report() -> flask.Response:
    _actor(("operator", "admin"))
    by, flt = _report_args()
    rows = ticket_report(_archive().db, by, flt)
    return _ok(
        {
            "by": by,
            "groups": [
                {
                    "key": r.key,
                    "tickets": r.tickets,
                    "fines_pkr": r.fines_pkr,
                    "original_fines_pkr": r.original_fines_pkr,
                }
                for r in rows
            ],
        }
    )


@bp.get("/api/v1/tickets/report.csv")
@_handle
def report_as_csv() -> flask.Response:
    _actor(("operator", "admin"))
    by, flt = _report_args()
    resp = flask.Response(report_csv(_archive().db, by, flt), mimetype="text/csv")
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    resp.headers["Content-Disposition"] = f'attachment; filename="ticket-report-{by}-{stamp}.csv"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


__all__ = ["backoffice_detail"]
