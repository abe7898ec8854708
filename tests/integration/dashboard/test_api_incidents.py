"""SOS, ticket review, citizen lookup, incident actions and warden acks over HTTP (real Redis, SQLite).

Auth itself is the dashboard's (tests/integration/dashboard/test_routes.py); here a test header
stands in for a logged-in session so the endpoints' own validation is what is tested.
"""

from __future__ import annotations

import csv
import io

import pytest

from archive import Archive
from bus.alerts import AlertStore
from config.settings import DEFAULT_CONFIG, load_config
from core.alerts import AlertDesk, Roster
from core.incidents import NOTE_MAX_CHARS
from core.tickets import issue
from core.types import Incident, IncidentKind, Priority, TicketState, Violation
from dashboard import api_sos, api_tickets
from dashboard.incidents import ActionError, act
from services.fines import fine_schedule
from tests.integration.dashboard.apps import ApiApp, MakeApp

CFG = load_config(DEFAULT_CONFIG)
HERE = (34.0047, 71.5128)  # on University Road


@pytest.fixture
def env(make_app: MakeApp) -> ApiApp:
    return make_app(CFG, api_sos.bp, api_tickets.bp)


OP = {"X-Test-User": "op1:operator"}


def sos_body(**over: object) -> dict:
    body = {
        "location": {"lat": HERE[0], "lon": HERE[1]},
        "text": "Accident, two cars",
        "reporter": {"name": "Ali", "phone": "+92 300 1234567"},
    }
    body.update(over)
    return body


# --------------------------------------------------------------------------- SOS


def test_sos_creates_a_critical_incident(env: ApiApp) -> None:
    r = env.client.post("/api/v1/sos", json=sos_body())
    assert r.status_code == 201, r.json
    assert r.json["priority"] == "critical" and r.json["segment_id"] == "university-rd"
    # other tests' background processes may share this Redis: pick ours by id (exactly one)
    (inc,) = [m.obj for m in env.bus.recent("incident.raised") if m.obj.incident_id == r.json["incident_id"]]
    assert (
        inc.kind is IncidentKind.SOS and inc.priority is Priority.CRITICAL and inc.incident_id == r.json["incident_id"]
    )
    assert inc.location == HERE and dict(inc.details)["reporter_phone"] == "+923001234567"


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        ({"data": "not json", "content_type": "text/plain"}, 415, "JSON"),
        ({"data": "{bad", "content_type": "application/json"}, 400, "not valid JSON"),
        ({"json": [1, 2]}, 400, "JSON object"),
        ({"json": sos_body(extra=1)}, 400, "unknown field"),
        ({"json": {"text": "x", "reporter": {"phone": "03001234567"}}}, 400, "location is required"),
        ({"json": sos_body(location={"lat": 34.0})}, 400, "lat and lon"),
        ({"json": sos_body(location={"lat": "34", "lon": 71.5})}, 422, "number"),
        ({"json": sos_body(location={"lat": 95.0, "lon": 71.5})}, 422, "between -90 and 90"),
        ({"json": sos_body(location=[24.86, 67.0])}, 422, "outside the service area"),
        ({"json": sos_body(text="x" * 501)}, 422, "too long"),
        ({"json": sos_body(text=7)}, 422, "text must be a string"),
        ({"json": sos_body(reporter=None)}, 400, "reporter is required"),
        ({"json": sos_body(reporter={"phone": "call me"})}, 422, "phone"),
        ({"json": sos_body(reporter={"phone": "0300-1234567", "email": "a@b"})}, 400, "unknown reporter field"),
    ],
)
def test_sos_bad_requests_say_why(env: ApiApp, kwargs: dict, status: int, words: str) -> None:
    r = env.client.post("/api/v1/sos", **kwargs)
    assert r.status_code == status, r.json
    assert words in r.json["error"] and r.json["status"] == status
    assert env.bus.recent("incident.raised") == []


