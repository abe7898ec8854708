"""Dashboard HTTP routes against a real redis-server: /healthz, /api/v1/traffic, frames, MJPEG.

The dashboard's Flask server runs in a thread of this process (one app per process: Dash
pages register callbacks globally); the Redis-down cases run ``python -m dashboard`` as a
child process pointed at a port where nothing listens. Camera routes and pages need an
operator login (the demo ``operator`` of config/default.yaml); users and sessions live in a
throw-away SQLite file.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import redis
from werkzeug.serving import make_server

from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import AppConfig, load_config
from core.clock import now_ms
from core.types import CameraState, CameraStatus, CongestionLevel, DensityReport, LineCrossing, SegmentDensity
from core.types import Direction as D
from dashboard.process import DashboardProcess, cookie_header, free_port, login

#: Pakistani-style plates as the synthetic scenes and real cameras show them (LEB-1234, ABC 123, PK 7788...).
PLATE_LIKE = re.compile(r"\b[A-Z]{2,4}[- ]?\d{2,4}\b")


def _config() -> AppConfig:
    """The demo config with its last camera disabled (to check it never makes the system healthy)."""
    cfg = load_config()
    cams = list(cfg.cameras)
    cams[-1] = cams[-1].model_copy(update={"enabled": False})
    return cfg.model_copy(update={"cameras": tuple(cams)})


CFG = _config()
#: Demo credentials of config/default.yaml (documented in docs/dashboard.md).
OPERATOR = ("operator", "operator-demo")
ENABLED = [c.id for c in CFG.cameras if c.enabled]
DISABLED = [c.id for c in CFG.cameras if not c.enabled][0]


@pytest.fixture(scope="module")
def base_url(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard served on a free port by a thread of this process."""
    from dashboard.app import create_app

    client = redis.Redis.from_url(redis_server, socket_timeout=5, socket_connect_timeout=2)
    app = create_app(CFG, client, db_url=f"sqlite:///{tmp_path_factory.mktemp('sql') / 'dash.db'}")
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="dashboard-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        client.close()


@pytest.fixture
def store(redis_client: redis.Redis) -> LiveStore:
    return LiveStore(redis_client)


@pytest.fixture(scope="module")
def op(base_url: str) -> str:
    """Cookie header of an operator session."""
    return cookie_header(login(base_url, *OPERATOR))


