"""Read the live state from Redis into plain view models for the pages and the API.

Everything here is a pure function of the configuration, what :class:`bus.store.LiveStore`
and :class:`bus.streams.EventBus` return, and the current time, so several server workers
can serve the same answers without sharing memory. Nothing is cached in the process.

What is read (all through ``bus/``):

* ``LiveStore.ping``, ``camera_statuses``, ``densities``, ``segments``, ``frame_ts``
  (keys ``live:camera_status``, ``live:density``, ``live:segment``, ``live:frame:<camera>``);
* ``EventBus.recent`` (XREVRANGE) on the streams ``traffic.crossing`` and ``camera.status``.

When Redis cannot be reached every reader returns a "degraded" answer instead of raising.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from bus.schema import stream_of
from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import AppConfig, CameraConfig
from core.clock import now_ms
from core.types import CameraState, CameraStatus, CongestionLevel, DensityReport, LineCrossing, SegmentDensity

log = logging.getLogger("dashboard.data")

#: A camera heartbeat older than this (seconds) no longer counts as online.
HEARTBEAT_FRESH_S = 5.0
#: A segment state older than this (seconds) is shown as ``unknown`` (its cameras went silent).
SEGMENT_STALE_S = 30.0

CROSSING_STREAM = stream_of(LineCrossing)
STATUS_STREAM = stream_of(CameraStatus)

#: Map colour of each congestion level.
LEVEL_COLOURS: dict[str, str] = {
    CongestionLevel.FREE.value: "#2e9e44",
    CongestionLevel.MODERATE.value: "#f2c500",
    CongestionLevel.HEAVY.value: "#f57c00",
    CongestionLevel.JAMMED.value: "#d32f2f",
    CongestionLevel.UNKNOWN.value: "#8c8c8c",
}

#: Effective camera states shown to people (CameraState values plus two derived ones).
STATE_UNKNOWN = "unknown"  # never reported a heartbeat
STATE_STALE = "stale"  # last heartbeat older than HEARTBEAT_FRESH_S
STATE_DISABLED = "disabled"  # enabled: false in the config

STATE_COLOURS: dict[str, str] = {
    CameraState.ONLINE.value: "#2e9e44",
    CameraState.STARTING.value: "#1e88e5",
    CameraState.OFFLINE.value: "#d32f2f",
    CameraState.ENDED.value: "#6d4c41",
    STATE_STALE: "#d32f2f",
    STATE_UNKNOWN: "#8c8c8c",
    STATE_DISABLED: "#bdbdbd",
}


def iso_utc(ts_ms: int | None) -> str | None:
    """ISO-8601 UTC text (``2024-05-01T10:00:00.000Z``) of epoch milliseconds, or None."""
    if not ts_ms:
        return None
    return datetime.fromtimestamp(ts_ms / 1000.0, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def clock_utc(ts_ms: int) -> str:
    """``HH:MM:SS`` UTC of epoch milliseconds."""
    return datetime.fromtimestamp(ts_ms / 1000.0, tz=UTC).strftime("%H:%M:%S")


def _age_s(ts_ms: int, now: int) -> float | None:
    return None if not ts_ms else round(max(0.0, (now - ts_ms) / 1000.0), 1)


# --------------------------------------------------------------------------- view models


@dataclass(frozen=True, slots=True)
class CameraView:
    """One camera as the control room shows it.

    Attributes:
        id: Camera id.
        name: Human name.
        segment_id: Road segment the camera watches.
        location: ``(lat, lon)``.
        enabled: From the config.
        state: Effective state: a :class:`core.types.CameraState` value, or ``stale``,
            ``unknown``, ``disabled``.
        online: True when the camera is online with a fresh heartbeat.
        fps_in: Frames per second read from the source.
        fps_analysed: Frames per second analysed.
        heartbeat_age_s: Seconds since the last heartbeat, or None.
        last_frame_age_s: Seconds since the newest frame was captured, or None.
        error: Last error text of the source.
    """

    id: str
    name: str
    segment_id: str
    location: tuple[float, float]
    enabled: bool
    state: str
    online: bool
    fps_in: float = 0.0
    fps_analysed: float = 0.0
    heartbeat_age_s: float | None = None
    last_frame_age_s: float | None = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class DirectionCount:
    """Crossings of one counting line in one direction."""

    line_id: str
    direction: str
    """Direction name from the config (``forward_name``/``backward_name``)."""
    count: int


@dataclass(frozen=True, slots=True)
class CountsView:
    """Live counts of one camera from its latest density report."""

    camera_id: str
    crossings: tuple[DirectionCount, ...]
    vehicles: float | None
    occupancy: float | None
    mean_speed_kmh: float | None
    updated_ms: int | None


@dataclass(frozen=True, slots=True)
class SegmentView:
    """One road segment's congestion (public: no camera or vehicle detail)."""

    id: str
    name: str
    level: str
    vehicles: float | None
    occupancy: float | None
    mean_speed_kmh: float | None
    updated_ms: int | None
    stale: bool = False

    @property
    def colour(self) -> str:
        return LEVEL_COLOURS.get(self.level, LEVEL_COLOURS[CongestionLevel.UNKNOWN.value])


