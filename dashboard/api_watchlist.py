"""The watchlist over the JSON API (admins only; :mod:`dashboard.auth` answers 401/403 first).

* ``GET /api/v1/watchlist`` - every entry: ``{"version", "entries": [{plate, reason, priority,
  note, expires_ms, expires, expired, updated_ms, updated_by}]}``; ``?plate=LEA-1234`` gives
  that one entry (404 when not listed).
* ``POST /api/v1/watchlist`` ``{"plate", "reason", "priority"?, "expiry"?, "note"?}`` adds or
  replaces an entry: 201 (new) or 200 (changed) with the entry and the new version.
* ``DELETE /api/v1/watchlist/<plate>`` (or ``DELETE /api/v1/watchlist?plate=...``) removes one:
  200, or 404 when not listed.
* ``GET /api/v1/watchlist/audit?limit=`` - the newest changes (who, when, what).

Bad input gets 400 with a reason (``{"error", "status", "fields"?}``, ``fields`` naming
each bad field); Redis down gives 503. Writes go through :class:`bus.watchlist.RedisWatchlist`
(versioned: running workers pick the change up within their poll, 2 s) and are audited
under the admin's name. Logs never carry the plate.
"""

from __future__ import annotations

import logging
from typing import Any

import flask

from bus.redis_client import REDIS_ERRORS
from bus.watchlist import RedisWatchlist, StoredEntry
from core.anpr.expiry import format_expiry
from core.clock import now_ms
from dashboard.api_base import BadRequest, _actor, _handle, _int_arg, _ok
from dashboard.auth import ADMINS
from dashboard.context import current
from dashboard.watchlist_form import FieldErrors, check_plate, parse_entry

log = logging.getLogger("dashboard.watchlist")

bp = flask.Blueprint("safecity_watchlist", __name__)
BODY_FIELDS = {"plate", "reason", "priority", "expiry", "note"}


def store() -> RedisWatchlist:
    """The Redis watchlist of this dashboard process."""
    return RedisWatchlist(current().store.client)


def entry_json(rec: StoredEntry, at_ms: int) -> dict[str, Any]:
    """One stored entry as the API (and the screen) show it."""
    e = rec.entry
    return {
        "plate": e.plate,
        "reason": e.reason,
        "priority": e.priority.value,
        "note": e.note,
        "expires_ms": e.expires_ms,
        "expires": format_expiry(e.expires_ms) or None,
        "expired": not e.active(at_ms),
        "updated_ms": rec.updated_ms,
        "updated_by": rec.updated_by,
    }


def _fields_error(e: FieldErrors) -> flask.Response:
    resp = flask.jsonify({"error": str(e), "status": 400, "fields": e.errors})
    resp.status_code = 400
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _plate_arg(raw: str | None) -> str:
    try:
        return check_plate(raw)
    except ValueError as e:
        raise BadRequest(400, f"plate: {e}") from None


def _unavailable(e: BaseException) -> BadRequest:
    log.error("watchlist: Redis unavailable: %s", type(e).__name__)
    return BadRequest(503, "watchlist unavailable: Redis unreachable")


@bp.get("/api/v1/watchlist")
@_handle
def list_watchlist() -> flask.Response:
    _actor(ADMINS)
    unknown = sorted(set(flask.request.args) - {"plate"})
    if unknown:
        raise BadRequest(400, f"unknown query parameter(s): {', '.join(unknown)}; allowed: plate")
    wl, t = store(), now_ms()
    try:
        if "plate" in flask.request.args:
            rec = wl.get(_plate_arg(flask.request.args.get("plate")))
            if rec is None:
                raise BadRequest(404, "plate not on the watchlist")
            return _ok(entry_json(rec, t))
        return _ok({"version": wl.version(), "entries": [entry_json(r, t) for r in wl.records()]})
    except REDIS_ERRORS as e:
        raise _unavailable(e) from None


@bp.post("/api/v1/watchlist")
@_handle
def add_to_watchlist() -> flask.Response:
    user, _ = _actor(ADMINS)
    if not flask.request.is_json:
        raise BadRequest(415, "send JSON (Content-Type: application/json)")
    body = flask.request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest(400, "body must be a JSON object with plate, reason, priority, expiry, note")
    unknown = sorted(set(body) - BODY_FIELDS)
    if unknown:
        raise BadRequest(400, f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(sorted(BODY_FIELDS))}")
    try:
        entry = parse_entry(
            body.get("plate"), body.get("reason"), body.get("priority"), body.get("expiry"), body.get("note") or ""
        )
    except FieldErrors as e:
        return _fields_error(e)
    wl = store()
    try:
        existed = wl.get(entry.plate) is not None
        version = wl.add(entry, actor=user)
        rec = wl.get(entry.plate)
    except REDIS_ERRORS as e:
        raise _unavailable(e) from None
    assert rec is not None
    return _ok({"version": version, "entry": entry_json(rec, now_ms())}, 200 if existed else 201)


@bp.delete("/api/v1/watchlist")
@bp.delete("/api/v1/watchlist/<plate>")
@_handle
def remove_from_watchlist(plate: str | None = None) -> flask.Response:
    user, _ = _actor(ADMINS)
    raw = plate if plate is not None else flask.request.args.get("plate")
    if raw is None:
        raise BadRequest(400, "plate: say which plate (DELETE /api/v1/watchlist/<plate>)")
    norm = _plate_arg(raw)
    wl = store()
    try:
        if not wl.remove(norm, actor=user):
            raise BadRequest(404, "plate not on the watchlist")
        version = wl.version()
    except REDIS_ERRORS as e:
        raise _unavailable(e) from None
    return _ok({"removed": norm, "version": version})


@bp.get("/api/v1/watchlist/audit")
@_handle
def watchlist_audit() -> flask.Response:
    _actor(ADMINS)
    limit = _int_arg("limit", 100, 1, 1000)
    try:
        records = store().audit(limit)
    except REDIS_ERRORS as e:
        raise _unavailable(e) from None
    return _ok(
        {
            "changes": [
                {"ts_ms": a.ts_ms, "actor": a.actor, "action": a.action, "plate": a.plate, "detail": a.detail}
                for a in records
            ]
        }
    )
