"""Issue 15's Done line, the whole of it, on real Redis, SQLite, a real SMTP server (aiosmtpd), a real HTTP
SMS gateway and the portal served over real HTTP:

1. a violation from the synthetic camera -> Redis -> the ticketing service -> e-ticket -> approved by an
   operator -> the notices service looks the owner up (SQL register) -> notified -> e-mail (PDF attached)
   + SMS + archived PDF;
2. the citizen starts a payment on the portal; the gateway POSTs a correctly signed PAID callback to the
   portal's webhook ``/api/v1/payments/callback`` -> paid -> the receipt goes out by e-mail and SMS;
3. another violation -> notified -> an appeal through the portal API -> the operator upholds it through
   the appeals API -> the citizen sees "upheld" and the "appeal upheld" notice is sent.

Every state change is announced on ``ticket.updated``.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import cv2
import redis
import requests
from pypdf import PdfReader

from bus.evidence import EvidenceStore
from bus.streams import EventBus
from config.settings import AppConfig
from core.anpr import normalise_plate_text
from core.clock import now_ms
from core.owners import OwnerRecord
from core.payments import SIGNATURE_HEADER, PaymentCallback, encode_callback, sign
from core.types import IncidentKind, TicketState, Violation
from services.notices.register import build_register
from services.notices.service import NoticeService
from services.ticketing import TicketingService
from sim.scene import SyntheticScene
from tests.integration.dashboard.apps import ApiApp, MakeApp, served
from tests.integration.dashboard.portal_helpers import history
from tests.integration.services.notice_servers import http_server, smtp_server
from tests.integration.services.notice_setup import BASE, notices_config, sms_gateway

OP = {"X-Test-User": "op1:operator"}


def _violation_from_the_synthetic_camera(client: redis.Redis, cfg: AppConfig, n: int) -> Violation:
    cam = cfg.cameras[0]
    src = cam.source.model_copy(update={"noise": 0.0, "seed": cam.source.seed + n})  # n: another vehicle
    scene = SyntheticScene(src, cam.ground_calibration(), now_ms())
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
        f"done-line-{n}-{now_ms()}",
        IncidentKind.OVERSPEED,
        cam.id,
        cam.segment,
        7 + n,
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


def _ticket(env: ApiApp, bus: EventBus, cfg: AppConfig, n: int) -> tuple[str, str]:
    """A synthetic camera's violation through Redis and the ticketing service, approved by an operator."""
    v = _violation_from_the_synthetic_camera(env.redis, cfg, n)
    env.arc.register.upsert(
        [
            OwnerRecord(
                v.plate, f"Owner {n}", "*****-****567-1", "GT Road", "+92300000000" + str(n), f"owner{n}@example.pk"
            )
        ]
    )
    bus.publish(v)
    bus.ensure_group("violation.detected", "ticketing", start="0")
    TicketingService(cfg, bus, EvidenceStore(env.redis), env.arc).handle(
        bus.read_group("ticketing", "t1", ["violation.detected"], count=10, block_ms=500)
    )
    rows, _ = env.arc.list_tickets()
    (row,) = [r for r in rows if r.plate == normalise_plate_text(v.plate) and r.state in ("issued", "under_review")]
    for s in ([TicketState.UNDER_REVIEW] if row.state == "issued" else []) + [TicketState.APPROVED]:
        env.arc.transition(row.ticket_id, s, "op1", "evidence clear")
    return row.ticket_id, v.plate


def _sent(env: ApiApp, tid: str, template: str) -> list[str]:
    return sorted(n.channel for n in env.arc.notices.for_ticket(tid) if n.template == template and n.state == "sent")