@dataclass(frozen=True, slots=True)
class EventView:
    """One line of the recent-events list."""

    ts_ms: int
    kind: str
    """``crossing`` or ``status``."""
    camera_id: str
    text: str
    severity: str = "info"
    """``info``, ``ok`` or ``warning`` (for colouring)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the control room shows at one refresh."""

    generated_ms: int
    redis_ok: bool
    error: str = ""
    cameras: tuple[CameraView, ...] = ()
    counts: Mapping[str, CountsView] = field(default_factory=dict)
    segments: tuple[SegmentView, ...] = ()
    events: tuple[EventView, ...] = ()
    frame_ts_ms: Mapping[str, int] = field(default_factory=dict)
    """Capture time of the latest stored frame of the selected camera (absent: no frame)."""


# --------------------------------------------------------------------------- pure builders


def camera_views(cfg: AppConfig, statuses: Mapping[str, CameraStatus], now: int) -> tuple[CameraView, ...]:
    """Combine the configured cameras with their latest heartbeats.

    Args:
        cfg: Configuration (the list and order of cameras).
        statuses: ``LiveStore.camera_statuses()``.
        now: Current time, epoch ms.

    Returns:
        One view per configured camera, in config order.
    """
    out = []
    for cam in cfg.cameras:
        st = statuses.get(cam.id)
        if not cam.enabled:
            state = STATE_DISABLED
        elif st is None:
            state = STATE_UNKNOWN
        elif (now - st.ts_ms) / 1000.0 > HEARTBEAT_FRESH_S:
            state = STATE_STALE
        else:
            state = st.state.value
        out.append(
            CameraView(
                id=cam.id,
                name=cam.name,
                segment_id=cam.segment,
                location=cam.location,
                enabled=cam.enabled,
                state=state,
                online=state == CameraState.ONLINE.value,
                fps_in=round(st.fps_in, 1) if st else 0.0,
                fps_analysed=round(st.fps_analysed, 1) if st else 0.0,
                heartbeat_age_s=_age_s(st.ts_ms, now) if st else None,
                last_frame_age_s=_age_s(st.last_frame_ts_ms, now) if st else None,
                error=st.error if st else "",
            )
        )
    return tuple(out)


def _direction_name(cam: CameraConfig, line_id: str, direction: str) -> str:
    for ln in cam.lines:
        if ln.id == line_id:
            if direction == "forward":
                return ln.forward_name
            if direction == "backward":
                return ln.backward_name
    return direction


def counts_view(cam: CameraConfig, rep: DensityReport | None) -> CountsView:
    """Live counts of one camera, with direction names from its line config.

    Every configured line appears with both directions (0 when not yet counted), followed
    by any other ``<line>:<direction>`` key the worker reported.
    """
    if rep is None:
        crossings = tuple(
            DirectionCount(ln.id, name, 0) for ln in cam.lines for name in (ln.forward_name, ln.backward_name)
        )
        return CountsView(cam.id, crossings, None, None, None, None)
    reported = dict(rep.counts)
    keys = [f"{ln.id}:{d}" for ln in cam.lines for d in ("forward", "backward")]
    keys += [k for k in reported if k not in keys]
    crossings_l = []
    for key in keys:
        line_id, _, direction = key.partition(":")
        crossings_l.append(DirectionCount(line_id, _direction_name(cam, line_id, direction), int(reported.get(key, 0))))
    return CountsView(
        camera_id=cam.id,
        crossings=tuple(crossings_l),
        vehicles=round(rep.vehicles, 1),
        occupancy=round(rep.occupancy, 3),
        mean_speed_kmh=None if rep.mean_speed_kmh is None else round(rep.mean_speed_kmh, 1),
        updated_ms=rep.ts_ms,
    )