def get(url: str, timeout: float = 10.0, cookie: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET ``url`` (``http://host:port/path``) -> ``(status, headers, body)``; never raises on 4xx/5xx."""
    m = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
    assert m, url
    conn = http.client.HTTPConnection(m.group(1), int(m.group(2)), timeout=timeout)
    try:
        conn.request("GET", m.group(3), headers={"Cookie": cookie} if cookie else {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def get_json(url: str, cookie: str | None = None) -> tuple[int, Any]:
    status, headers, body = get(url, cookie=cookie)
    assert headers["content-type"].startswith("application/json"), (url, headers, body[:200])
    return status, json.loads(body)


def jpeg(value: int, size: tuple[int, int] = (96, 160)) -> bytes:
    img = np.full((*size, 3), value, np.uint8)
    cv2.putText(img, str(value), (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (255, 255, 255), 2)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def status(camera_id: str, state: CameraState = CameraState.ONLINE, age_s: float = 0.0, **kw: Any) -> CameraStatus:
    t = now_ms() - int(age_s * 1000)
    return CameraStatus(camera_id, state, t, worker_id="test", fps_in=10.0, fps_analysed=5.0, last_frame_ts_ms=t, **kw)


# --------------------------------------------------------------------------- /healthz


def test_healthz_is_503_with_redis_up_but_no_heartbeat(base_url: str, store: LiveStore) -> None:
    code, body = get_json(base_url + "/healthz")
    assert code == 503
    assert body["status"] == "degraded" and body["redis"] is True
    assert [c["id"] for c in body["cameras"]] == [c.id for c in CFG.cameras]
    for cam in body["cameras"]:
        assert {"id", "name", "state", "fps_in", "fps_analysed", "last_frame_age_s"} <= cam.keys()
        assert cam["state"] in {"unknown", "disabled"}
        assert cam["last_frame_age_s"] is None


def test_healthz_is_200_with_one_fresh_online_camera(base_url: str, store: LiveStore) -> None:
    store.put_camera_status(status(ENABLED[0], age_s=1.0))
    store.put_camera_status(status(ENABLED[1], CameraState.OFFLINE, error="connection refused"))
    code, body = get_json(base_url + "/healthz")
    assert code == 200, body
    assert body["status"] == "ok" and body["redis"] is True
    cams = {c["id"]: c for c in body["cameras"]}
    assert cams[ENABLED[0]]["state"] == "online"
    assert cams[ENABLED[0]]["fps_in"] == 10.0 and cams[ENABLED[0]]["fps_analysed"] == 5.0
    assert 0.5 <= cams[ENABLED[0]]["last_frame_age_s"] < 5
    assert cams[ENABLED[0]]["name"] == CFG.camera(ENABLED[0]).name
    assert cams[ENABLED[1]]["state"] == "offline"


@pytest.mark.parametrize(
    ("camera", "state", "age_s", "shown"),
    [
        ("enabled", CameraState.ONLINE, 6.0, "stale"),  # heartbeat older than 5 s
        ("enabled", CameraState.OFFLINE, 0.0, "offline"),
        ("enabled", CameraState.STARTING, 0.0, "starting"),
        ("enabled", CameraState.ENDED, 0.0, "ended"),
        ("disabled", CameraState.ONLINE, 0.0, "disabled"),  # a disabled camera never makes us healthy
    ],
)
def test_healthz_is_503_without_a_fresh_online_enabled_camera(
    base_url: str, store: LiveStore, camera: str, state: CameraState, age_s: float, shown: str
) -> None:
    cam_id = ENABLED[0] if camera == "enabled" else DISABLED
    store.put_camera_status(status(cam_id, state, age_s=age_s))
    code, body = get_json(base_url + "/healthz")
    assert code == 503, body
    assert body["status"] == "degraded"
    assert {c["id"]: c["state"] for c in body["cameras"]}[cam_id] == shown


def test_healthz_rejects_other_methods_with_json(base_url: str) -> None:
    m = re.match(r"http://([^:/]+):(\d+)", base_url)
    assert m
    conn = http.client.HTTPConnection(m.group(1), int(m.group(2)), timeout=10)
    try:
        conn.request("POST", "/healthz", body=b"{}")
        resp = conn.getresponse()
        assert resp.status == 405
        assert "error" in json.loads(resp.read())
    finally:
        conn.close()


# --------------------------------------------------------------------------- /api/v1/traffic


def _iso_ms(text: str) -> int:
    assert text.endswith("Z"), text
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def test_traffic_lists_every_segment_with_levels_and_nothing_personal(
    base_url: str, store: LiveStore, redis_client: redis.Redis
) -> None:
    t = now_ms()
    seg_ids = [s.id for s in CFG.segments]
    store.put_segment(SegmentDensity(seg_ids[0], t - 500, 12.4, 0.31, CongestionLevel.HEAVY, (ENABLED[0],), 21.5))
    store.put_segment(SegmentDensity(seg_ids[1], t - 120_000, 3.0, 0.05, CongestionLevel.JAMMED, (ENABLED[1],)))
    # Personal data sits next to the traffic state in Redis; none of it may reach the public API.
    bus = EventBus(redis_client)
    bus.publish(LineCrossing(ENABLED[0], "l1", 7, "car", D.FORWARD, t))
    store.put_camera_status(status(ENABLED[0], error="plate LEB-1234 unreadable"))
    store.put_density(DensityReport(ENABLED[0], seg_ids[0], t, 4.0, 0.2, by_label=(("car", 3),)))

    code, headers, raw = get(base_url + "/api/v1/traffic")
    assert code == 200
    assert headers["content-type"].startswith("application/json")
    body = json.loads(raw)
    assert set(body) == {"segments", "generated"}
    assert abs(_iso_ms(body["generated"]) - now_ms()) < 10_000
    segs = {s["id"]: s for s in body["segments"]}
    assert list(segs) == seg_ids
    for s in body["segments"]:
        assert set(s) == {"id", "name", "level", "vehicles", "occupancy", "mean_speed_kmh", "updated"}
        assert s["name"] == CFG.segment(s["id"]).name
    first = segs[seg_ids[0]]
    assert first["level"] == "heavy"
    assert first["vehicles"] == 12.4 and first["occupancy"] == 0.31 and first["mean_speed_kmh"] == 21.5
    assert _iso_ms(first["updated"]) == t - 500
    assert segs[seg_ids[1]]["level"] == "unknown"  # 2 minutes old: its cameras went silent
    assert segs[seg_ids[2]] == {
        "id": seg_ids[2],
        "name": CFG.segment(seg_ids[2]).name,
        "level": "unknown",
        "vehicles": None,
        "occupancy": None,
        "mean_speed_kmh": None,
        "updated": None,
    }
    text = raw.decode()
    assert not PLATE_LIKE.search(text), PLATE_LIKE.search(text)
    for cam in CFG.cameras:
        assert cam.id not in text


def test_traffic_filters_by_segment_and_rejects_malformed_queries(base_url: str, store: LiveStore, op: str) -> None:
    seg = CFG.segments[1].id
    code, body = get_json(f"{base_url}/api/v1/traffic?segment={seg}")
    assert code == 200 and [s["id"] for s in body["segments"]] == [seg]
    code, body = get_json(f"{base_url}/api/v1/traffic?segment=atlantis")
    assert code == 404 and "atlantis" in body["error"]
    code, body = get_json(f"{base_url}/api/v1/traffic?plates=1")
    assert code == 400 and "plates" in body["error"]
    code, body = get_json(f"{base_url}/api/v1/nothing-here")
    assert code == 401 and "error" in body  # unknown API paths are closed to anonymous callers
    code, body = get_json(f"{base_url}/api/v1/nothing-here", op)
    assert code == 404 and "error" in body


# --------------------------------------------------------------------------- frames


def test_latest_jpg_serves_the_stored_frame(base_url: str, store: LiveStore, op: str) -> None:
    cam = ENABLED[0]
    code, body = get_json(f"{base_url}/camera/{cam}/latest.jpg")
    assert code == 401 and "login" in body["error"]  # camera frames are for operators only
    code, body = get_json(f"{base_url}/camera/{cam}/latest.jpg", op)
    assert code == 404 and "no frame" in body["error"]
    data = jpeg(90)
    t = now_ms()
    store.put_frame(cam, data, t)
    code, headers, raw = get(f"{base_url}/camera/{cam}/latest.jpg?t={t}", cookie=op)
    assert code == 200
    assert headers["content-type"] == "image/jpeg"
    assert headers["cache-control"] == "no-store"
    assert headers["x-frame-timestamp-ms"] == str(t)
    assert raw == data
    img = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None and img.shape == (96, 160, 3)


@pytest.mark.parametrize(
    ("path", "code", "word"),
    [
        ("/camera/cam-atlantis/latest.jpg", 404, "unknown camera"),
        ("/camera/cam-atlantis/stream.mjpg", 404, "unknown camera"),
        ("/camera/Bad%20Id!/latest.jpg", 400, "malformed camera id"),
        ("/camera/{cam}/thumbnail.png", 404, "latest.jpg"),
        ("/camera/{cam}/stream.mjpg?fps=fast", 400, "fps"),
        ("/camera/{cam}/stream.mjpg?fps=500", 400, "fps"),
        ("/camera/{cam}/stream.mjpg?max_frames=0", 400, "max_frames"),
        ("/camera/{cam}/stream.mjpg?quality=9", 400, "quality"),
    ],
)
def test_camera_routes_reject_bad_requests_with_json(base_url: str, op: str, path: str, code: int, word: str) -> None:
    got, body = get_json(base_url + path.format(cam=ENABLED[0]), op)
    assert got == code, body
    assert word in body["error"]
    assert body["status"] == code


def _read_part(resp: http.client.HTTPResponse) -> tuple[dict[str, str], bytes]:
    """Read one ``multipart/x-mixed-replace`` part: its headers and body."""
    line = resp.readline()
    while line in (b"\r\n", b"\n"):
        line = resp.readline()
    assert line.strip() == b"--frame", line
    headers: dict[str, str] = {}
    while (line := resp.readline()) not in (b"\r\n", b"\n", b""):
        k, _, v = line.decode().partition(":")
        headers[k.strip().lower()] = v.strip()
    return headers, resp.read(int(headers["content-length"]))


def test_mjpeg_relays_the_stored_frame_and_its_updates(base_url: str, store: LiveStore, op: str) -> None:
    cam = ENABLED[1]
    first, second = jpeg(40), jpeg(200)
    t = now_ms()
    store.put_frame(cam, first, t)
    m = re.match(r"http://([^:/]+):(\d+)", base_url)
    assert m
    conn = http.client.HTTPConnection(m.group(1), int(m.group(2)), timeout=10)
    try:
        conn.request("GET", f"/camera/{cam}/stream.mjpg?fps=20", headers={"Cookie": op})
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.getheader("Content-Type") == "multipart/x-mixed-replace; boundary=frame"
        headers, body = _read_part(resp)
        assert headers["content-type"] == "image/jpeg"
        assert headers["x-frame-timestamp-ms"] == str(t)
        assert body == first
        store.put_frame(cam, second, t + 200)
        headers, body = _read_part(resp)
        assert body == second and headers["x-frame-timestamp-ms"] == str(t + 200)
    finally:
        conn.close()


def test_mjpeg_max_frames_ends_the_stream(base_url: str, store: LiveStore, op: str) -> None:
    cam = ENABLED[0]
    store.put_frame(cam, jpeg(10), now_ms())
    code, headers, raw = get(f"{base_url}/camera/{cam}/stream.mjpg?max_frames=1", cookie=op)
    assert code == 200
    assert raw.startswith(b"--frame\r\nContent-Type: image/jpeg\r\n")
    assert raw.count(b"--frame") == 1 and raw.rstrip().endswith(b"\xff\xd9")


# --------------------------------------------------------------------------- the page itself


def test_page_and_its_assets_are_served_locally(base_url: str, op: str) -> None:
    code, headers, _ = get(base_url + "/")
    assert code == 302 and headers["location"].startswith("/login")  # operators only
    code, headers, raw = get(base_url + "/", cookie=op)
    assert code == 200 and headers["content-type"].startswith("text/html")
    html = raw.decode()
    refs = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert any("bootstrap" in r for r in refs), refs
    assert any("dash_leaflet" in r for r in refs), refs
    for ref in refs:
        assert not re.match(r"^(https?:)?//", ref), f"off-site asset {ref}"
        code, _, _ = get(base_url + ref)
        assert code == 200, ref


# --------------------------------------------------------------------------- Redis down


def test_redis_down_gives_degraded_answers_not_crashes(tmp_path: Path) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    archive = f"sqlite:///{tmp_path / 'dash.db'}"
    with DashboardProcess(redis_url=dead, log_path=tmp_path / "dashboard.log", archive_url=archive) as dash:
        op = cookie_header(login(dash.url, *OPERATOR))  # logins live in SQL: they work without Redis
        code, body = get_json(dash.url + "/healthz")
        assert code == 503 and body["redis"] is False and body["status"] == "degraded"
        code, body = get_json(dash.url + "/api/v1/traffic")
        assert code == 503 and "Redis" in body["error"]
        assert {s["level"] for s in body["segments"]} == {"unknown"}
        code, body = get_json(f"{dash.url}/camera/{ENABLED[0]}/latest.jpg", op)
        assert code == 503 and "Redis" in body["error"]
        code, _, _ = get(dash.url + "/", cookie=op)
        assert code == 200
    assert "Traceback" not in (tmp_path / "dashboard.log").read_text()


def test_mjpeg_viewers_share_one_redis_reader_per_camera(store: LiveStore) -> None:
    """Five viewers of one camera: each frame is fetched from Redis once and reaches all five."""
    from dashboard.frames import FrameHub

    hub = FrameHub(store, poll_hz=50)
    cam = ENABLED[0]
    frames = [jpeg(v) for v in (30, 120, 220)]
    t = now_ms()
    store.put_frame(cam, frames[0], t)
    got: list[list[bytes]] = [[] for _ in range(5)]

    def view(i: int) -> None:
        for part in hub.stream(cam, fps=30, max_frames=3, keepalive_s=10):
            got[i].append(part)

    threads = [threading.Thread(target=view, args=(i,)) for i in range(5)]
    for th in threads:
        th.start()
    deadline = time.monotonic() + 10
    while sum(hub.viewers().values()) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    for k, data in enumerate(frames[1:], start=1):
        time.sleep(0.3)
        store.put_frame(cam, data, t + k)
    for th in threads:
        th.join(10)
    assert all(len(g) == 3 for g in got), [len(g) for g in got]
    assert all(g[k].endswith(frames[k] + b"\r\n") for g in got for k in range(3))
    assert hub.feed(cam).reads == 3  # one JPEG fetch per new frame, not per viewer


def test_chart_series_sample_the_streams_per_bucket(redis_client: redis.Redis) -> None:
    """Occupancy per bucket from traffic.segment, vehicles counted from the cumulative density counts."""
    from bus.schema import encode
    from dashboard.series import read_series

    cam = CFG.cameras[0]
    seg = cam.segment
    t0 = now_ms() - 10 * 60_000
    t0 -= t0 % 60_000
    for minute in range(10):
        t = t0 + minute * 60_000 + 5_000
        redis_client.xadd(
            "traffic.segment",
            encode(SegmentDensity(seg, t, 5.0 + minute, 0.1 * (minute % 4), CongestionLevel.FREE)),
            id=f"{t}-0",
        )
        counts = (("main:forward", 10 * minute), ("main:backward", 5 * minute))
        if minute >= 6:  # the worker restarted: its counters began again
            counts = (("main:forward", 2 * (minute - 5)), ("main:backward", 0))
        redis_client.xadd(
            "traffic.density", encode(DensityReport(cam.id, seg, t, 4.0, 0.2, counts=counts)), id=f"{t}-0"
        )
    s = read_series(CFG, redis_client, t0, t0 + 10 * 60_000 - 1, 60).segments[seg]
    assert len(s.bucket_ms) == 10 and s.bucket_ms[0] == t0
    assert s.occupancy[:4] == (0.0, 0.1, 0.2, 0.3) and s.vehicles[9] == 14.0
    assert s.counted[:5] == (15, 15, 15, 15, 15)  # 10 forward + 5 backward a minute
    assert s.counted[5] == 2  # across the restart: the new counter's value
    assert s.counted[6:9] == (2, 2, 2)
    other = read_series(CFG, redis_client, t0, t0 + 10 * 60_000 - 1, 60).segments[CFG.cameras[1].segment]
    assert set(other.occupancy) == {None} and set(other.counted) == {None}
