"""Dashboard view models and map geometry: pure functions, no Redis, no server."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from config.settings import AppConfig, load_config, resolve_path
from core.types import (
    CameraState,
    CameraStatus,
    CongestionLevel,
    DensityReport,
    Direction,
    LineCrossing,
    SegmentDensity,
)
from dashboard.data import (
    HEARTBEAT_FRESH_S,
    SEGMENT_STALE_S,
    camera_views,
    counts_view,
    crossing_events,
    health_document,
    iso_utc,
    merge_events,
    segment_views,
    status_events,
    traffic_document,
)
from dashboard.geo import RoadsFileError, bounds_of, load_roads, map_lines

NOW = 1_714_557_600_000  # 2024-05-01T10:00:00Z


@pytest.fixture(scope="module")
def cfg() -> AppConfig:
    return load_config()


def hb(cam: str, state: CameraState = CameraState.ONLINE, age_s: float = 0.0, error: str = "") -> CameraStatus:
    t = NOW - int(age_s * 1000)
    return CameraStatus(cam, state, t, fps_in=9.96, fps_analysed=4.94, last_frame_ts_ms=t - 300, error=error)


def test_iso_utc_is_iso8601_utc_with_milliseconds() -> None:
    assert iso_utc(NOW) == "2024-05-01T10:00:00.000Z"
    assert iso_utc(NOW + 1) == "2024-05-01T10:00:00.001Z"
    assert iso_utc(0) is None and iso_utc(None) is None


@pytest.mark.parametrize(
    ("status", "state", "online"),
    [
        (None, "unknown", False),
        (hb("x", age_s=1.0), "online", True),
        (hb("x", age_s=HEARTBEAT_FRESH_S + 0.5), "stale", False),
        (hb("x", CameraState.OFFLINE, error="refused"), "offline", False),
        (hb("x", CameraState.STARTING), "starting", False),
    ],
)
def test_camera_state_comes_from_a_fresh_heartbeat(
    cfg: AppConfig, status: CameraStatus | None, state: str, online: bool
) -> None:
    cam = cfg.cameras[0].id
    statuses = {} if status is None else {cam: replace(status, camera_id=cam)}
    view = camera_views(cfg, statuses, NOW)[0]
    assert (view.id, view.state, view.online) == (cam, state, online)
    assert [v.id for v in camera_views(cfg, statuses, NOW)] == [c.id for c in cfg.cameras]
    if status is not None:
        assert view.fps_in == 10.0 and view.fps_analysed == 4.9
        assert view.last_frame_age_s == pytest.approx((NOW - status.last_frame_ts_ms) / 1000, abs=0.05)


def test_health_needs_redis_and_a_fresh_online_enabled_camera(cfg: AppConfig) -> None:
    cam = cfg.cameras[0].id
    views = camera_views(cfg, {cam: hb(cam)}, NOW)
    body, code = health_document(cfg, True, views)
    assert (code, body["status"], body["redis"]) == (200, "ok", True)
    assert (health_document(cfg, False, views)[1], health_document(cfg, True, camera_views(cfg, {}, NOW))[1]) == (
        503,
        503,
    )
    disabled = cfg.model_copy(
        update={"cameras": (cfg.cameras[0].model_copy(update={"enabled": False}), *cfg.cameras[1:])}
    )
    body, code = health_document(disabled, True, camera_views(disabled, {cam: hb(cam)}, NOW))
    assert code == 503 and body["cameras"][0]["state"] == "disabled"


def test_segments_missing_or_stale_are_unknown(cfg: AppConfig) -> None:
    s0, s1 = cfg.segments[0].id, cfg.segments[1].id
    segs = {
        s0: SegmentDensity(s0, NOW - 1000, 7.25, 0.4444, CongestionLevel.HEAVY, mean_speed_kmh=18.26),
        s1: SegmentDensity(s1, NOW - int((SEGMENT_STALE_S + 1) * 1000), 1.0, 0.6, CongestionLevel.JAMMED),
    }
    views = {v.id: v for v in segment_views(cfg, segs, NOW)}
    assert list(views) == [s.id for s in cfg.segments]
    assert (views[s0].level, views[s0].vehicles, views[s0].occupancy, views[s0].mean_speed_kmh) == (
        "heavy",
        7.2,
        0.444,
        18.3,
    )
    assert views[s1].level == "unknown" and views[s1].stale
    assert views[cfg.segments[2].id].level == "unknown" and views[cfg.segments[2].id].updated_ms is None
    doc = traffic_document(tuple(views.values()), NOW)
    assert doc["generated"] == "2024-05-01T10:00:00.000Z"
    assert doc["segments"][0]["updated"] == "2024-05-01T09:59:59.000Z"


def test_counts_use_the_line_direction_names(cfg: AppConfig) -> None:
    from config.settings import LineConfig

    cam = cfg.cameras[0].model_copy(
        update={
            "lines": (LineConfig(id="l1", a=(0, 1), b=(9, 1), forward_name="eastbound", backward_name="westbound"),)
        }
    )
    empty = counts_view(cam, None)
    assert [(d.line_id, d.direction, d.count) for d in empty.crossings] == [
        ("l1", "eastbound", 0),
        ("l1", "westbound", 0),
    ]
    assert empty.vehicles is None
    rep = DensityReport(cam.id, cam.segment, NOW, 3.33, 0.25, counts=(("l1:forward", 5), ("l2:backward", 2)))
    got = counts_view(cam, rep)
    assert [(d.line_id, d.direction, d.count) for d in got.crossings] == [
        ("l1", "eastbound", 5),
        ("l1", "westbound", 0),
        ("l2", "backward", 2),  # a line the config does not know keeps the raw direction
    ]
    assert (got.vehicles, got.occupancy, got.updated_ms) == (3.3, 0.25, NOW)


def test_status_events_show_changes_not_every_heartbeat(cfg: AppConfig) -> None:
    a, b = cfg.cameras[0], cfg.cameras[1]
    newest_first = [
        CameraStatus(a.id, CameraState.ONLINE, NOW),
        CameraStatus(a.id, CameraState.ONLINE, NOW - 1000),
        CameraStatus(b.id, CameraState.OFFLINE, NOW - 1500, error="connection refused"),
        CameraStatus(a.id, CameraState.OFFLINE, NOW - 2000, error="stall"),
        CameraStatus(a.id, CameraState.ONLINE, NOW - 3000),
        CameraStatus(a.id, CameraState.ONLINE, NOW - 4000),
    ]
    events = status_events(cfg, newest_first)
    assert [(e.camera_id, e.ts_ms) for e in events] == [
        (a.id, NOW - 4000),
        (a.id, NOW - 2000),
        (b.id, NOW - 1500),
        (a.id, NOW - 1000),
    ]
    assert events[2].text == f"{b.name} is offline: connection refused" and events[2].severity == "warning"
    assert events[3].text == f"{a.name} is online" and events[3].severity == "ok"
    crossings = crossing_events(cfg, [LineCrossing(a.id, "l9", 5, "rickshaw", Direction.BACKWARD, NOW - 500)])
    assert crossings[0].text == f"rickshaw crossed l9 backward at {a.name}"
    merged = merge_events(crossings, events, limit=3)
    assert [e.ts_ms for e in merged] == [NOW - 500, NOW - 1000, NOW - 1500]


def test_roads_file_matches_the_configured_segments(cfg: AppConfig) -> None:
    roads = load_roads(resolve_path(cfg.dashboard.map.roads_geojson))
    in_file = {r.id: r for r in roads if r.kind == "segment"}
    for seg in cfg.segments:
        assert seg.id in in_file, f"{seg.id} missing from the roads GeoJSON"
        assert in_file[seg.id].positions == tuple(seg.path), f"{seg.id}: GeoJSON differs from config path"
    segments, context = map_lines(cfg, roads)
    assert [s.id for s in segments] == [s.id for s in cfg.segments]
    assert len(context) >= 5 and all(r.kind == "road" for r in context)
    (south, west), (north, east) = bounds_of(segments, [c.location for c in cfg.cameras])
    assert 33.9 < south < north < 34.1 and 71.4 < west < east < 71.7


def test_map_falls_back_to_config_paths_and_reports_bad_files(cfg: AppConfig, tmp_path: Path) -> None:
    segments, context = map_lines(cfg, [])
    assert [s.positions for s in segments] == [tuple(s.path) for s in cfg.segments] and context == []
    with pytest.raises(RoadsFileError, match="not found"):
        load_roads(tmp_path / "missing.geojson")
    bad = tmp_path / "bad.geojson"
    bad.write_text(
        json.dumps({"type": "FeatureCollection", "features": [{"geometry": {"type": "Point", "coordinates": [1, 2]}}]})
    )
    with pytest.raises(RoadsFileError, match=r"features\[0\].*Point"):
        load_roads(bad)


def test_map_has_tiles_only_when_a_tile_url_is_configured(cfg: AppConfig) -> None:
    import dash_leaflet as dl

    from dashboard.components import map_layers

    segments, context = map_lines(cfg, [])
    assert not any(isinstance(layer, dl.TileLayer) for layer in map_layers(cfg, segments, context, None))
    url = "http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png"
    tiled = cfg.model_copy(
        update={
            "dashboard": cfg.dashboard.model_copy(
                update={"map": cfg.dashboard.map.model_copy(update={"tile_url": url})}
            )
        }
    )
    first = map_layers(tiled, segments, context, None)[0]
    assert isinstance(first, dl.TileLayer) and first.url == url
