"""Small HTTP helpers shared by the dashboard's Flask routes and APIs."""

from __future__ import annotations

import flask


def json_error(status: int, reason: str, headers: dict[str, str] | None = None) -> flask.Response:
    """A JSON error response ``{"error": reason, "status": status}``, never cached."""
    resp = flask.jsonify({"error": reason, "status": status})
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp
