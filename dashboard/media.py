"""Video evidence on the dashboard: stable clip/recording links that hand operators a short-lived download URL.

Operators and admins only (:mod:`dashboard.auth` closes every path not listed as public):

* ``GET /clip/<violation|incident>/<id>`` - 302 to a fresh download link of that clip, valid
  ``storage.url_ttl_s`` seconds: a signed ``/media/...`` URL (disk) or a presigned S3 URL (s3).
  Pages embed this stable path (``<video src=...>``), so a refreshed page never restarts a video
  and no long-lived link ever reaches the browser.
* ``GET /recording/<camera>/<start ms>`` - the same for one recording segment.
* ``GET /media/<key>?exp=&sig=`` - the disk backend's blob, when the HMAC signature is good and
  ``exp`` has not passed (403 otherwise); Range requests are answered so browsers can seek.

Errors are JSON ``{"error": <reason>, "status": <code>}``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import flask
from werkzeug.wrappers import Response as WerkzeugResponse

from dashboard.context import current
from dashboard.http import json_error

log = logging.getLogger("dashboard.media")

bp = flask.Blueprint("safecity_media", __name__)

OWNER_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
CAMERA_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
KINDS = ("violation", "incident")
MEDIA_TYPES = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".png": "image/png"}


def _archive() -> Any:
    return current().archive


def _redirect(key: str) -> WerkzeugResponse:
    ctx = current()
    url = ctx.archive.store.url(key, ctx.cfg.storage.url_ttl_s)
    resp = flask.redirect(url, code=302)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/clip/<kind>/<owner_id>")
def clip(kind: str, owner_id: str) -> WerkzeugResponse:
    if kind not in KINDS:
        return json_error(400, f"unknown clip owner {kind!r}; use violation or incident")
    if not OWNER_ID.match(owner_id):
        return json_error(400, "malformed id: 1-64 letters, digits or . _ : -")
    archive = _archive()
    if archive is None:
        return json_error(503, "the archive is not installed")
    try:
        c = archive.clips.clip_of(kind, owner_id)
    except Exception as e:  # noqa: BLE001 - database trouble
        log.warning("clip %s/%s: %s", kind, owner_id, e)
        return json_error(503, "archive unavailable")
    if c is None:
        return json_error(404, f"no clip for {kind} {owner_id}")
    return _redirect(c.key)


@bp.get("/recording/<camera_id>/<int:start_ms>")
def recording(camera_id: str, start_ms: int) -> WerkzeugResponse:
    if not CAMERA_ID.match(camera_id):
        return json_error(400, "malformed camera id")
    archive = _archive()
    if archive is None:
        return json_error(503, "the archive is not installed")
    seg = archive.clips.segment_at(camera_id, start_ms)
    if seg is None or seg.ts_ms != start_ms:
        return json_error(404, f"no recording segment of {camera_id} starting at {start_ms}")
    return _redirect(seg.key)


@bp.get("/media/<path:key>")
def media(key: str) -> flask.Response:
    archive = _archive()
    if archive is None:
        return json_error(503, "the archive is not installed")
    store = archive.store
    signer = getattr(store, "signer", None)
    if signer is None:
        return json_error(404, "this store hands out its own links (storage.backend s3)")
    why = signer.check(key, flask.request.args.get("exp"), flask.request.args.get("sig"))
    if why is not None:
        return json_error(403, why)
    try:
        path = store.local_path(key)
    except ValueError as e:
        return json_error(400, str(e))
    if path is None:
        return json_error(404, "no such file")
    mime = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    resp = flask.send_file(path, mimetype=mime, conditional=True, max_age=0)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def register(server: flask.Flask) -> None:
    server.register_blueprint(bp)


__all__ = ["bp", "register"]
