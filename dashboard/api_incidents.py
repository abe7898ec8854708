"""Incidents and warden alerts over the JSON API (routes on :data:`dashboard.api_base.bp`).

Operators: ``GET /api/v1/incidents?state=&kind=&segment=&offset=&limit=`` and
``POST /api/v1/incidents/<incident_id>/action`` ``{"action": ack|assign|close|reopen, "note"?, "assignee"?}``.
Wardens: ``GET /api/v1/warden/alerts`` (their open alerts), ``POST /api/v1/warden/alerts/<alert_id>/ack``.
See :mod:`dashboard.api_tickets` for the whole API and its errors.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import flask

from core.incidents import STATES, IncidentView
from core.types import IncidentKind
from dashboard import incidents
from dashboard.api_base import (
    MAX_LIMIT,
    BadRequest,
    _actor,
    _archive,
    _enum_list,
    _handle,
    _int_arg,
    _json_body,
    _ok,
    bp,
)
from dashboard.context import current
from dashboard.incidents import ActionError, Forbidden, NotAllowed, NotFound, act

log = logging.getLogger("dashboard.tickets")


# --------------------------------------------------------------------------- operators


@bp.get("/api/v1/incidents")
@_handle
def list_incidents() -> flask.Response:
    _actor(("operator", "admin"))
    unknown = sorted(set(flask.request.args) - {"state", "kind", "segment", "since", "offset", "limit"})
    if unknown:
        raise BadRequest(400, f"unknown query parameter(s): {', '.join(unknown)}")
    states = _enum_list("state", str, STATES)
    kinds = _enum_list("kind", str, [k.value for k in IncidentKind])
    since = _int_arg("since", -1, 0, 10**14)
    rows, total = _archive().list_incidents(
        states,
        kinds,
        flask.request.args.get("segment") or None,
        None if since < 0 else since,
        _int_arg("offset", 0, 0, 10**9),
        _int_arg("limit", 100, 1, MAX_LIMIT),
    )
    return _ok({"total": total, "incidents": [_incident(r) for r in rows]})


def _incident(v: IncidentView) -> dict[str, Any]:
    inc = v.incident
    return {
        "incident_id": v.id,
        "kind": v.kind,
        "priority": v.priority,
        "state": v.state,
        "ts_ms": inc.ts_ms,
        "updated_ts_ms": v.updated_ts_ms,
        "camera_id": inc.camera_id,
        "segment_id": inc.segment_id,
        "location": list(inc.location) if inc.location else None,
        "plate": inc.plate,
        "summary": inc.summary,
        "details": dict(inc.details),
        "evidence": list(inc.evidence),
        "assignee": v.assignee,
        "actions": [
            {"action": h.action, "actor": h.actor, "ts_ms": h.ts_ms, "note": h.note, "assignee": h.assignee}
            for h in v.history
        ],
    }


@bp.post("/api/v1/incidents/<incident_id>/action")
@_handle
def incident_action(incident_id: str) -> flask.Response:
    user, _ = _actor(("operator", "admin"))
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", incident_id):
        raise BadRequest(400, "malformed incident id")
    body = _json_body({"action", "note", "assignee"}, required=("action",))
    arc = _archive()
    ctx = current()
    try:
        res = act(
            ctx.bus, arc, ctx.alerts, incident_id, body["action"], user, body.get("note") or "", body.get("assignee")
        )
    except ActionError as e:
        raise BadRequest(_status(e), str(e)) from None
    return _ok(_incident(res.view))


def _status(e: ActionError) -> int:
    """HTTP status of an action that was refused."""
    if isinstance(e, NotFound):
        return 404
    if isinstance(e, NotAllowed):
        return 409
    if isinstance(e, Forbidden):
        return 403
    return 422


# --------------------------------------------------------------------------- wardens


@bp.get("/api/v1/warden/alerts")
@_handle
def warden_alerts() -> flask.Response:
    user, role = _actor(("warden", "operator", "admin"))
    ctx = current()
    try:
        alerts = ctx.alerts.all()
    except Exception as e:  # noqa: BLE001
        log.error("alerts: Redis unavailable: %s", e)
        raise BadRequest(503, "alerts unavailable: Redis unreachable") from None
    mine = [a for a in alerts.values() if role != "warden" or user in a.wardens]
    mine.sort(key=lambda a: -a.ts_ms)
    return _ok({"alerts": [_alert(a) for a in mine]})


def _alert(a: Any) -> dict[str, Any]:
    return {
        "alert_id": a.alert_id,
        "incident_id": a.incident_id,
        "segment_id": a.segment_id,
        "kind": a.kind.value,
        "priority": a.priority.value,
        "summary": a.summary,
        "ts_ms": a.ts_ms,
        "deadline_ms": a.deadline_ms,
        "escalated": a.escalated,
        "acked_by": a.acked_by or None,
        "acked_ts_ms": a.acked_ts_ms or None,
        "wardens": list(a.wardens),
    }


@bp.post("/api/v1/warden/alerts/<alert_id>/ack")
@_handle
def warden_ack(alert_id: str) -> flask.Response:
    user, role = _actor(("warden", "operator", "admin"))
    if not re.fullmatch(r"[0-9a-f]{20}", alert_id):
        raise BadRequest(400, "malformed alert id")
    ctx = current()
    try:
        alert = incidents.ack_alert(
            ctx.alerts, ctx.bus, ctx.archive, alert_id, user, any_alert=role in ("operator", "admin")
        )
    except ActionError as e:
        raise BadRequest(_status(e), str(e)) from None
    except Exception as e:  # noqa: BLE001
        log.error("ack: Redis unavailable: %s", e)
        raise BadRequest(503, "alerts unavailable: Redis unreachable") from None
    return _ok(_alert(alert))
