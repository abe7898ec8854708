"""The websocket push server (``python -m dashboard.live``) against a real redis-server.

Runs the dashboard and the live server as child processes (``DashboardProcess(live=True)``)
with the demo users of config/default.yaml and a throw-away SQLite file; events are
published on the real streams through ``bus/``; clients are real websocket clients
(``websockets.sync``) logged in through the login form.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import load_config
from core.clock import now_ms
from core.types import (
    CameraState,
    CameraStatus,
    CongestionLevel,
    ETicket,
    Incident,
    IncidentKind,
    Priority,
    SegmentDensity,
    TicketState,
    TrafficUpdate,
    WardenAlert,
)
from dashboard.process import DashboardProcess, cookie_header, login

CFG = load_config()
DEMO = {"operator": "operator-demo", "warden1": "warden-demo-1", "warden2": "warden-demo-2", "admin": "admin-demo-1"}
PLATE = "LEA-4321"


@pytest.fixture(scope="module")
def dash(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardProcess]:
    tmp = tmp_path_factory.mktemp("live")
    with DashboardProcess(
        redis_server,
        archive_url=f"sqlite:///{tmp / 'dash.db'}",
        log_path=tmp / "dash.log",
        live=True,
        live_args=("--session-recheck-s", "0.5"),
    ) as d:
        yield d


@pytest.fixture(scope="module")
def cookies(dash: DashboardProcess) -> dict[str, str]:
    return {u: cookie_header(login(dash.url, u, pw)) for u, pw in DEMO.items()}


@pytest.fixture
def bus(redis_client: redis.Redis) -> EventBus:
    """The bus on the session Redis; emptied after the test (``redis_client``), as every test leaves it."""
    return EventBus(redis_client)


def _open(
    dash: DashboardProcess, channel: str, cookie: str | None = None, origin: str | None = None
) -> ClientConnection:
    headers = {"Origin": origin or dash.url}
    if cookie:
        headers["Cookie"] = cookie
    ws = connect(f"{dash.live_url}?channel={channel}", additional_headers=headers, open_timeout=10)
    hello = json.loads(ws.recv(timeout=5))
    assert hello["type"] == "batch" and hello["messages"][0]["type"] == "hello"
    return ws


def _collect(ws: ClientConnection, seconds: float, until: str | None = None) -> list[dict[str, Any]]:
    """Messages received within ``seconds`` (stops early after one of type ``until``)."""
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            m = json.loads(ws.recv(timeout=left))
        except TimeoutError:
            break
        m["recv_ms"] = now_ms()
        out += m["messages"] if m["type"] == "batch" else [m]
        if until is not None and any(x["type"] == until for x in out):
            break
    return out


def _incident(segment: str, kind: IncidentKind = IncidentKind.OVERSPEED) -> Incident:
    t = now_ms()
    return Incident(
        f"inc-{segment}-{t}",
        kind,
        Priority.HIGH,
        t,
        CFG.cameras[0].id,
        segment,
        (34.0, 71.5),
        7,
        PLATE,
        f"{kind.value} on {segment}",
    )


def _alert(inc: Incident, wardens: tuple[str, ...]) -> WardenAlert:
    return WardenAlert(
        f"al-{inc.incident_id}"[:20],
        inc.incident_id,
        inc.segment_id,
        wardens,
        now_ms(),
        kind=inc.kind,
        priority=inc.priority,
        summary=inc.summary,
    )


def test_operator_channel_needs_an_operator_login(dash: DashboardProcess, cookies: dict[str, str]) -> None:
    with pytest.raises(InvalidStatus) as anon:
        _open(dash, "ops")
    assert anon.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as warden:
        _open(dash, "ops", cookies["warden1"])
    assert warden.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as operator_on_warden:
        _open(dash, "warden", cookies["operator"])
    assert operator_on_warden.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as foreign:
        _open(dash, "public", origin="http://evil.example")
    assert foreign.value.response.status_code == 403


def test_operators_get_incidents_with_details_at_once(
    dash: DashboardProcess, cookies: dict[str, str], bus: EventBus
) -> None:
    ws = _open(dash, "ops", cookies["operator"])
    try:
        inc = _incident("saddar-rd", IncidentKind.SOS)
        bus.publish(inc)
        got = [m for m in _collect(ws, 5, until="incident") if m["type"] == "incident"]
        assert got, "no incident pushed"
        m = got[0]
        assert m["incident"]["id"] == inc.incident_id and m["incident"]["plate"] == PLATE
        assert m["recv_ms"] - m["stream_ms"] < 1000, m  # Redis -> browser well within a second
    finally:
        ws.close()


def test_wardens_get_alerts_of_their_own_zones_only(
    dash: DashboardProcess, cookies: dict[str, str], bus: EventBus
) -> None:
    w1 = _open(dash, "warden", cookies["warden1"])  # university-rd, saddar-rd
    w2 = _open(dash, "warden", cookies["warden2"])  # gt-rd, ring-rd
    try:
        inc = _incident("gt-rd", IncidentKind.CONGESTION)
        bus.publish(inc)  # operators' incident: never to wardens directly
        bus.publish(_alert(inc, ("warden2",)))
        got2 = _collect(w2, 5, until="alert")
        alerts2 = [m for m in got2 if m["type"] == "alert"]
        assert [a["alert"]["incident_id"] for a in alerts2] == [inc.incident_id]
        assert not [m for m in got2 if m["type"] == "incident"]
        assert PLATE not in json.dumps(got2)
        assert not [m for m in _collect(w1, 1.0) if m["type"] in ("alert", "incident")]
        mine = _incident("university-rd", IncidentKind.STALLED)
        bus.publish(_alert(mine, ()))  # not addressed by name, but in warden1's zone
        assert [m["alert"]["incident_id"] for m in _collect(w1, 5, until="alert") if m["type"] == "alert"] == [
            mine.incident_id
        ]
    finally:
        w1.close()
        w2.close()


def test_public_channel_carries_road_status_and_published_updates_only(dash: DashboardProcess, bus: EventBus) -> None:
    ws = _open(dash, "public")
    try:
        t = now_ms()
        inc = _incident("ring-rd", IncidentKind.WATCHLIST)
        bus.publish(inc)
        bus.publish(_alert(inc, ("warden2",)))
        bus.publish(
            ETicket(
                "ET-AAAA-BBBB-CCCC",
                "v1",
                IncidentKind.OVERSPEED,
                TicketState.ISSUED,
                CFG.cameras[0].id,
                "gt-rd",
                t,
                t,
                "car",
                PLATE,
                0.9,
                2500,
            )
        )
        bus.publish(TrafficUpdate("tu-1", "Draft", "not yet", t, "operator"))
        bus.publish(
            TrafficUpdate("tu-2", "Ring Road closed", "Use GT Road", t + 1, "operator", "رنگ روڈ بند", "ring-rd", True)
        )
        bus.publish(SegmentDensity("ring-rd", t, 12.0, 0.55, CongestionLevel.JAMMED, (CFG.cameras[3].id,), 9.0))
        msgs = _collect(ws, 3)
        types = {m["type"] for m in msgs}
        assert types <= {"segments", "traffic_update", "traffic_update_removed"}, types
        updates = {m["update"]["id"]: m["update"] for m in msgs if m["type"] == "traffic_update"}
        assert list(updates) == ["tu-2"] and updates["tu-2"]["body_ur"] == "رنگ روڈ بند"
        assert [m["id"] for m in msgs if m["type"] == "traffic_update_removed"] == ["tu-1"]
        segs = [s for m in msgs if m["type"] == "segments" for s in m["segments"] if s["id"] == "ring-rd"]
        assert segs and segs[-1]["level"] == "jammed"
        text = json.dumps(msgs)
        for secret in (PLATE, inc.incident_id, "ET-AAAA", CFG.cameras[3].id):
            assert secret not in text
    finally:
        ws.close()


def test_logging_out_closes_the_socket(dash: DashboardProcess) -> None:
    c = login(dash.url, "operator", DEMO["operator"])
    ws = _open(dash, "ops", cookie_header(c))
    try:
        import urllib.parse
        import urllib.request

        req = urllib.request.Request(
            dash.url + "/logout",
            data=urllib.parse.urlencode({"csrf_token": c["sc_csrf"]}).encode(),
            headers={"Cookie": cookie_header(c)},
        )
        urllib.request.urlopen(req, timeout=10).close()
        with pytest.raises(ConnectionClosed) as closed:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                ws.recv(timeout=deadline - time.monotonic())
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    finally:
        ws.close()


def test_healthz_counts_clients(dash: DashboardProcess) -> None:
    import urllib.request

    ws = _open(dash, "public")
    try:
        port = dash.live_url.split(":")[2].split("/")[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            body = json.loads(r.read())
        assert body["status"] == "ok" and body["clients"]["public"] >= 1
    finally:
        ws.close()


def test_metrics_report_websocket_clients_and_push_latency(
    dash: DashboardProcess, cookies: dict[str, str], bus: EventBus
) -> None:
    import urllib.request

    LiveStore(bus.client).put_camera_status(
        CameraStatus(
            CFG.cameras[0].id,
            CameraState.ONLINE,
            now_ms(),
            "w1",
            10.0,
            5.0,
            100,
            50,
            50,
            1,
            2,
            now_ms(),
            plates_asked=9,
            plates_read=6,
            plates_dropped=2,
            plates_failed=1,
            clip_ring_bytes=123_456,
            clip_ring_frames=87,
            clips_written=5,
            clips_failed=2,
        )
    )
    ws = _open(dash, "ops", cookies["operator"])
    try:
        bus.publish(_incident("gt-rd"))
        _collect(ws, 3, until="incident")
        time.sleep(2.5)  # the live server writes its stats every 2 s
        with urllib.request.urlopen(dash.url + "/metrics", timeout=10) as r:
            text = r.read().decode()
    finally:
        ws.close()
    for name in (
        "safecity_cameras_online",
        "safecity_camera_fps_in",
        "safecity_camera_frames_skipped_total",
        "safecity_camera_detector_runs_total",
        "safecity_camera_detector_seconds_total",
        "safecity_events_per_second",
        'safecity_websocket_clients{channel="ops"}',
        "safecity_alert_push_latency_seconds_bucket",
        "safecity_alert_push_latency_seconds_count",
        "safecity_redis_up 1.0",
    ):
        assert name in text, name
    ops = [ln for ln in text.splitlines() if ln.startswith('safecity_websocket_clients{channel="ops"}')]
    assert float(ops[0].split()[-1]) >= 1
    count = [ln for ln in text.splitlines() if ln.startswith("safecity_alert_push_latency_seconds_count")]
    assert float(count[0].split()[-1]) >= 1
    assert PLATE not in text
    cam = CFG.cameras[0].id
    for name, n in (("asked", 9), ("read", 6), ("dropped", 2), ("failed", 1)):
        assert f'safecity_camera_plates_{name}_total{{camera="{cam}"}} {n}.0' in text, name
    for line in (
        f'safecity_camera_clip_ring_bytes{{camera="{cam}"}} 123456.0',
        f'safecity_camera_clip_ring_frames{{camera="{cam}"}} 87.0',
        f'safecity_camera_clips_written_total{{camera="{cam}"}} 5.0',
        f'safecity_camera_clips_failed_total{{camera="{cam}"}} 2.0',
    ):
        assert line in text, line


def test_incident_actions_are_folded_into_the_feed_and_pushed(
    dash: DashboardProcess, cookies: dict[str, str], bus: EventBus
) -> None:
    from bus.alerts import AlertStore
    from dashboard.incidents import ActionError, IncidentFilter, act, read_incidents

    alerts = AlertStore(bus.client)
    ws = _open(dash, "ops", cookies["operator"])
    try:
        inc = _incident("saddar-rd", IncidentKind.STALLED)
        bus.publish(inc)
        act(bus, None, alerts, inc.incident_id, "ack", "operator", "on it")
        with pytest.raises(ActionError, match="assignee"):
            act(bus, None, alerts, inc.incident_id, "assign", "operator")
        act(bus, None, alerts, inc.incident_id, "assign", "operator", assignee="warden1")
        (view,) = [v for v in read_incidents(bus, IncidentFilter(segment_id="saddar-rd")) if v.id == inc.incident_id]
        assert (
            view.state == "assigned"
            and view.assignee == "warden1"
            and [h.action for h in view.history] == ["ack", "assign"]
        )
        act(bus, None, alerts, inc.incident_id, "close", "operator", "towed away")
        with pytest.raises(ActionError, match="closed"):
            act(bus, None, alerts, inc.incident_id, "ack", "operator")
        with pytest.raises(ActionError, match="unknown incident"):
            act(bus, None, alerts, "no-such-incident", "ack", "operator")
        got = _collect(ws, 5)
        pushed = [
            m["update"]["action"]
            for m in got
            if m["type"] == "incident_update" and m["update"]["incident_id"] == inc.incident_id
        ]
        assert pushed == ["ack", "assign", "close"]
    finally:
        ws.close()


def _post(dash: DashboardProcess, path: str, cookies: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
    """POST JSON as a logged-in browser (session cookie + CSRF header) -> ``(status, decoded body)``."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(
        dash.url + path,
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Cookie": cookie_header(cookies),
            "X-CSRF-Token": cookies["sc_csrf"],
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _page_action(dash: DashboardProcess, cookies: dict[str, str], iid: str, action: str, note: str) -> str:
    """Click an action button of the incidents page (its Dash callback) -> the text it shows."""

    def key(component: dict[str, str]) -> str:
        return json.dumps(component, sort_keys=True, separators=(",", ":"))

    button = {"type": "if-act", "id": iid, "action": action}
    assignee, note_id = {"type": "if-assignee", "id": iid}, {"type": "if-note", "id": iid}
    status, body = _post(
        dash,
        "/_dash-update-component",
        cookies,
        {
            "output": "if-result.children",
            "outputs": {"id": "if-result", "property": "children"},
            "inputs": [[{"id": button, "property": "n_clicks", "value": 1}]],
            "changedPropIds": [key(button) + ".n_clicks"],
            "state": [
                [{"id": assignee, "property": "value", "value": None}],
                [{"id": assignee, "property": "id", "value": assignee}],
                [{"id": note_id, "property": "value", "value": note}],
                [{"id": note_id, "property": "id", "value": note_id}],
            ],
        },
    )
    assert status == 200, body
    return str(body["response"]["if-result"]["children"])


