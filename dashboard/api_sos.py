"""``POST /api/v1/sos``: a citizen's emergency report becomes a critical incident on the map.

Request (JSON object, nothing else accepted)::

    {"location": {"lat": 34.0, "lon": 71.5},          # or [lat, lon]; required
     "text": "Accident near the flyover",              # optional, <= sos.max_text_chars
     "reporter": {"name": "Ali", "phone": "+92 300 1234567"}}   # phone required, name optional

Every field is validated; a bad request gets a 4xx JSON ``{"error", "status"}`` saying
which field and why (400 malformed/unknown fields, 415 not JSON, 422 a value out of range
or outside the service area, 429 over the per-client rate limit with ``Retry-After``,
503 when the event bus is down). A good one answers 201 with the incident id. The
incident (kind ``sos``, priority ``critical``) goes on ``incident.raised``; the incidents
service archives it and alerts the wardens of the nearest road segment. An
``Idempotency-Key`` header makes retries of the same report one incident.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import unicodedata
from typing import Any

import flask

from bus.ratelimit import RateLimiter
from config.settings import AppConfig
from core.clock import now_ms
from core.types import Incident, IncidentKind, Priority
from dashboard.context import current
from dashboard.http import json_error as _err

log = logging.getLogger("dashboard.sos")

bp = flask.Blueprint("safecity_sos", __name__)

ALLOWED = {"location", "text", "reporter"}
REPORTER_FIELDS = {"name", "phone"}
PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{8,18}[0-9]$")
MAX_NAME = 80
MAX_BODY = 8 * 1024
SEGMENT_RADIUS_KM = 2.0


class SosError(ValueError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(h)))


def _point_segment_km(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance from p to the segment a-b (local flat projection; fine at city scale)."""
    k = math.cos(math.radians(p[0]))
    ax, ay, bx, by, px, py = a[1] * k, a[0], b[1] * k, b[0], p[1] * k, p[0]
    dx, dy = bx - ax, by - ay
    t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return haversine_km(p, (ay + t * dy, (ax + t * dx) / k))


def nearest_segment(cfg: AppConfig, loc: tuple[float, float], radius_km: float = SEGMENT_RADIUS_KM) -> str | None:
    """The configured road segment nearest to a point, if within ``radius_km``."""
    best, best_d = None, radius_km
    for seg in cfg.segments:
        for a, b in zip(seg.path, seg.path[1:], strict=False):
            d = _point_segment_km(loc, a, b)
            if d <= best_d:
                best, best_d = seg.id, d
    return best


def _clean_text(value: str) -> str:
    """Strip control characters (keeps letters of every script, e.g. Urdu) and collapse blanks."""
    kept = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    return re.sub(r"[ \t]+", " ", kept).strip()


