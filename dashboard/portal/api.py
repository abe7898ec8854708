"""The portal's JSON API: citizens (public), the gateway's webhook, and the operators' appeal queue.

Citizens (no login, rate-limited per client; the same 404 for a wrong pair, an unknown number or
a state citizens do not see):

* ``POST /api/v1/portal/lookup`` ``{"ticket", "plate"}`` - the citizen's view of the ticket
* ``POST /api/v1/portal/pay`` ``{"ticket", "plate", "lang"?}`` - starts a payment: ``{"redirect_url", "txn_id"}``
* ``POST /api/v1/portal/appeal`` multipart ``ticket, plate, reason, photo?`` - 201 ``{"appeal_id"}``;
  413 photo too large, 415 not a JPEG/PNG (by its bytes), 409 not appealable or the window closed

Gateway: ``POST /api/v1/payments/callback`` - the signed callback (:mod:`core.payments`): 200
applied or already applied, 401 forged/altered, 400 malformed/stale, 409 replayed, 404 unknown
transaction, 422 wrong amount. Every callback is recorded in ``payment_callbacks``.

Operators and admins: ``GET /api/v1/appeals?state=pending|upheld|cancelled&offset=&limit=``,
``GET /api/v1/appeals/<id>``, ``GET /api/v1/appeals/<id>/photo``,
``POST /api/v1/appeals/<id>/decision`` ``{"decision": "upheld"|"cancelled", "note"?}``.
"""

from __future__ import annotations

import time
from typing import Any

import flask
from werkzeug.exceptions import RequestEntityTooLarge

from archive.appeals import Appeal
from core.clock import now_ms
from dashboard.api_base import BadRequest, _actor, _handle, _int_arg, _json_body, _ok
from dashboard.context import current
from dashboard.http import json_error
from dashboard.portal import flows
from dashboard.portal.gateway import gateway_for
from dashboard.portal.pages import CALLBACK_PATH, RETURN_PATH

bp = flask.Blueprint("safecity_portal_api", __name__)
APPEAL_ID_CHARS = 32


def _refused(e: flows.PortalError) -> flask.Response:
    return json_error(e.status, str(e), {"Retry-After": str(e.retry_after)} if e.status == 429 else None)


@bp.errorhandler(RequestEntityTooLarge)
def _read_too_large(_e: RequestEntityTooLarge) -> flask.Response:
    """A chunked upload that ran past the limit while read (the size guard saw no Content-Length)."""
    kib = current().cfg.portal.appeal_photo_max_bytes // 1024
    return json_error(413, f"upload too large (photo at most {kib} KiB)")


def _arc() -> Any:
    arc = current().archive
    if arc is None:
        raise flows.PortalError(503, "ticket archive unavailable")
    return arc


def _client() -> str:
    return flask.request.remote_addr or "unknown"


@bp.post("/api/v1/portal/lookup")
@_handle
def lookup() -> flask.Response:
    body = _json_body({"ticket", "plate"}, required=("ticket", "plate"))
    ctx = current()
    try:
        flows.rate_check(ctx, "lookup", _client())
        d = flows.find(_arc(), body["ticket"], body["plate"])
        return _ok(flows.view(ctx.cfg, ctx.archive, d, now_ms()))
    except flows.PortalError as e:
        return _refused(e)


@bp.post("/api/v1/portal/pay")
@_handle
def pay() -> flask.Response:
    body = _json_body({"ticket", "plate", "lang"}, required=("ticket", "plate"))
    ctx = current()
    p = ctx.cfg.portal.payment
    base = flask.request.host_url.rstrip("/")
    lang = "ur" if body.get("lang") == "ur" else "en"
    try:
        flows.rate_check(ctx, "pay", _client())
        d = flows.find(_arc(), body["ticket"], body["plate"])
        url = flows.start_payment(
            ctx.archive,
            gateway_for(p),
            d,
            (p.return_url or base + RETURN_PATH) + f"?lang={lang}",
            p.callback_url or base + CALLBACK_PATH,
        )
    except flows.PortalError as e:
        return _refused(e)
    txn = url.split("txn=", 1)[1].split("&", 1)[0]
    return _ok({"redirect_url": url, "txn_id": txn}, 201)


