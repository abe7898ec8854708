"""Flask routes on the Dash server: health, metrics, public API, camera frames, MJPEG, evidence.

Public (no login):

* ``GET /healthz`` - JSON health; 200 only when Redis answers and at least one enabled
  camera is online with a heartbeat younger than 5 s, else 503.
* ``GET /metrics`` - Prometheus text (:mod:`dashboard.metrics`).
* ``GET /api/v1/traffic[?segment=<id>]`` - per-segment congestion (no plates, nothing
  personal), ISO-8601 UTC times.
* ``GET /api/v1/updates`` - published traffic updates (English and Urdu texts).

Operators and admins (:mod:`dashboard.auth` answers 401/403 first):

* ``GET /camera/<id>/latest.jpg`` - the latest annotated JPEG stored by the worker.
* ``GET /camera/<id>/stream.mjpg[?fps=<0.1-30>&max_frames=<n>]`` - the same key relayed
  as ``multipart/x-mixed-replace``: frames are encoded once by the worker, and each
  server process reads each frame once whatever the number of viewers
  (:class:`dashboard.frames.FrameHub`).
* ``GET /evidence/<sha256>`` - an evidence file (frame or plate crop) from the archive's blob store.
* ``GET /clip/...``, ``/recording/...``, ``/media/...`` - video clips and recordings (:mod:`dashboard.media`).

Errors on these paths are JSON ``{"error": <reason>, "status": <code>}``.
"""

from __future__ import annotations

import logging
import re

import flask
from werkzeug.exceptions import HTTPException

from core.clock import now_ms
from dashboard import api_notify, api_sos, api_tickets, api_watchlist, media, metrics
from dashboard import updates as updates_mod
from dashboard.context import current
from dashboard.data import (
    health_document,
    iso_utc,
    read_cameras,
    read_segments,
    redis_ok,
    traffic_document,
)
from dashboard.feeds import update_public
from dashboard.frames import MJPEG_BOUNDARY
from dashboard.http import json_error

log = logging.getLogger("dashboard.routes")

bp = flask.Blueprint("safecity_api", __name__)

CAMERA_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: Resend the current frame at least this often so a viewer that left is noticed.
MJPEG_KEEPALIVE_S = 2.0
MAX_MJPEG_FPS = 30.0
JSON_PREFIXES = ("/api/", "/camera/", "/healthz", "/evidence/", "/clip/", "/recording/", "/media/")


def _no_store(resp: flask.Response) -> flask.Response:
    resp.headers["Cache-Control"] = "no-store"
    return resp


# --------------------------------------------------------------------------- health + API


@bp.get("/healthz")
def healthz() -> flask.Response:
    ctx = current()
    ok, cameras = read_cameras(ctx.cfg, ctx.store)
    body, status = health_document(ctx.cfg, ok, cameras)
    resp = flask.jsonify(body)
    resp.status_code = status
    return _no_store(resp)


@bp.get("/api/v1/traffic")
def traffic() -> flask.Response:
    ctx = current()
    unknown = sorted(set(flask.request.args) - {"segment"})
    if unknown:
        return json_error(400, f"unknown query parameter(s): {', '.join(unknown)}; allowed: segment")
    wanted = flask.request.args.getlist("segment")
    seg_ids = {s.id for s in ctx.cfg.segments}
    for seg in wanted:
        if seg not in seg_ids:
            return json_error(404, f"unknown segment {seg!r}")
    now = now_ms()
    ok, segments = read_segments(ctx.cfg, ctx.store, now)
    if wanted:
        segments = tuple(s for s in segments if s.id in wanted)
    body = traffic_document(segments, now)
    if not ok:
        body["error"] = "Redis unreachable: levels unknown"
    resp = flask.jsonify(body)
    resp.status_code = 200 if ok else 503
    return _no_store(resp)


@bp.get("/api/v1/updates")
def public_updates() -> flask.Response:
    ctx = current()
    unknown = sorted(set(flask.request.args))
    if unknown:
        return json_error(400, f"unknown query parameter(s): {', '.join(unknown)}")
    try:
        ups = updates_mod.list_updates(ctx.db, published_only=True)
    except Exception as e:  # noqa: BLE001 - database down
        log.warning("updates: %s", e)
        return json_error(503, "updates unavailable (database unreachable)")
    resp = flask.jsonify({"updates": [update_public(ctx.cfg, u) for u in ups], "generated": iso_utc(now_ms())})
    return _no_store(resp)


@bp.get("/metrics")
def prometheus_metrics() -> flask.Response:
    ctx = current()
    body, content_type = metrics.render(ctx)
    resp = flask.Response(body, content_type=content_type)
    return _no_store(resp)


@bp.get("/api/<path:rest>")
def api_unknown(rest: str) -> flask.Response:
    return json_error(404, f"unknown API endpoint /api/{rest}; see /api/v1/traffic")


# --------------------------------------------------------------------------- camera frames


def _check_camera(camera_id: str) -> flask.Response | None:
    """A 4xx response when ``camera_id`` is malformed or not configured, else None."""
    if not CAMERA_ID.match(camera_id):
        return json_error(400, "malformed camera id: use lowercase letters, digits, '-' and '_'")
    ids = [c.id for c in current().cfg.cameras]
    if camera_id not in ids:
        return json_error(404, f"unknown camera {camera_id!r}")
    return None