def _number(v: Any, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise SosError(422, f"{name} must be a number")
    f = float(v)
    if not math.isfinite(f):
        raise SosError(422, f"{name} must be finite")
    return f


def parse_sos(body: Any, cfg: AppConfig) -> tuple[tuple[float, float], str, str, str]:
    """Validate a report.

    Returns:
        ``(location, text, reporter_name, reporter_phone)``.

    Raises:
        SosError: with the HTTP status and the reason.
    """
    if not isinstance(body, dict):
        raise SosError(400, "body must be a JSON object")
    unknown = sorted(set(body) - ALLOWED)
    if unknown:
        raise SosError(400, f"unknown field(s): {', '.join(unknown)}; allowed: location, text, reporter")
    loc = body.get("location")
    if loc is None:
        raise SosError(400, 'location is required: {"lat": .., "lon": ..}')
    if isinstance(loc, dict):
        extra = sorted(set(loc) - {"lat", "lon"})
        if extra or "lat" not in loc or "lon" not in loc:
            raise SosError(400, "location must have exactly lat and lon")
        lat, lon = _number(loc["lat"], "location.lat"), _number(loc["lon"], "location.lon")
    elif isinstance(loc, list) and len(loc) == 2:
        lat, lon = _number(loc[0], "location[0] (lat)"), _number(loc[1], "location[1] (lon)")
    else:
        raise SosError(400, 'location must be {"lat": .., "lon": ..} or [lat, lon]')
    if not -90 <= lat <= 90:
        raise SosError(422, "location.lat must be between -90 and 90")
    if not -180 <= lon <= 180:
        raise SosError(422, "location.lon must be between -180 and 180")
    dist = haversine_km((lat, lon), cfg.dashboard.map.center)
    if dist > cfg.sos.service_radius_km:
        raise SosError(
            422,
            f"location is {dist:.0f} km from {cfg.city}: outside the service area ({cfg.sos.service_radius_km:.0f} km)",
        )
    text = body.get("text", "")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise SosError(422, "text must be a string")
    text = _clean_text(text)
    if len(text) > cfg.sos.max_text_chars:
        raise SosError(422, f"text is too long ({len(text)} characters; at most {cfg.sos.max_text_chars})")
    rep = body.get("reporter")
    if not isinstance(rep, dict):
        raise SosError(400, 'reporter is required: {"phone": .., "name": ..}')
    extra = sorted(set(rep) - REPORTER_FIELDS)
    if extra:
        raise SosError(400, f"unknown reporter field(s): {', '.join(extra)}; allowed: name, phone")
    phone = rep.get("phone")
    if not isinstance(phone, str) or not PHONE_RE.match(phone.strip()):
        raise SosError(422, "reporter.phone must be a phone number, e.g. +92 300 1234567 or 0300-1234567")
    digits = re.sub(r"\D", "", phone)
    if not 10 <= len(digits) <= 15:
        raise SosError(422, "reporter.phone must have 10 to 15 digits")
    name = rep.get("name", "")
    if name is None:
        name = ""
    if not isinstance(name, str):
        raise SosError(422, "reporter.name must be a string")
    name = _clean_text(name)
    if len(name) > MAX_NAME:
        raise SosError(422, f"reporter.name is too long (at most {MAX_NAME} characters)")
    return (round(lat, 6), round(lon, 6)), text, name, ("+" if phone.strip().startswith("+") else "") + digits


def client_key() -> str:
    """Rate-limit key of the caller: its address (the proxy's client when behind one the app trusts)."""
    return flask.request.remote_addr or "unknown"


@bp.post("/api/v1/sos")
def sos() -> flask.Response:
    ctx = current()
    cfg = ctx.cfg
    if flask.request.content_length is not None and flask.request.content_length > MAX_BODY:
        return _err(413, f"body too large (at most {MAX_BODY} bytes)")
    if not flask.request.is_json:
        return _err(415, "send the report as JSON (Content-Type: application/json)")
    body = flask.request.get_json(silent=True)
    if body is None:
        return _err(400, "body is not valid JSON")
    try:
        location, text, name, phone = parse_sos(body, cfg)
    except SosError as e:
        return _err(e.status, str(e))
    idem = flask.request.headers.get("Idempotency-Key", "")
    if len(idem) > 64 or (idem and not re.fullmatch(r"[A-Za-z0-9_.:-]+", idem)):
        return _err(400, "Idempotency-Key must be at most 64 letters, digits or _.:-")
    try:
        ok, retry = RateLimiter(ctx.store.client).hit("sos", client_key(), cfg.sos.rate_limit, cfg.sos.rate_window_s)
    except Exception as e:  # noqa: BLE001
        log.error("sos: Redis unavailable: %s", e)
        return _err(503, "service temporarily unavailable; call 15 (police) or 1122 (rescue)")
    if not ok:
        return _err(429, f"too many reports from this client; try again in {retry} s", {"Retry-After": str(retry)})
    now = now_ms()
    key = f"{client_key()}|{idem}" if idem else f"{phone}|{location}|{text}|{now // 60_000}"
    incident_id = "sos-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]
    segment = nearest_segment(cfg, location)
    details = [("reporter_phone", phone)]
    if name:
        details.append(("reporter_name", name))
    if text:
        details.append(("text", text))
    inc = Incident(
        incident_id=incident_id,
        kind=IncidentKind.SOS,
        priority=Priority.CRITICAL,
        ts_ms=now,
        segment_id=segment,
        location=location,
        summary=("SOS: " + text[:120]) if text else "SOS report",
        details=tuple(details),
    )
    try:
        ctx.bus.publish(inc)
    except Exception as e:  # noqa: BLE001
        log.error("sos: cannot publish: %s", e)
        return _err(503, "service temporarily unavailable; call 15 (police) or 1122 (rescue)")
    log.info("sos %s received (segment %s)", incident_id, segment or "-")
    resp = flask.jsonify(
        {"incident_id": incident_id, "status": "received", "priority": "critical", "segment_id": segment}
    )
    resp.status_code = 201
    resp.headers["Cache-Control"] = "no-store"
    return resp


__all__ = ["bp", "nearest_segment", "parse_sos"]