def test_violation_to_notices_to_paid_callback_and_to_upheld_appeal(
    make_app: MakeApp, redis_client: redis.Redis, tmp_path: Path
) -> None:
    with smtp_server() as (smtp_port, box), http_server(sms_gateway([])) as (sms_url, sms):
        cfg = notices_config(tmp_path, smtp_port, sms_url)
        cfg = cfg.model_copy(update={"portal": BASE.portal.model_copy(update={"rate_limit": 1000})})
        env = make_app(cfg, with_portal=True)
        bus = EventBus(redis_client)
        reg, name = build_register(cfg.notices.owner_register, env.arc)
        notices = NoticeService(cfg, env.arc, reg, name, bus=bus)
        with served(env.app) as base:
            # 1. ticket -> owner lookup -> e-mail + SMS + PDF
            tid, plate = _ticket(env, bus, cfg, 1)
            notices.tick()
            assert env.arc.get_ticket(tid).ticket.state is TicketState.NOTIFIED
            assert _sent(env, tid, "notice") == ["email", "pdf", "sms"]
            (mail,) = [m for m in box.messages if tid in m["Subject"]]
            assert mail["To"] == "owner1@example.pk"
            att = next(mail.iter_attachments())
            assert (
                att.get_content_type() == "application/pdf"
                and tid in PdfReader(io.BytesIO(att.get_content())).pages[0].extract_text()
            )
            assert [b["to"] for _, _, _, b in sms.requests] == ["+923000000001"]

            # 2. the citizen pays; the gateway's signed PAID callback reaches the webhook over HTTP
            r = requests.post(f"{base}/api/v1/portal/pay", json={"ticket": tid, "plate": plate}, timeout=10)
            assert r.status_code == 201, r.text
            a = env.arc.payments.get(r.json()["txn_id"])
            cb = PaymentCallback(a.txn_id, tid, a.amount_pkr, "paid", int(time.time()), f"nonce-{time.monotonic_ns()}")
            body = encode_callback(cb)
            hook = f"{base}/api/v1/payments/callback"
            headers = {SIGNATURE_HEADER: sign(cfg.portal.payment.secret, body), "Content-Type": "application/json"}
            paid = requests.post(hook, data=body, headers=headers, timeout=10)
            assert paid.status_code == 200 and paid.json()["result"] == "applied", paid.text
            assert env.arc.get_ticket(tid).ticket.state is TicketState.PAID
            assert history(env.arc, tid)[-1] == ("paid", "gateway:" + cfg.portal.payment.name)
            notices.tick()
            assert _sent(env, tid, "receipt") == ["email", "pdf", "sms"]
            assert any("Payment received" in m["Subject"] and tid in m["Subject"] for m in box.messages)

            # 3. another ticket -> notified -> appeal on the portal -> upheld by the operator -> the citizen told
            tid2, plate2 = _ticket(env, bus, cfg, 2)
            notices.tick()
            assert env.arc.get_ticket(tid2).ticket.state is TicketState.NOTIFIED
            frame = env.arc.evidence_path(env.arc.get_ticket(tid2).evidence[0].sha256)
            ok, png = cv2.imencode(".png", cv2.imread(str(frame)))
            r = requests.post(
                f"{base}/api/v1/portal/appeal",
                data={"ticket": tid2, "plate": plate2, "reason": "My car was parked at home"},
                files={"photo": ("home.png", png.tobytes(), "image/png")},
                timeout=10,
            )
            assert r.status_code == 201, r.text
            aid = r.json()["appeal_id"]
            queue = requests.get(f"{base}/api/v1/appeals", headers=OP, timeout=10).json()["appeals"]
            assert [q["appeal_id"] for q in queue] == [aid] and queue[0]["photo_url"]
            d = requests.post(
                f"{base}/api/v1/appeals/{aid}/decision",
                json={"decision": "upheld", "note": "speed clear"},
                headers=OP,
                timeout=10,
            )
            assert d.status_code == 200, d.text
            seen = requests.post(
                f"{base}/api/v1/portal/lookup", json={"ticket": tid2, "plate": plate2}, timeout=10
            ).json()
            assert seen["state"] == "upheld" and seen["appeal_state"] == "upheld"
            notices.tick()
            assert _sent(env, tid2, "appeal_upheld") == ["email", "pdf", "sms"]
            upheld = [m for m in box.messages if tid2 in m["Subject"] and "appeal" in m["Subject"].lower()]
            assert len(upheld) == 1 and upheld[0]["To"] == "owner2@example.pk"
        assert [s for s, _ in history(env.arc, tid2)][-4:] == ["approved", "notified", "appealed", "upheld"]
        for t, want in ((tid, ["notified", "paid"]), (tid2, ["notified", "appealed", "upheld"])):
            got = [m.obj.to_state.value for m in reversed(bus.recent("ticket.updated", 100)) if m.obj.ticket_id == t]
            assert got == want, (t, got)