def test_sos_rate_limit_per_client(env: ApiApp) -> None:
    for _ in range(CFG.sos.rate_limit):
        assert env.client.post("/api/v1/sos", json=sos_body()).status_code == 201
    r = env.client.post("/api/v1/sos", json=sos_body())
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and "too many" in r.json["error"]
    other = env.client.post("/api/v1/sos", json=sos_body(), environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 201


def test_sos_idempotency_key(env: ApiApp) -> None:
    a = env.client.post("/api/v1/sos", json=sos_body(), headers={"Idempotency-Key": "abc-1"})
    b = env.client.post("/api/v1/sos", json=sos_body(), headers={"Idempotency-Key": "abc-1"})
    assert a.json["incident_id"] == b.json["incident_id"]
    assert env.client.post("/api/v1/sos", json=sos_body(), headers={"Idempotency-Key": "x" * 65}).status_code == 400


# --------------------------------------------------------------------------- tickets


def _seed(arc: Archive, n: int = 1, plate: str | None = "LEA1234") -> str:
    ev = tuple(arc.store_evidence(f"f{n}-{i}".encode()) for i in range(3))
    v = Violation(
        f"v{n}",
        IncidentKind.OVERSPEED,
        "cam-univ-tehkal",
        "university-rd",
        n,
        1_700_000_000_000 + n,
        "car",
        plate,
        0.9 if plate else 0.0,
        88.0,
        60.0,
        (34.0, 71.5),
        ev,
    )
    t = issue(v, fine_schedule(CFG.fines), 1_700_000_000_000)
    arc.add_ticket(t)
    return t.ticket_id


def test_ticket_endpoints_need_login(env: ApiApp) -> None:
    assert env.client.get("/api/v1/tickets").status_code == 401
    assert env.client.get("/api/v1/tickets", headers={"X-Test-User": "w:warden"}).status_code == 403


def test_list_detail_and_review(env: ApiApp) -> None:
    tid = _seed(env.arc, 1)
    _seed(env.arc, 2, plate=None)
    r = env.client.get("/api/v1/tickets?state=issued,under_review&sort=ts&limit=10", headers=OP)
    assert r.status_code == 200 and r.json["total"] == 2
    r = env.client.get("/api/v1/tickets/review", headers=OP)
    assert [t["state"] for t in r.json["tickets"]] == ["issued", "under_review"]
    d = env.client.get(f"/api/v1/tickets/{tid.lower()}", headers=OP).json
    assert d["ticket_id"] == tid and len(d["evidence"]) == 3 and d["evidence"][0]["url"].startswith("/evidence/")
    assert d["transitions"][0]["to"] == "issued"


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/api/v1/tickets?color=red", 400, "unknown query parameter"),
        ("/api/v1/tickets?sort=price", 400, "unknown sort"),
        ("/api/v1/tickets?state=lost", 400, "unknown state"),
        ("/api/v1/tickets?limit=0", 400, "limit"),
        ("/api/v1/tickets?offset=x", 400, "integer"),
        ("/api/v1/tickets?plate=%21", 422, "plate"),
        ("/api/v1/tickets/ET-0000-0000-0000", 404, "no ticket"),
        ("/api/v1/tickets/12345", 400, "malformed ticket number"),
        ("/api/v1/incidents?state=weird", 400, "unknown state"),
    ],
)
def test_ticket_bad_queries(env: ApiApp, url: str, status: int, words: str) -> None:
    r = env.client.get(url, headers=OP)
    assert r.status_code == status and words in r.json["error"], r.json