def segment_views(cfg: AppConfig, segments: Mapping[str, SegmentDensity], now: int) -> tuple[SegmentView, ...]:
    """Configured segments with their latest state; missing or stale ones are ``unknown``."""
    out = []
    for seg in cfg.segments:
        sd = segments.get(seg.id)
        if sd is None:
            out.append(SegmentView(seg.id, seg.name, CongestionLevel.UNKNOWN.value, None, None, None, None))
            continue
        stale = (now - sd.ts_ms) / 1000.0 > SEGMENT_STALE_S
        out.append(
            SegmentView(
                id=seg.id,
                name=seg.name,
                level=CongestionLevel.UNKNOWN.value if stale else sd.level.value,
                vehicles=round(sd.vehicles, 1),
                occupancy=round(sd.occupancy, 3),
                mean_speed_kmh=None if sd.mean_speed_kmh is None else round(sd.mean_speed_kmh, 1),
                updated_ms=sd.ts_ms,
                stale=stale,
            )
        )
    return tuple(out)


def crossing_events(cfg: AppConfig, crossings: Iterable[LineCrossing]) -> list[EventView]:
    """Event lines for line crossings (label, line, direction name; never a plate)."""
    names = {c.id: c for c in cfg.cameras}
    out = []
    for x in crossings:
        cam = names.get(x.camera_id)
        where = cam.name if cam else x.camera_id
        direction = _direction_name(cam, x.line_id, x.direction.value) if cam else x.direction.value
        out.append(EventView(x.ts_ms, "crossing", x.camera_id, f"{x.label} crossed {x.line_id} {direction} at {where}"))
    return out


def status_events(cfg: AppConfig, statuses_newest_first: Sequence[CameraStatus]) -> list[EventView]:
    """Event lines for camera state *changes*.

    Workers publish a heartbeat every second to ``camera.status``; only the first heartbeat
    seen of each camera and each change of state become an event line.
    """
    names = {c.id: c.name for c in cfg.cameras}
    previous: dict[str, str] = {}
    out = []
    for st in reversed(statuses_newest_first):  # oldest first
        state = st.state.value
        if previous.get(st.camera_id) == state:
            continue
        previous[st.camera_id] = state
        name = names.get(st.camera_id, st.camera_id)
        text = f"{name} is {state}" + (f": {st.error}" if st.error and state != CameraState.ONLINE.value else "")
        severity = "ok" if state == CameraState.ONLINE.value else "warning"
        out.append(EventView(st.ts_ms, "status", st.camera_id, text, severity))
    return out


def merge_events(*groups: Iterable[EventView], limit: int = 25) -> tuple[EventView, ...]:
    """Newest ``limit`` events of all groups, newest first."""
    merged = [e for g in groups for e in g]
    merged.sort(key=lambda e: e.ts_ms, reverse=True)
    return tuple(merged[:limit])


# --------------------------------------------------------------------------- JSON documents


def health_document(cfg: AppConfig, redis_ok: bool, cameras: Sequence[CameraView]) -> tuple[dict[str, Any], int]:
    """Body and HTTP status of ``/healthz``.

    200 only when Redis answers and at least one enabled camera is online with a heartbeat
    younger than :data:`HEARTBEAT_FRESH_S`; 503 otherwise.
    """
    healthy = redis_ok and any(c.enabled and c.online for c in cameras)
    body = {
        "status": "ok" if healthy else "degraded",
        "redis": redis_ok,
        "cameras": [
            {
                "id": c.id,
                "name": c.name,
                "enabled": c.enabled,
                "state": c.state,
                "fps_in": c.fps_in,
                "fps_analysed": c.fps_analysed,
                "heartbeat_age_s": c.heartbeat_age_s,
                "last_frame_age_s": c.last_frame_age_s,
            }
            for c in cameras
        ],
    }
    return body, 200 if healthy else 503