def test_incidents_page_and_api_share_one_action(
    dash: DashboardProcess, bus: EventBus, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The page's button and POST /api/v1/incidents/<id>/action: one note limit, one state, both acknowledge
    the warden alert (the page used to cut long notes and leave the alert to escalate)."""
    from dataclasses import replace

    from archive import Archive
    from bus.alerts import AlertStore
    from core.alerts import AlertDesk, Roster
    from core.incidents import NOTE_MAX_CHARS

    assert dash.archive_url
    arc = Archive(dash.archive_url, tmp_path_factory.mktemp("ev"))
    alerts = AlertStore(bus.client)
    op = login(dash.url, "operator", DEMO["operator"])
    too_long = "x" * (NOTE_MAX_CHARS + 1)
    seen = {}
    try:
        for path in ("page", "api"):
            base = _incident("university-rd", IncidentKind.STALLED)
            inc = replace(base, incident_id=f"{base.incident_id}-{path}")
            arc.add_incident(inc)
            bus.publish(inc)
            alert = AlertDesk(Roster.build([("warden1", ["university-rd"])]), 60).raise_for(inc, now_ms())
            assert alert is not None
            alerts.save(alert)
            url = f"/api/v1/incidents/{inc.incident_id}/action"
            if path == "page":
                refused = _page_action(dash, op, inc.incident_id, "ack", too_long).removeprefix("Not done: ")
                assert _page_action(dash, op, inc.incident_id, "ack", "on it").endswith("done")
            else:
                code, body = _post(dash, url, op, {"action": "ack", "note": too_long})
                assert code == 422
                refused = body["error"]
                assert _post(dash, url, op, {"action": "ack", "note": "on it"})[0] == 200
            v = arc.get_incident(inc.incident_id)
            assert v is not None
            seen[path] = (
                refused,
                v.state,
                [(h.action, h.note) for h in v.history],
                alerts.get(alert.alert_id).acked_by,
            )
    finally:
        arc.close()
    assert seen["page"] == seen["api"]
    assert seen["api"] == (
        f"note is too long (at most {NOTE_MAX_CHARS} characters)",
        "acknowledged",
        [("ack", "on it")],
        "operator",
    )
