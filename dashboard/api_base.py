"""The blueprint and request helpers of the operator, warden and citizen JSON API.

:data:`bp` (``safecity_tickets``) carries the routes of :mod:`dashboard.api_tickets`
(e-tickets, citizen lookup) and :mod:`dashboard.api_incidents` (incidents, warden
alerts); importing :mod:`dashboard.api_tickets` registers them all. The helpers here
turn a request into checked values or a :class:`BadRequest`, which :func:`_handle`
answers as JSON ``{"error", "status"}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import flask

from archive import Archive
from dashboard.context import current
from dashboard.http import json_error as _err

bp = flask.Blueprint("safecity_tickets", __name__)

MAX_LIMIT = 500


class BadRequest(ValueError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def _ok(body: Any, status: int = 200) -> flask.Response:
    resp = flask.jsonify(body)
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _archive() -> Archive:
    arc = current().archive
    if arc is None:
        raise BadRequest(503, "ticket archive unavailable")
    return arc


def _actor(roles: Iterable[str] | None = None) -> tuple[str, str]:
    """``(username, role)`` of the logged-in user (auth enforces roles per path; this double-checks)."""
    login = getattr(flask.g, "login", None)
    if login is None:
        raise BadRequest(401, "login required")
    if roles is not None and login.role not in set(roles):
        raise BadRequest(403, f"role {login.role!r} may not do this")
    return login.username, login.role


def _handle(fn: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> flask.Response:
        try:
            return fn(*args, **kwargs)
        except BadRequest as e:
            return _err(e.status, str(e))

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _json_body(allowed: set[str], required: Iterable[str] = ()) -> dict[str, Any]:
    if not flask.request.is_json:
        raise BadRequest(415, "send JSON (Content-Type: application/json)")
    body = flask.request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest(400, "body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(400, f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    for r in required:
        if r not in body or body[r] in (None, ""):
            raise BadRequest(400, f"{r} is required")
    for k, v in body.items():
        if v is not None and not isinstance(v, str):
            raise BadRequest(422, f"{k} must be a string")
    return body


def _int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = flask.request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        v = int(raw)
    except ValueError:
        raise BadRequest(400, f"{name} must be an integer") from None
    if not lo <= v <= hi:
        raise BadRequest(400, f"{name} must be between {lo} and {hi}")
    return v


def _enum_list(name: str, enum: type[Any], allowed: Iterable[str] | None = None) -> tuple[Any, ...]:
    out = []
    valid = [e.value for e in enum] if allowed is None else list(allowed)
    for raw in flask.request.args.getlist(name):
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            if part not in valid:
                raise BadRequest(400, f"unknown {name} {part!r}; use one of {', '.join(valid)}")
            out.append(enum(part) if allowed is None else part)
    return tuple(out)