def test_review_actions(env: ApiApp) -> None:
    tid = _seed(env.arc, 1)
    url = f"/api/v1/tickets/{tid}/transition"
    cases = [
        ({"data": "x", "content_type": "text/plain"}, 415, "JSON"),
        ({"json": {"to": "approved", "why": "x"}}, 400, "unknown field"),
        ({"json": {"reason": "x"}}, 400, "to is required"),
        ({"json": {"to": "lost"}}, 422, "unknown state"),
        ({"json": {"to": "void"}}, 422, "say why"),
        ({"json": {"to": "approved"}}, 409, "cannot go to approved"),
        ({"json": {"to": "under_review", "plate": "!!"}}, 422, "plate"),
        ({"json": {"to": 3}}, 422, "must be a string"),
    ]
    for kwargs, status, words in cases:
        r = env.client.post(url, headers=OP, **kwargs)
        assert r.status_code == status and words in r.json["error"], (kwargs, r.json)
    assert env.client.post(url, json={"to": "under_review"}, headers=OP).status_code == 200
    r = env.client.post(url, json={"to": "approved", "reason": "clear"}, headers=OP)
    assert r.status_code == 200 and r.json["state"] == "approved"
    assert [(x["to"], x["actor"]) for x in r.json["transitions"]] == [
        ("issued", "system"),
        ("under_review", "op1"),
        ("approved", "op1"),
    ]
    (m,) = [m for m in env.bus.recent("ticket.updated") if m.envelope.obj.to_state is TicketState.APPROVED]
    assert m.envelope.obj.actor == "op1"
    assert (
        env.client.post(
            "/api/v1/tickets/ET-0000-0000-0000/transition", json={"to": "void", "reason": "x"}, headers=OP
        ).status_code
        == 404
    )


def test_csv_export(env: ApiApp) -> None:
    _seed(env.arc, 1)
    _seed(env.arc, 2)
    r = env.client.get("/api/v1/tickets/export.csv?kind=overspeed", headers=OP)
    assert r.status_code == 200 and r.mimetype == "text/csv" and "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert len(rows) == 2 and rows[0]["kind"] == "overspeed"


# --------------------------------------------------------------------------- incidents, alerts


def test_incident_actions(env: ApiApp) -> None:
    env.arc.add_incident(
        Incident("i-1", IncidentKind.STALLED, Priority.MEDIUM, 1, segment_id="university-rd", summary="stalled")
    )
    url = "/api/v1/incidents/i-1/action"
    assert env.client.post(url, json={"action": "fly"}, headers=OP).status_code == 422
    assert env.client.post(url, json={"action": "assign"}, headers=OP).status_code == 422
    assert env.client.post("/api/v1/incidents/nope/action", json={"action": "ack"}, headers=OP).status_code == 404
    r = env.client.post(url, json={"action": "ack", "note": "seen"}, headers=OP)
    assert r.status_code == 200 and r.json["state"] == "acknowledged"
    assert env.client.post(url, json={"action": "close"}, headers=OP).json["state"] == "closed"
    r = env.client.post(url, json={"action": "ack"}, headers=OP)
    assert r.status_code == 409
    assert env.client.get("/api/v1/incidents?state=closed", headers=OP).json["total"] == 1