@bp.get("/camera/<camera_id>/latest.jpg")
def latest_jpg(camera_id: str) -> flask.Response:
    bad = _check_camera(camera_id)
    if bad is not None:
        return bad
    store = current().store
    try:
        got = store.get_frame(camera_id)
    except Exception as e:  # noqa: BLE001 - Redis down: answer 503, never a 500 page
        log.warning("latest.jpg %s: %s", camera_id, e)
        return json_error(503, "Redis unreachable")
    if got is None:
        return json_error(404, f"no frame yet from camera {camera_id!r}")
    jpeg, ts_ms = got
    resp = flask.Response(jpeg, mimetype="image/jpeg")
    resp.headers["X-Frame-Timestamp"] = iso_utc(ts_ms) or ""
    resp.headers["X-Frame-Timestamp-Ms"] = str(ts_ms)
    return _no_store(resp)


def _positive(name: str, cast: type[float] | type[int], lo: float, hi: float) -> float | int | None:
    raw = flask.request.args.get(name)
    if raw is None:
        return None
    try:
        value = cast(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number between {lo:g} and {hi:g}") from None
    if not (lo <= value <= hi):
        raise ValueError(f"{name} must be between {lo:g} and {hi:g}")
    return value


@bp.get("/camera/<camera_id>/stream.mjpg")
def stream_mjpg(camera_id: str) -> flask.Response:
    bad = _check_camera(camera_id)
    if bad is not None:
        return bad
    unknown = sorted(set(flask.request.args) - {"fps", "max_frames"})
    if unknown:
        return json_error(400, f"unknown query parameter(s): {', '.join(unknown)}; allowed: fps, max_frames")
    ctx = current()
    try:
        fps = _positive("fps", float, 0.1, MAX_MJPEG_FPS)
        max_frames = _positive("max_frames", int, 1, 1_000_000)
    except ValueError as e:
        return json_error(400, str(e))
    if not redis_ok(ctx.store):
        return json_error(503, "Redis unreachable")
    rate = float(fps) if fps is not None else min(MAX_MJPEG_FPS, 2.0 * ctx.cfg.worker.frame_publish_fps)
    frames = ctx.frames.stream(camera_id, rate, int(max_frames) if max_frames is not None else None, MJPEG_KEEPALIVE_S)
    resp = flask.Response(frames, mimetype=f"multipart/x-mixed-replace; boundary={MJPEG_BOUNDARY}")
    resp.headers["X-Accel-Buffering"] = "no"  # let a reverse proxy pass parts through at once
    return _no_store(resp)


@bp.get("/camera/<camera_id>/<path:rest>")
def camera_unknown(camera_id: str, rest: str) -> flask.Response:
    bad = _check_camera(camera_id)
    if bad is not None:
        return bad
    return json_error(404, f"unknown camera resource {rest!r}; use latest.jpg or stream.mjpg")


@bp.get("/evidence/<sha256>")
def evidence(sha256: str) -> flask.Response:
    if not SHA256.match(sha256):
        return json_error(400, "malformed evidence id: 64 lowercase hex digits (SHA-256)")
    archive = current().archive
    if archive is None:
        return json_error(503, "the archive is not installed")
    try:
        path = archive.evidence_path(sha256)  # disk backend: sent from the file
        data = archive.evidence_bytes(sha256) if path is None else None  # other backends: through this server
        mime = archive.evidence.evidence_mime(sha256) or "image/jpeg"
    except Exception as e:  # noqa: BLE001 - database/file system/blob store trouble
        log.warning("evidence %s: %s", sha256[:12], e)
        return json_error(503, "archive unavailable")
    if path is None and data is None:
        return json_error(404, f"no evidence {sha256[:12]}...")
    if path is not None:
        resp = flask.send_file(path, mimetype=mime, max_age=0, etag=sha256)
    else:
        resp = flask.Response(data, mimetype=mime)
        resp.set_etag(sha256)
    resp.headers["Cache-Control"] = "private, max-age=86400, immutable"  # content-addressed
    return resp


# --------------------------------------------------------------------------- errors


def _wants_json(path: str) -> bool:
    return path.startswith(JSON_PREFIXES)


def register(server: flask.Flask) -> None:
    """Add the routes and JSON error handling for them to a Flask app."""
    server.register_blueprint(bp)
    server.register_blueprint(api_sos.bp)
    server.register_blueprint(api_tickets.bp)
    server.register_blueprint(api_watchlist.bp)
    server.register_blueprint(api_notify.bp)
    media.register(server)

    @server.errorhandler(HTTPException)
    def _http_error(e: HTTPException) -> flask.Response | HTTPException:
        if _wants_json(flask.request.path):
            return json_error(e.code or 500, e.description or e.name)
        return e

    @server.errorhandler(Exception)
    def _crash(e: Exception) -> flask.Response | HTTPException | tuple[str, int]:
        if isinstance(e, HTTPException):
            return _http_error(e)
        log.exception("unhandled error on %s", flask.request.path)
        if _wants_json(flask.request.path):
            return json_error(500, f"internal error: {type(e).__name__}")
        return "internal error", 500
