"""E-ticket review, CSV export, incident actions and warden acknowledgements.

Operators (login and CSRF by :mod:`dashboard.auth`):

* ``GET  /api/v1/tickets?state=&kind=&camera=&segment=&plate=&needs_plate=&since=&until=&sort=&offset=&limit=``
* ``GET  /api/v1/tickets/review`` - the review queue (issued + under review, oldest first)
* ``GET  /api/v1/tickets/<ticket_id>`` - one ticket with evidence (SHA-256 each) and history
* ``POST /api/v1/tickets/<ticket_id>/transition`` ``{"to", "reason", "plate"?}``
* ``GET  /api/v1/tickets/export.csv`` (same filters as the list)
* back office (:mod:`dashboard.api_backoffice`): a ticket's owner, notices (and their PDFs), fine changes;
  ``GET /api/v1/tickets/report[.csv]?by=state|kind|camera|day`` grouped reports
* ``GET  /api/v1/incidents?state=&kind=&segment=&offset=&limit=``
* ``POST /api/v1/incidents/<incident_id>/action`` ``{"action": ack|assign|close|reopen, "note"?, "assignee"?}``
* ``GET  /api/v1/plates?plate=&from=&to=&camera=&limit=`` - where and when a plate was seen (fuzzy; audited)

Admins: ``GET /api/v1/admin/plate-searches`` - the plate-search audit log.

Wardens: ``GET /api/v1/warden/alerts`` (their open alerts), ``POST /api/v1/warden/alerts/<alert_id>/ack``.
Incident actions and alert acknowledgements are :func:`dashboard.incidents.act` and
:func:`dashboard.incidents.ack_alert`, the functions the incidents and warden pages call, so
both paths apply the same rules (one note limit, ``core.incidents.NOTE_MAX_CHARS``). An
operator's ``ack``/``assign``/``close`` of an incident also acknowledges its warden alert
(the control room has taken it, so it does not escalate).

Citizens look their tickets up through the portal's API (:mod:`dashboard.portal.api`).

Errors are JSON ``{"error", "status"}``: 400 malformed/unknown parameters, 401/403 from
auth, 404 unknown ticket/incident/alert, 409 a transition or action not allowed now,
422 a bad value (plate, state), 429 rate limit, 503 archive or Redis unavailable.

The routes live in two modules on one blueprint (:data:`bp`, from
:mod:`dashboard.api_base`): tickets and the citizen lookup here, incidents and warden
alerts in :mod:`dashboard.api_incidents`, plate search and its audit log in
:mod:`dashboard.api_plates`; importing this module registers them all.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import flask

from archive import InvalidTransition, TicketNotFound
from archive.repository import TICKET_SORTS
from bus.ticket_updates import announce_last
from core.anpr import normalise_plate_text
from core.types import TicketState
from dashboard import api_backoffice, api_incidents, api_plates
from dashboard.api_base import (
    MAX_LIMIT,
    BadRequest,
    _actor,
    _archive,
    _handle,
    _int_arg,
    _json_body,
    _ok,
    bp,
)
from dashboard.api_incidents import _status
from dashboard.context import current
from dashboard.ticket_args import PLATE_RE, _check_ticket_id, _ticket_filter

log = logging.getLogger("dashboard.tickets")


def _row(r: Any) -> dict[str, Any]:
    return {
        "ticket_id": r.ticket_id,
        "kind": r.kind,
        "state": r.state,
        "camera_id": r.camera_id,
        "segment_id": r.segment_id,
        "ts_ms": r.ts_ms,
        "label": r.label,
        "plate": r.plate,
        "fine_pkr": r.fine_pkr,
        "speed_kmh": r.speed_kmh,
        "limit_kmh": r.limit_kmh,
        "updated_ts_ms": r.updated_ts_ms,
    }


def _detail(d: Any) -> dict[str, Any]:
    t = d.ticket
    return {
        "ticket_id": t.ticket_id,
        "violation_id": t.violation_id,
        "kind": t.kind.value,
        "state": t.state.value,
        "camera_id": t.camera_id,
        "segment_id": t.segment_id,
        "ts_ms": t.ts_ms,
        "issued_ts_ms": t.issued_ts_ms,
        "label": t.label,
        "plate": t.plate,
        "plate_confidence": t.plate_confidence,
        "fine_pkr": t.fine_pkr,
        "speed_kmh": t.speed_kmh,
        "limit_kmh": t.limit_kmh,
        "location": list(t.location) if t.location else None,
        "track_id": t.track_id,
        "details": dict(t.details),
        "evidence": [
            {
                "sha256": e.sha256,
                "role": e.role,
                "position": e.position,
                "present": e.present,
                "size": e.size,
                "url": f"/evidence/{e.sha256}",
            }
            for e in d.evidence
        ],
        "transitions": [
            {
                "from": x.from_state.value if x.from_state else None,
                "to": x.to_state.value,
                "actor": x.actor,
                "ts_ms": x.ts_ms,
                "reason": x.reason,
            }
            for x in d.transitions
        ],
        "updated_ts_ms": d.updated_ts_ms,
    }


# --------------------------------------------------------------------------- operators


@bp.get("/api/v1/tickets")
@_handle
def list_tickets() -> flask.Response:
    _actor(("operator", "admin"))
    f = _ticket_filter()
    sort = flask.request.args.get("sort", "-ts")
    if sort not in TICKET_SORTS:
        raise BadRequest(400, f"unknown sort {sort!r}; use one of {', '.join(TICKET_SORTS)}")
    offset = _int_arg("offset", 0, 0, 10**9)
    limit = _int_arg("limit", 50, 1, MAX_LIMIT)
    rows, total = _archive().list_tickets(f, sort, offset, limit)
    return _ok({"total": total, "offset": offset, "limit": limit, "tickets": [_row(r) for r in rows]})


@bp.get("/api/v1/tickets/review")
@_handle
def review_queue() -> flask.Response:
    _actor(("operator", "admin"))
    unknown = sorted(set(flask.request.args) - {"offset", "limit"})
    if unknown:
        raise BadRequest(400, f"unknown query parameter(s): {', '.join(unknown)}; allowed: offset, limit")
    offset, limit = _int_arg("offset", 0, 0, 10**9), _int_arg("limit", 50, 1, MAX_LIMIT)
    rows, total = _archive().review_queue(offset, limit)
    return _ok({"total": total, "offset": offset, "limit": limit, "tickets": [_row(r) for r in rows]})


@bp.get("/api/v1/tickets/export.csv")
@_handle
def export_csv() -> flask.Response:
    _actor(("operator", "admin"))
    f = _ticket_filter()
    arc = _archive()
    resp = flask.Response(arc.export_csv(f), mimetype="text/csv")
    resp.headers["Content-Disposition"] = (
        f'attachment; filename="etickets-{time.strftime("%Y%m%d-%H%M%S", time.gmtime())}.csv"'
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/api/v1/tickets/<ticket_id>")
@_handle
def get_ticket(ticket_id: str) -> flask.Response:
    _actor(("operator", "admin"))
    tid = _check_ticket_id(ticket_id)
    arc = _archive()
    d = arc.get_ticket(tid)
    if d is None:
        raise BadRequest(404, f"no ticket {tid}")
    return _ok({**_detail(d), "backoffice": api_backoffice.backoffice_detail(arc, tid)})


@bp.post("/api/v1/tickets/<ticket_id>/transition")
@_handle
def transition(ticket_id: str) -> flask.Response:
    user, _ = _actor(("operator", "admin"))
    tid = _check_ticket_id(ticket_id)
    body = _json_body({"to", "reason", "plate"}, required=("to",))
    to = body["to"]
    if to not in {s.value for s in TicketState}:
        raise BadRequest(422, f"unknown state {to!r}; use one of {', '.join(s.value for s in TicketState)}")
    reason = (body.get("reason") or "").strip()
    if len(reason) > 1000:
        raise BadRequest(422, "reason is too long (at most 1000 characters)")
    if to == TicketState.VOID.value and not reason:
        raise BadRequest(422, "say why the ticket is void (reason)")
    plate = body.get("plate")
    if plate is not None and not PLATE_RE.match(normalise_plate_text(plate)):
        raise BadRequest(422, "plate must have 2-12 letters or digits")
    arc = _archive()
    before = arc.get_ticket(tid)
    if before is None:
        raise BadRequest(404, f"no ticket {tid}")
    try:
        d = arc.transition(tid, to, user, reason, plate=normalise_plate_text(plate) if plate else None)
    except TicketNotFound:
        raise BadRequest(404, f"no ticket {tid}") from None
    except InvalidTransition as e:
        raise BadRequest(409, str(e)) from None
    except ValueError as e:
        raise BadRequest(422, str(e)) from None
    last = d.transitions[-1]
    announce_last(current().bus, d.ticket, d.transitions)
    log.info(
        "ticket %s: %s -> %s by %s", tid, last.from_state.value if last.from_state else "-", last.to_state.value, user
    )
    return _ok(_detail(d))


__all__ = ["BadRequest", "_status", "api_backoffice", "api_incidents", "api_plates", "bp"]