def _alerted(env: ApiApp, incident_id: str) -> str:
    """Archive an incident on University Road and open its warden alert; returns the alert id."""
    inc = Incident(incident_id, IncidentKind.STALLED, Priority.MEDIUM, 1, segment_id="university-rd", summary="x")
    env.arc.add_incident(inc)
    env.bus.publish(inc)
    alert = AlertDesk(Roster.build([("warden1", ["university-rd"])]), 60).raise_for(inc, 1000)
    assert alert is not None
    AlertStore(env.redis).save(alert)
    return alert.alert_id


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"action": "ack", "note": "x" * NOTE_MAX_CHARS}, 200),
        ({"action": "ack", "note": "x" * (NOTE_MAX_CHARS + 1)}, 422),  # the page used to cut it at 500, the API at 1000
        ({"action": "assign", "note": "go", "assignee": " warden1 "}, 200),
        ({"action": "assign"}, 422),
        ({"action": "close", "note": "cleared"}, 200),
        ({"action": "reopen"}, 409),  # not closed
        ({"action": "escalate"}, 422),  # the escalation timer's, not an operator's
        ({"action": "fly"}, 422),
    ],
)
def test_page_and_api_incident_actions_agree(env: ApiApp, body: dict[str, str], status: int) -> None:
    """The incidents page (dashboard.incidents.act) and the REST API give the same outcome, record the same
    state and both acknowledge the incident's warden alert (the page used not to, so alerts escalated)."""
    page_alert, api_alert = _alerted(env, "i-page"), _alerted(env, "i-api")
    try:
        res = act(
            env.bus,
            env.arc,
            AlertStore(env.redis),
            "i-page",
            body["action"],
            "op1",
            body.get("note", ""),
            body.get("assignee"),
        )
        page = (200, res.view.state, None)
    except ActionError as e:
        page = (api_tickets._status(e), None, str(e))
    r = env.client.post("/api/v1/incidents/i-api/action", json=body, headers=OP)
    api = (r.status_code, r.json.get("state"), r.json.get("error"))
    assert page == api and page[0] == status, (page, api)
    page_view, api_view = env.arc.get_incident("i-page"), env.arc.get_incident("i-api")
    assert page_view.state == api_view.state and page_view.assignee == api_view.assignee
    assert [(h.action, h.note, h.assignee) for h in page_view.history] == [
        (h.action, h.note, h.assignee) for h in api_view.history
    ]
    acked = status == 200 and body["action"] in ("ack", "assign", "close")
    for alert_id in (page_alert, api_alert):
        assert AlertStore(env.redis).get(alert_id).acked_by == ("op1" if acked else "")
    if status == 200:
        (page_up,) = [m.obj for m in env.bus.recent("incident.updated") if m.obj.incident_id == "i-page"]
        (api_up,) = [m.obj for m in env.bus.recent("incident.updated") if m.obj.incident_id == "i-api"]
        assert (page_up.action, page_up.note, page_up.assignee, page_up.state) == (
            api_up.action,
            api_up.note,
            api_up.assignee,
            api_up.state,
        )


def test_warden_ack(env: ApiApp) -> None:
    desk = AlertDesk(Roster.build([("warden1", ["university-rd"])]), 60)
    alert = desk.raise_for(
        Incident("i-2", IncidentKind.CONGESTION, Priority.MEDIUM, 1, segment_id="university-rd"), 1000
    )
    assert alert is not None
    AlertStore(env.redis).save(alert)
    url = f"/api/v1/warden/alerts/{alert.alert_id}/ack"
    assert env.client.post(url, headers={"X-Test-User": "warden2:warden"}).status_code == 403
    assert (
        env.client.post(
            "/api/v1/warden/alerts/0123456789abcdef0123/ack", headers={"X-Test-User": "warden1:warden"}
        ).status_code
        == 404
    )
    assert (
        env.client.post("/api/v1/warden/alerts/bad/ack", headers={"X-Test-User": "warden1:warden"}).status_code == 400
    )
    mine = env.client.get("/api/v1/warden/alerts", headers={"X-Test-User": "warden1:warden"}).json["alerts"]
    assert [a["alert_id"] for a in mine] == [alert.alert_id]
    assert env.client.get("/api/v1/warden/alerts", headers={"X-Test-User": "warden2:warden"}).json["alerts"] == []
    r = env.client.post(url, headers={"X-Test-User": "warden1:warden"})
    assert r.status_code == 200 and r.json["acked_by"] == "warden1"
    assert AlertStore(env.redis).get(alert.alert_id).acked_by == "warden1"


def test_operator_ack_stops_the_alert_escalating(env: ApiApp) -> None:
    inc = Incident("i-3", IncidentKind.WRONG_WAY, Priority.HIGH, 1, segment_id="university-rd", summary="wrong way")
    env.arc.add_incident(inc)
    desk = AlertDesk(Roster.build([("warden1", ["university-rd"])]), 60)
    alert = desk.raise_for(inc, 1000)
    assert alert is not None
    AlertStore(env.redis).save(alert)
    assert env.client.post("/api/v1/incidents/i-3/action", json={"action": "ack"}, headers=OP).status_code == 200
    assert AlertStore(env.redis).get(alert.alert_id).acked_by == "op1"
