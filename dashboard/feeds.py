"""JSON shapes of what the dashboard pushes and serves, per audience. Pure functions.

Three audiences:

* ``ops`` (operators, admins): incidents with their details, alerts, tickets, camera
  health, segments, traffic updates (drafts too);
* ``warden``: alerts of their own zones (segment in the warden's zones, or addressed to
  them by name), updates of incidents they were alerted about, segments, published
  traffic updates;
* ``public``: road segment status and published traffic updates, nothing else: never a
  plate, face, camera frame, camera id or incident detail.

The websocket server (:mod:`dashboard.live`), the public REST API and the pages all
build their JSON here, so what is public is decided in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from config.settings import AppConfig
from core.types import (
    CameraStatus,
    ETicket,
    Incident,
    IncidentUpdate,
    SegmentDensity,
    TicketUpdate,
    TrafficUpdate,
    WardenAlert,
)
from dashboard.data import SegmentView, iso_utc

#: Keys a public segment document may carry (checked by the tests).
PUBLIC_SEGMENT_KEYS = frozenset(
    {"id", "name", "name_ur", "level", "vehicles", "occupancy", "mean_speed_kmh", "updated"}
)
#: Keys a public traffic update may carry.
PUBLIC_UPDATE_KEYS = frozenset({"id", "title", "title_ur", "body", "body_ur", "segment_id", "segment", "published_at"})

OPS = "ops"
WARDEN = "warden"
PUBLIC = "public"
CHANNELS = (OPS, WARDEN, PUBLIC)
#: Channel each role may open (admins watch the operator channel).
CHANNEL_ROLES: dict[str, tuple[str, ...] | None] = {
    OPS: ("operator", "admin"),
    WARDEN: ("warden", "admin"),
    PUBLIC: None,
}


def _v(x: Any) -> Any:
    return x.value if isinstance(x, Enum) else x


def segment_public(cfg: AppConfig, sd: SegmentDensity | SegmentView, stale: bool = False) -> dict[str, Any]:
    """A segment's status for everyone: name, level and aggregate figures only."""
    seg_id = sd.segment_id if isinstance(sd, SegmentDensity) else sd.id
    try:
        seg = cfg.segment(seg_id)
        name, name_ur = seg.name, seg.name_ur or ""
    except KeyError:
        name, name_ur = seg_id, ""
    if isinstance(sd, SegmentDensity):
        level = "unknown" if stale else sd.level.value
        ts: int | None = sd.ts_ms
    else:
        level, ts = sd.level, sd.updated_ms
    return {
        "id": seg_id,
        "name": name,
        "name_ur": name_ur,
        "level": level,
        "vehicles": None if sd.vehicles is None else round(float(sd.vehicles), 1),
        "occupancy": None if sd.occupancy is None else round(float(sd.occupancy), 3),
        "mean_speed_kmh": None if sd.mean_speed_kmh is None else round(float(sd.mean_speed_kmh), 1),
        "updated": iso_utc(ts),
    }


def update_public(cfg: AppConfig, up: TrafficUpdate) -> dict[str, Any]:
    """A published traffic update for everyone."""
    seg_name = None
    if up.segment_id:
        try:
            seg_name = cfg.segment(up.segment_id).name
        except KeyError:
            seg_name = None
    return {
        "id": up.update_id,
        "title": up.title,
        "title_ur": up.title_ur,
        "body": up.body,
        "body_ur": up.body_ur,
        "segment_id": up.segment_id,
        "segment": seg_name,
        "published_at": iso_utc(up.ts_ms),
    }


def update_ops(up: TrafficUpdate) -> dict[str, Any]:
    """A traffic update (draft or published) for operators."""
    return {
        "id": up.update_id,
        "title": up.title,
        "title_ur": up.title_ur,
        "body": up.body,
        "body_ur": up.body_ur,
        "segment_id": up.segment_id,
        "published": up.published,
        "author": up.author,
        "ts_ms": up.ts_ms,
    }


def incident_ops(inc: Incident) -> dict[str, Any]:
    """An incident with its details, for operators."""
    return {
        "id": inc.incident_id,
        "kind": _v(inc.kind),
        "priority": _v(inc.priority),
        "ts_ms": inc.ts_ms,
        "camera_id": inc.camera_id,
        "segment_id": inc.segment_id,
        "location": list(inc.location) if inc.location else None,
        "track_id": inc.track_id,
        "plate": inc.plate,
        "summary": inc.summary,
        "evidence": list(inc.evidence),
        "details": [list(d) for d in inc.details],
    }


def incident_update_json(up: IncidentUpdate) -> dict[str, Any]:
    return {
        "incident_id": up.incident_id,
        "action": up.action,
        "actor": up.actor,
        "ts_ms": up.ts_ms,
        "note": up.note,
        "assignee": up.assignee,
        "state": up.state,
    }


