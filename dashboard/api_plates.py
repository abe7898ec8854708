"""Plate search and its audit log over the JSON API (routes on :data:`dashboard.api_base.bp`).

* ``GET /api/v1/plates?plate=&from=&to=&camera=&limit=`` (operators, admins): sightings of a plate
  and of plates one or two characters off, exact first (:mod:`dashboard.plate_search`).
  ``plate`` is required (2-10 letters/digits once ``-``, spaces and dots are dropped); ``from``/``to``
  are ISO-8601 (no offset = UTC) or epoch milliseconds; ``camera`` a configured camera id;
  ``limit`` 1-500 (default 100). Anything else: 400 with the parameter and the reason.
  Every search is written to the audit log.
* ``GET /api/v1/admin/plate-searches?offset=&limit=`` (admins): the audit log, newest first.

Wardens and the public get 403/401 (:mod:`dashboard.auth`; checked again here).
"""

from __future__ import annotations

from typing import Any

import flask

from core.sightings import QueryError, parse_plate_query
from dashboard.api_base import MAX_LIMIT, BadRequest, _actor, _archive, _handle, _int_arg, _ok, bp
from dashboard.context import current
from dashboard.plate_search import iso_utc, search_plates


@bp.get("/api/v1/plates")
@_handle
def plates() -> flask.Response:
    username, role = _actor(("operator", "admin"))
    cfg = current().cfg
    args = {k: flask.request.args.get(k) for k in flask.request.args}
    if any(len(flask.request.args.getlist(k)) > 1 for k in args):
        raise BadRequest(400, "each parameter at most once")
    try:
        query = parse_plate_query(args, [c.id for c in cfg.cameras])
    except QueryError as e:
        raise BadRequest(400, str(e)) from None
    return _ok(search_plates(_archive(), cfg, query, username, role, "api").as_json())


@bp.get("/api/v1/admin/plate-searches")
@_handle
def plate_searches() -> flask.Response:
    _actor(("admin",))
    unknown = sorted(set(flask.request.args) - {"offset", "limit"})
    if unknown:
        raise BadRequest(400, f"unknown query parameter(s): {', '.join(unknown)}")
    rows, total = _archive().sightings.audit_log(_int_arg("offset", 0, 0, 10**9), _int_arg("limit", 100, 1, MAX_LIMIT))
    return _ok({"total": total, "searches": [audit_dict(r) for r in rows]})


def audit_dict(r: Any) -> dict[str, Any]:
    """An audit entry as JSON (``archive.sightings.SearchAudit``)."""
    return {
        "ts_ms": r.ts_ms,
        "time": iso_utc(r.ts_ms),
        "username": r.username,
        "role": r.role,
        "source": r.source,
        "query": r.query,
        "results": r.results,
    }


__all__ = ["audit_dict", "plate_searches", "plates"]