def traffic_document(segments: Sequence[SegmentView], generated_ms: int) -> dict[str, Any]:
    """Body of ``/api/v1/traffic``: per-segment congestion, nothing personal."""
    return {
        "segments": [
            {
                "id": s.id,
                "name": s.name,
                "level": s.level,
                "vehicles": s.vehicles,
                "occupancy": s.occupancy,
                "mean_speed_kmh": s.mean_speed_kmh,
                "updated": iso_utc(s.updated_ms),
            }
            for s in segments
        ],
        "generated": iso_utc(generated_ms),
    }


# --------------------------------------------------------------------------- readers (Redis)


def redis_ok(store: LiveStore) -> bool:
    """True when Redis answers a PING (never raises)."""
    try:
        return bool(store.ping())
    except Exception:  # noqa: BLE001 - any failure to reach Redis means "down" here
        return False


def read_cameras(cfg: AppConfig, store: LiveStore, now: int | None = None) -> tuple[bool, tuple[CameraView, ...]]:
    """``(redis_ok, camera views)``; with Redis down every camera is ``unknown``."""
    now = now_ms() if now is None else now
    if not redis_ok(store):
        return False, camera_views(cfg, {}, now)
    try:
        statuses = store.camera_statuses()
    except Exception as e:  # noqa: BLE001
        log.warning("reading camera statuses failed: %s", e)
        return False, camera_views(cfg, {}, now)
    return True, camera_views(cfg, statuses, now)


def read_segments(cfg: AppConfig, store: LiveStore, now: int | None = None) -> tuple[bool, tuple[SegmentView, ...]]:
    """``(redis_ok, segment views)``; with Redis down every segment is ``unknown``."""
    now = now_ms() if now is None else now
    if not redis_ok(store):
        return False, segment_views(cfg, {}, now)
    try:
        segments = store.segments()
    except Exception as e:  # noqa: BLE001
        log.warning("reading segments failed: %s", e)
        return False, segment_views(cfg, {}, now)
    return True, segment_views(cfg, segments, now)


def read_snapshot(
    cfg: AppConfig,
    store: LiveStore,
    bus: EventBus,
    selected_camera: str | None = None,
    now: int | None = None,
    crossing_count: int = 20,
    status_count: int = 200,
) -> Snapshot:
    """Read everything the control room shows, in one go.

    Args:
        cfg: Configuration.
        store: Live state.
        bus: Event streams.
        selected_camera: Camera whose latest frame timestamp is wanted (None: none).
        now: Current time, epoch ms (default: the clock).
        crossing_count: Recent ``traffic.crossing`` messages to read.
        status_count: Recent ``camera.status`` messages to read (heartbeats; only
            changes are shown).

    Returns:
        A snapshot; ``redis_ok`` False (and config-only content) when Redis is down.
    """
    now = now_ms() if now is None else now
    offline = Snapshot(
        generated_ms=now,
        redis_ok=False,
        error="Redis unreachable",
        cameras=camera_views(cfg, {}, now),
        counts={c.id: counts_view(c, None) for c in cfg.cameras},
        segments=segment_views(cfg, {}, now),
    )
    if not redis_ok(store):
        return offline
    try:
        statuses = store.camera_statuses()
        densities = store.densities()
        segments = store.segments()
        frame_ts: dict[str, int] = {}
        if selected_camera is not None:
            ts = store.frame_ts(selected_camera)
            if ts is not None:
                frame_ts[selected_camera] = ts
        crossings = [
            m.envelope.obj
            for m in bus.recent(CROSSING_STREAM, crossing_count)
            if isinstance(m.envelope.obj, LineCrossing)
        ]
        heartbeats = [
            m.envelope.obj for m in bus.recent(STATUS_STREAM, status_count) if isinstance(m.envelope.obj, CameraStatus)
        ]
    except Exception as e:  # noqa: BLE001 - Redis went away mid-read: show degraded, never crash
        log.warning("reading live state failed: %s", e)
        return replace(offline, error=f"Redis error: {e}")
    return Snapshot(
        generated_ms=now,
        redis_ok=True,
        cameras=camera_views(cfg, statuses, now),
        counts={c.id: counts_view(c, densities.get(c.id)) for c in cfg.cameras},
        segments=segment_views(cfg, segments, now),
        # Status changes are rare and matter: keep room for them among the many crossings.
        events=merge_events(crossing_events(cfg, crossings)[:15], status_events(cfg, heartbeats)[-10:]),
        frame_ts_ms=frame_ts,
    )
