"""Issue 15's Done line, appeal half: a violation from a synthetic camera -> real Redis -> the ticketing
service -> e-ticket -> approved -> notified (transition called here; the notice automation is the back
office's) -> an appeal through the portal API -> the operator upholds it -> the citizen sees "upheld".
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import redis

from bus.evidence import EvidenceStore
from bus.streams import EventBus
from config.settings import load_config
from core.clock import now_ms
from core.types import IncidentKind, TicketState, Violation
from ingest.synthetic import SyntheticScene
from services.ticketing import TicketingService
from tests.integration.dashboard.portal_helpers import history, portal_app

CFG = load_config()


def _violation_from_the_synthetic_camera(client: redis.Redis) -> Violation:
    cam = CFG.cameras[0]
    scene = SyntheticScene(cam.source.model_copy(update={"noise": 0.0}), cam.ground_calibration(), now_ms())
    shots = []
    for _ in range(80):
        img, truth = scene.step()
        veh = next((v for v in truth.vehicles if v.visible and v.box[2] > 60), None)
        if veh is not None:
            shots.append((img, veh))
        if len(shots) == 3:
            break
    assert len(shots) == 3, "the synthetic camera shows a vehicle within 8 s"
    ev = EvidenceStore(client)
    frames = [ev.put(cv2.imencode(".jpg", img)[1].tobytes()) for img, _ in shots]
    img, veh = shots[1]
    x, y, w, h = (int(round(c)) for c in veh.box)
    crop = ev.put(cv2.imencode(".jpg", img[y : y + h, x : x + w])[1].tobytes())
    return Violation(
        f"done-line-{now_ms()}",
        IncidentKind.OVERSPEED,
        cam.id,
        cam.segment,
        7,
        now_ms(),
        veh.label,
        veh.plate,
        0.93,
        75.0,
        60.0,
        cam.location,
        (*frames, crop),
        (("evidence_roles", "frame,frame,frame,plate"), ("box", ",".join(f"{c:.0f}" for c in veh.box))),
    )


def test_violation_to_upheld_appeal(redis_client: redis.Redis, tmp_path: Path) -> None:
    env = portal_app(CFG, redis_client, tmp_path)
    bus = EventBus(redis_client)
    v = _violation_from_the_synthetic_camera(redis_client)
    bus.publish(v)
    svc = TicketingService(CFG, bus, EvidenceStore(redis_client), env.arc)
    bus.ensure_group("violation.detected", "ticketing", start="0")
    svc.handle(bus.read_group("ticketing", "t1", ["violation.detected"], count=10, block_ms=500))
    (row,), _ = env.arc.list_tickets()
    tid, plate = row.ticket_id, v.plate
    assert row.plate == plate.replace("-", "") and row.state in ("issued", "under_review")

    hidden = env.client.post("/api/v1/portal/lookup", json={"ticket": tid, "plate": plate})
    assert hidden.status_code == 404  # not yet approved: citizens do not see it
    for s in ([TicketState.UNDER_REVIEW] if row.state == "issued" else []) + [TicketState.APPROVED]:
        env.arc.transition(tid, s, "op1", "evidence clear")
    env.arc.transition(tid, TicketState.NOTIFIED, "system", "notice sent")

    page = env.client.post("/portal/ticket", data={"ticket": tid, "plate": plate, "lang": "en"}).get_data(as_text=True)
    assert 'id="portal-photo-frame"' in page and 'id="portal-appeal-form"' in page
    ok, buf = cv2.imencode(".png", cv2.imread(str(env.arc.evidence_path(env.arc.get_ticket(tid).evidence[0].sha256))))
    r = env.client.post(
        "/api/v1/portal/appeal",
        data={
            "ticket": tid,
            "plate": plate,
            "reason": "My car was parked at home",
            "photo": (io.BytesIO(buf.tobytes()), "home.png", "image/png"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.json
    aid = r.json["appeal_id"]
    op = {"X-Test-User": "op1:operator"}
    queue = env.client.get("/api/v1/appeals", headers=op).json["appeals"]
    assert [a["appeal_id"] for a in queue] == [aid] and queue[0]["photo_url"]
    d = env.client.post(
        f"/api/v1/appeals/{aid}/decision", json={"decision": "upheld", "note": "speed clear"}, headers=op
    )
    assert d.status_code == 200
    seen = env.client.post("/api/v1/portal/lookup", json={"ticket": tid, "plate": plate}).json
    assert seen["state"] == "upheld" and seen["appeal_state"] == "upheld"
    assert [s for s, _ in history(env.arc, tid)][-4:] == ["approved", "notified", "appealed", "upheld"]
    updates = [m.obj for m in bus.recent("ticket.updated") if m.obj.ticket_id == tid]
    assert sorted(u.to_state.value for u in updates) == ["appealed", "upheld"]  # recent() is newest first
    env.arc.close()
