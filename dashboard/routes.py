"""Flask routes on the Dash server: health, public traffic API, camera frames and MJPEG.

* ``GET /healthz`` - JSON health; 200 only when Redis answers and at least one enabled
  camera is online with a heartbeat younger than 5 s, else 503.
* ``GET /api/v1/traffic[?segment=<id>]`` - per-segment congestion (no plates, nothing
  personal), ISO-8601 UTC times.
* ``GET /camera/<id>/latest.jpg`` - the latest annotated JPEG stored by the worker.
* ``GET /camera/<id>/stream.mjpg[?fps=<1-30>&max_frames=<n>]`` - the same key relayed as
  ``multipart/x-mixed-replace``: frames are encoded once by the worker, whatever the
  number of viewers; each viewer only reads the one Redis key.

Errors on these paths are JSON ``{"error": <reason>, "status": <code>}``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator

import flask
from werkzeug.exceptions import HTTPException

from bus.store import LiveStore
from dashboard.context import current
from dashboard.data import (
    health_document,
    iso_utc,
    now_ms,
    read_cameras,
    read_segments,
    redis_ok,
    traffic_document,
)

log = logging.getLogger("dashboard.routes")

bp = flask.Blueprint("safecity_api", __name__)

CAMERA_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MJPEG_BOUNDARY = "frame"
#: Resend the current frame at least this often so a viewer that left is noticed.
MJPEG_KEEPALIVE_S = 2.0
MAX_MJPEG_FPS = 30.0
JSON_PREFIXES = ("/api/", "/camera/", "/healthz")


def json_error(status: int, reason: str) -> flask.Response:
    """A JSON error response."""
    resp = flask.jsonify({"error": reason, "status": status})
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


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


def mjpeg_part(jpeg: bytes, ts_ms: int) -> bytes:
    """One part of a ``multipart/x-mixed-replace`` stream."""
    head = (
        f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n"
        f"X-Frame-Timestamp-Ms: {ts_ms}\r\n\r\n"
    ).encode("ascii")
    return head + jpeg + b"\r\n"


def mjpeg_frames(
    store: LiveStore,
    camera_id: str,
    fps: float,
    max_frames: int | None = None,
    keepalive_s: float = MJPEG_KEEPALIVE_S,
) -> Iterator[bytes]:
    """Relay the camera's latest-frame key as MJPEG parts.

    Polls the frame's timestamp ``fps`` times a second and fetches the JPEG only when it
    changed; the same frame is sent again every ``keepalive_s`` (a write is how a closed
    connection is noticed). Ends after ``max_frames`` parts, or when Redis stops answering.
    """
    period = 1.0 / fps
    last: tuple[bytes, int] | None = None  # newest frame fetched
    sent_ts: int | None = None  # timestamp of the frame sent last
    last_sent = 0.0
    sent = 0
    while max_frames is None or sent < max_frames:
        try:
            ts = store.frame_ts(camera_id)
            if ts is not None and (last is None or ts != last[1]):
                last = store.get_frame(camera_id)
        except Exception as e:  # noqa: BLE001 - end the stream; the client reconnects
            log.info("mjpeg %s: ending, Redis error: %s", camera_id, e)
            return
        t = time.monotonic()
        if last is not None and (last[1] != sent_ts or t - last_sent >= keepalive_s):
            sent_ts, last_sent = last[1], t
            sent += 1
            yield mjpeg_part(*last)
            if max_frames is not None and sent >= max_frames:
                return
        time.sleep(period)


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
    frames = mjpeg_frames(ctx.store, camera_id, rate, int(max_frames) if max_frames is not None else None)
    resp = flask.Response(frames, mimetype=f"multipart/x-mixed-replace; boundary={MJPEG_BOUNDARY}")
    resp.headers["X-Accel-Buffering"] = "no"  # let a reverse proxy pass parts through at once
    return _no_store(resp)


@bp.get("/camera/<camera_id>/<path:rest>")
def camera_unknown(camera_id: str, rest: str) -> flask.Response:
    bad = _check_camera(camera_id)
    if bad is not None:
        return bad
    return json_error(404, f"unknown camera resource {rest!r}; use latest.jpg or stream.mjpg")


# --------------------------------------------------------------------------- errors


def _wants_json(path: str) -> bool:
    return path.startswith(JSON_PREFIXES)


def register(server: flask.Flask) -> None:
    """Add the routes and JSON error handling for them to a Flask app."""
    server.register_blueprint(bp)

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