@bp.post("/api/v1/portal/appeal")
@_handle
def appeal() -> flask.Response:
    if flask.request.mimetype != "multipart/form-data":
        raise BadRequest(415, "send multipart/form-data (fields ticket, plate, reason, photo)")
    form = flask.request.form
    unknown = sorted(set(form) - {"ticket", "plate", "reason", "csrf_token", "lang"})
    unknown += sorted(set(flask.request.files) - {"photo"})
    if unknown:
        raise BadRequest(400, f"unknown field(s): {', '.join(unknown)}")
    ctx = current()
    try:
        flows.rate_check(ctx, "appeal", _client())
        d = flows.find(_arc(), form.get("ticket", ""), form.get("plate", ""))
        f = flask.request.files.get("photo")
        data = f.read() if f is not None else None
        a = flows.file_appeal(ctx, d, form.get("reason"), data or None, f.mimetype if f else None, now_ms())
    except flows.PortalError as e:
        return _refused(e)
    return _ok({"appeal_id": a.appeal_id, "ticket_id": a.ticket_id, "state": a.state}, 201)


@bp.post(CALLBACK_PATH)
def payment_callback() -> flask.Response:
    ctx = current()
    if ctx.archive is None:
        return json_error(503, "ticket archive unavailable")
    body = flask.request.get_data(cache=False, as_text=False)
    status, out = flows.handle_callback(
        ctx, gateway_for(ctx.cfg.portal.payment), body, flask.request.headers, time.time()
    )
    return _ok(out, status)


# --------------------------------------------------------------------------- operators


def appeal_json(a: Appeal) -> dict[str, Any]:
    return {
        "appeal_id": a.appeal_id,
        "ticket_id": a.ticket_id,
        "state": a.state,
        "reason": a.reason,
        "photo_url": f"/api/v1/appeals/{a.appeal_id}/photo" if a.photo_sha256 else None,
        "photo_sha256": a.photo_sha256,
        "created_ts_ms": a.created_ts_ms,
        "decided_ts_ms": a.decided_ts_ms,
        "decided_by": a.decided_by,
        "decision_note": a.decision_note,
    }


def _appeal(appeal_id: str) -> Appeal:
    if len(appeal_id) > APPEAL_ID_CHARS:
        raise BadRequest(400, "malformed appeal id")
    a = _arc().appeals.get(appeal_id)
    if a is None:
        raise BadRequest(404, f"no appeal {appeal_id}")
    return a


@bp.get("/api/v1/appeals")
@_handle
def list_appeals() -> flask.Response:
    _actor(("operator", "admin"))
    unknown = sorted(set(flask.request.args) - {"state", "offset", "limit"})
    if unknown:
        raise BadRequest(400, f"unknown query parameter(s): {', '.join(unknown)}; allowed: state, offset, limit")
    state = flask.request.args.get("state", "pending")
    if state not in ("pending", "upheld", "cancelled", "all"):
        raise BadRequest(400, "state must be pending, upheld, cancelled or all")
    offset, limit = _int_arg("offset", 0, 0, 10**9), _int_arg("limit", 50, 1, 500)
    rows, total = _arc().appeals.list(None if state == "all" else state, offset, limit)
    return _ok({"total": total, "offset": offset, "limit": limit, "appeals": [appeal_json(a) for a in rows]})


@bp.get("/api/v1/appeals/<appeal_id>")
@_handle
def get_appeal(appeal_id: str) -> flask.Response:
    _actor(("operator", "admin"))
    return _ok(appeal_json(_appeal(appeal_id)))


@bp.get("/api/v1/appeals/<appeal_id>/photo")
@_handle
def appeal_photo(appeal_id: str) -> flask.Response:
    _actor(("operator", "admin"))
    a = _appeal(appeal_id)
    path = _arc().evidence_path(a.photo_sha256) if a.photo_sha256 else None
    if path is None:
        raise BadRequest(404, f"appeal {appeal_id} has no photo")
    resp = flask.send_file(path, mimetype=a.photo_mime or "image/jpeg", max_age=0)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.post("/api/v1/appeals/<appeal_id>/decision")
@_handle
def decide(appeal_id: str) -> flask.Response:
    user, _ = _actor(("operator", "admin"))
    body = _json_body({"decision", "note"}, required=("decision",))
    try:
        a = flows.decide_appeal(current(), _appeal(appeal_id).appeal_id, body["decision"], user, body.get("note") or "")
    except flows.PortalError as e:
        return _refused(e)
    return _ok(appeal_json(a))


__all__ = ["appeal_json", "bp"]