def alert_json(al: WardenAlert) -> dict[str, Any]:
    """A warden alert (wardens see the one-line summary, never a plate)."""
    return {
        "id": al.alert_id,
        "incident_id": al.incident_id,
        "segment_id": al.segment_id,
        "wardens": list(al.wardens),
        "ts_ms": al.ts_ms,
        "escalated": al.escalated,
        "kind": _v(al.kind),
        "priority": _v(al.priority),
        "summary": al.summary,
        "deadline_ms": al.deadline_ms,
        "acked_by": al.acked_by,
        "acked_ts_ms": al.acked_ts_ms,
    }


def ticket_ops(t: ETicket | TicketUpdate) -> dict[str, Any]:
    if isinstance(t, ETicket):
        return {
            "ticket_id": t.ticket_id,
            "kind": _v(t.kind),
            "state": _v(t.state),
            "camera_id": t.camera_id,
            "segment_id": t.segment_id,
            "ts_ms": t.ts_ms,
            "fine_pkr": t.fine_pkr,
        }
    return {
        "ticket_id": t.ticket_id,
        "from_state": _v(t.from_state),
        "state": _v(t.to_state),
        "actor": t.actor,
        "ts_ms": t.ts_ms,
        "reason": t.reason,
    }


def camera_ops(st: CameraStatus) -> dict[str, Any]:
    return {
        "id": st.camera_id,
        "state": st.state.value,
        "ts_ms": st.ts_ms,
        "worker_id": st.worker_id,
        "fps_in": round(st.fps_in, 2),
        "fps_analysed": round(st.fps_analysed, 2),
        "frames_skipped": st.frames_skipped,
        "frames_corrupt": st.frames_corrupt,
        "reconnects": st.reconnects,
        "last_frame_ts_ms": st.last_frame_ts_ms,
        "error": st.error,
    }


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is on the other end of a websocket.

    Attributes:
        channel: ``ops``, ``warden`` or ``public``.
        username: Logged-in user ("" for the public).
        zones: A warden's segment ids (admins on the warden channel see every zone).
        all_zones: True for an admin on the warden channel.
    """

    channel: str
    username: str = ""
    zones: frozenset[str] = frozenset()
    all_zones: bool = False


def alert_for_warden(al: WardenAlert, viewer: Viewer) -> bool:
    """True when a warden should see this alert: their zone, or addressed to them."""
    if viewer.channel != WARDEN:
        return False
    if viewer.all_zones:
        return True
    return (al.segment_id is not None and al.segment_id in viewer.zones) or viewer.username in al.wardens


def event_message(stream: str, obj: object, cfg: AppConfig) -> dict[str, dict[str, Any] | None]:
    """What each audience gets for one stream entry (coalesced kinds excluded).

    Returns:
        ``{"ops": msg|None, "warden": msg|None, "public": msg|None}``; the warden message
        still has to pass :func:`alert_for_warden` (alerts) or the viewer's seen-incidents
        check (incident updates).
    """
    out: dict[str, dict[str, Any] | None] = {OPS: None, WARDEN: None, PUBLIC: None}
    if isinstance(obj, Incident):
        out[OPS] = {"type": "incident", "incident": incident_ops(obj)}
    elif isinstance(obj, IncidentUpdate):
        out[OPS] = out[WARDEN] = {"type": "incident_update", "update": incident_update_json(obj)}
    elif isinstance(obj, WardenAlert):
        out[OPS] = out[WARDEN] = {"type": "alert", "alert": alert_json(obj)}
    elif isinstance(obj, ETicket | TicketUpdate):
        out[OPS] = {"type": "ticket", "ticket": ticket_ops(obj)}
    elif isinstance(obj, TrafficUpdate):
        out[OPS] = {"type": "traffic_update", "update": update_ops(obj)}
        if obj.published:
            out[PUBLIC] = out[WARDEN] = {"type": "traffic_update", "update": update_public(cfg, obj)}
        else:
            out[PUBLIC] = out[WARDEN] = {"type": "traffic_update_removed", "id": obj.update_id}
    return out


def segments_message(
    cfg: AppConfig, segments: Mapping[str, SegmentDensity], now_ms: int, stale_s: float
) -> dict[str, Any]:
    """The coalesced segment status message (the same for every audience)."""
    return {
        "type": "segments",
        "segments": [segment_public(cfg, sd, stale=(now_ms - sd.ts_ms) / 1000.0 > stale_s) for sd in segments.values()],
    }


def cameras_message(statuses: Sequence[CameraStatus]) -> dict[str, Any]:
    """The coalesced camera health message (operators only)."""
    return {"type": "cameras", "cameras": [camera_ops(s) for s in statuses]}
