"""Citizen portal over HTTP with a real Redis and SQLite archive: look-up, payment callbacks, appeals, decisions.

Bad input gets a 4xx and changes nothing: a forged, altered, replayed or stale callback, a wrong
amount, an oversized or wrongly typed appeal photo, an appeal after the window.
"""

from __future__ import annotations

import io
import time

import cv2
import numpy as np
import pytest

from config.settings import load_config
from core.appeals import DAY_MS
from core.payments import SIGNATURE_HEADER, PaymentCallback, encode_callback, sign
from core.types import TicketState
from dashboard.portal.gateway import gateway_for
from tests.integration.dashboard.apps import ApiApp, MakeApp
from tests.integration.dashboard.portal_helpers import BOX, history, make_ticket, state_of

BASE = load_config()
CFG = BASE.model_copy(
    update={"portal": BASE.portal.model_copy(update={"rate_limit": 1000, "appeal_photo_max_bytes": 200_000})}
)
OP = {"X-Test-User": "op1:operator"}
PLATE = "LEA-1234"


@pytest.fixture
def env(make_app: MakeApp) -> ApiApp:
    return make_app(CFG, with_portal=True)


def _pay(env: ApiApp, tid: str) -> str:
    r = env.client.post("/api/v1/portal/pay", json={"ticket": tid, "plate": PLATE})
    assert r.status_code == 201, r.json
    return r.json["txn_id"]


def _callback(env: ApiApp, txn: str, **over: object) -> tuple[bytes, str]:
    a = env.arc.payments.get(txn)
    fields = {"txn_id": a.txn_id, "ticket_id": a.ticket_id, "amount_pkr": a.amount_pkr, "status": "paid"}
    fields.update({"ts": int(time.time()), "nonce": f"n-{time.monotonic_ns()}"})
    fields.update(over)
    body = encode_callback(PaymentCallback(**fields))  # type: ignore[arg-type]
    return body, sign(CFG.portal.payment.secret, body)


def _post_cb(env: ApiApp, body: bytes, sig: str | None) -> object:
    headers = {SIGNATURE_HEADER: sig} if sig else {}
    return env.client.post("/api/v1/payments/callback", data=body, headers=headers, content_type="application/json")


# --------------------------------------------------------------------------- look-up


def test_lookup_shows_the_ticket_and_hides_the_rest(env: ApiApp) -> None:
    tid = make_ticket(env.arc, CFG, 1)
    r = env.client.post("/api/v1/portal/lookup", json={"ticket": tid.lower(), "plate": "lea 1234"})
    assert r.status_code == 200, r.json
    v = r.json
    assert v["state"] == "notified" and v["fine_pkr"] == 1500 and v["amount_due_pkr"] == 1500 and v["payable"]
    assert v["appeal_open"] and v["due_ms"] - v["appeal_deadline_ms"] == (30 - 14) * DAY_MS
    assert "plate" not in v and "violation_id" not in v


def test_wrong_pairs_and_hidden_states_answer_the_same(env: ApiApp) -> None:
    tid = make_ticket(env.arc, CFG, 2)
    hidden = {
        s: make_ticket(env.arc, CFG, 10 + i, to=s)
        for i, s in enumerate(
            [TicketState.ISSUED, TicketState.UNDER_REVIEW, TicketState.OWNER_UNKNOWN, TicketState.VOID]
        )
    }
    answers, times = [], []
    for ticket, plate in [(tid, "LEA1235"), ("ET-0000-0000-0000", PLATE), *[(h, PLATE) for h in hidden.values()]]:
        t0 = time.monotonic()
        r = env.client.post("/api/v1/portal/lookup", json={"ticket": ticket, "plate": plate})
        times.append(time.monotonic() - t0)
        answers.append((r.status_code, r.json))
    assert all(a == answers[0] for a in answers) and answers[0][0] == 404, answers
    assert min(times) >= 0.15 and max(times) - min(times) < 0.15, times  # the floor hides the lookup's cost


def test_lookups_are_rate_limited_per_client(make_app: MakeApp) -> None:
    cfg = BASE.model_copy(update={"portal": BASE.portal.model_copy(update={"rate_limit": 2})})
    e = make_app(cfg, with_portal=True)
    body = {"ticket": "ET-0000-0000-0000", "plate": PLATE}
    assert [e.client.post("/api/v1/portal/lookup", json=body).status_code for _ in range(2)] == [404, 404]
    r = e.client.post("/api/v1/portal/lookup", json=body)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert (
        e.client.post("/api/v1/portal/lookup", json=body, environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 404
    )


def test_portal_page_blurs_other_plates_but_not_the_vehicle(env: ApiApp) -> None:
    tid = make_ticket(env.arc, CFG, 3)
    r = env.client.post("/portal/ticket", data={"ticket": tid, "plate": PLATE, "lang": "ur"})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and 'lang="ur" dir="rtl"' in page and "/evidence/" not in page
    import base64
    import re

    src = re.search(r'id="portal-photo-frame"[^>]*src="data:image/jpeg;base64,([^"]+)"', page)
    assert src is not None
    shown = cv2.imdecode(np.frombuffer(base64.b64decode(src.group(1)), np.uint8), cv2.IMREAD_COLOR)
    d = env.arc.get_ticket(tid)
    orig = cv2.imread(str(env.arc.evidence_path(d.evidence[1].sha256)))  # the frame at the moment
    x, y, w, h = (int(v) for v in BOX)
    inside = np.abs(shown[y : y + h, x : x + w].astype(int) - orig[y : y + h, x : x + w].astype(int)).mean()
    outside = np.abs(shown[0:200, 0:380].astype(int) - orig[0:200, 0:380].astype(int)).mean()
    assert inside < 12 and outside > 40, (inside, outside)  # the vehicle stays sharp, the rest is unreadable


# --------------------------------------------------------------------------- payment callbacks


def test_signed_callback_pays_once(env: ApiApp) -> None:
    tid = make_ticket(env.arc, CFG, 4)
    txn = _pay(env, tid)
    body, sig = _callback(env, txn)
    r = _post_cb(env, body, sig)
    assert r.status_code == 200 and r.json["result"] == "applied", r.json
    assert state_of(env.arc, tid) == "paid" and history(env.arc, tid)[-1] == ("paid", "gateway:demo")
    again, sig2 = _callback(env, txn)  # the gateway reports the same payment again (a new delivery)
    r2 = _post_cb(env, again, sig2)
    assert r2.status_code == 200 and r2.json["result"] == "duplicate"
    assert [s for s, _ in history(env.arc, tid)].count("paid") == 1
    assert env.arc.payments.get(txn).state == "paid"
    assert [c.outcome for c in env.arc.payments.callbacks(txn)] == ["duplicate", "applied"]


def test_replayed_callback_is_refused(env: ApiApp) -> None:
    tid = make_ticket(env.arc, CFG, 5)
    txn = _pay(env, tid)
    body, sig = _callback(env, txn, status="failed")
    assert _post_cb(env, body, sig).status_code == 200
    r = _post_cb(env, body, sig)  # the very same delivery again
    assert r.status_code == 409 and "replayed" in r.json["error"]
    assert state_of(env.arc, tid) == "notified" and env.arc.payments.get(txn).state == "failed"
    paid, psig = _callback(env, _pay(env, tid))
    assert _post_cb(env, paid, psig).status_code == 200
    assert _post_cb(env, paid, psig).status_code == 409  # a replayed paid callback: 4xx, still one change
    assert [s for s, _ in history(env.arc, tid)].count("paid") == 1


@pytest.mark.parametrize("case", ["forged", "unsigned", "altered_amount", "stale", "wrong_amount", "malformed"])
def test_bad_callbacks_change_nothing(env: ApiApp, case: str) -> None:
    tid = make_ticket(env.arc, CFG, 6)
    txn = _pay(env, tid)
    body, sig = _callback(env, txn)
    expected = 401
    if case == "forged":
        sig = sign("not-the-secret-at-all", body)
    elif case == "unsigned":
        sig = None
    elif case == "altered_amount":
        body = body.replace(b'"amount_pkr":1500', b'"amount_pkr":15')
    elif case == "stale":
        body, sig = _callback(env, txn, ts=int(time.time()) - 3600)
        expected = 400
    elif case == "wrong_amount":  # correctly signed, but not what is due
        body, sig = _callback(env, txn, amount_pkr=100)
        expected = 422
    elif case == "malformed":
        body = b'{"txn_id": 1}'
        sig = sign(CFG.portal.payment.secret, body)
        expected = 400
    r = _post_cb(env, body, sig)
    assert r.status_code == expected, r.json
    assert state_of(env.arc, tid) == "notified" and env.arc.payments.get(txn).state == "started"
    (cb,) = env.arc.payments.callbacks()
    assert cb.status_code == expected and cb.outcome == "rejected" and cb.signature_ok == (expected != 401)


def test_demo_gateway_order_is_signed(env: ApiApp) -> None:
    tid = make_ticket(env.arc, CFG, 7)
    r = env.client.post("/api/v1/portal/pay", json={"ticket": tid, "plate": PLATE})
    url = r.json["redirect_url"]
    assert url.startswith("/portal/demo-gateway?") and env.client.get(url).status_code == 200
    assert "PKR 1,500" in env.client.get(url).get_data(as_text=True)
    assert env.client.get(url.replace("amount=1500", "amount=15")).status_code == 400
    assert gateway_for(CFG.portal.payment).name == "demo"


# --------------------------------------------------------------------------- appeals


def _jpeg(size: int = 0) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((40, 60, 3), 128, np.uint8))
    assert ok
    return buf.tobytes() + b"\0" * size


def _appeal(env: ApiApp, tid: str, photo: tuple[bytes, str, str] | None = None, reason: str = "I was not there"):
    data: dict[str, object] = {"ticket": tid, "plate": PLATE, "reason": reason}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo[0]), photo[1], photo[2])
    return env.client.post("/api/v1/portal/appeal", data=data, content_type="multipart/form-data")


def test_appeal_and_operator_upholds(env: ApiApp) -> None:
    tid = make_ticket(env.arc, CFG, 8)
    r = _appeal(env, tid, (_jpeg(), "me.jpg", "image/jpeg"))
    assert r.status_code == 201, r.json
    aid = r.json["appeal_id"]
    assert state_of(env.arc, tid) == "appealed"
    q = env.client.get("/api/v1/appeals", headers=OP).json
    assert [a["appeal_id"] for a in q["appeals"]] == [aid] and q["appeals"][0]["reason"] == "I was not there"
    photo = env.client.get(f"/api/v1/appeals/{aid}/photo", headers=OP)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert env.client.get("/api/v1/appeals").status_code == 401  # operators only
    r = env.client.post(
        f"/api/v1/appeals/{aid}/decision", json={"decision": "upheld", "note": "camera clear"}, headers=OP
    )
    assert r.status_code == 200 and r.json["state"] == "upheld" and r.json["decided_by"] == "op1"
    assert state_of(env.arc, tid) == "upheld" and history(env.arc, tid)[-1] == ("upheld", "op1")
    v = env.client.post("/api/v1/portal/lookup", json={"ticket": tid, "plate": PLATE}).json
    assert v["state"] == "upheld" and v["appeal_state"] == "upheld" and v["payable"]
    again = env.client.post(f"/api/v1/appeals/{aid}/decision", json={"decision": "cancelled"}, headers=OP)
    assert again.status_code == 409 and state_of(env.arc, tid) == "upheld"


def test_appeal_cancelled(env: ApiApp) -> None:
    tid = make_ticket(env.arc, CFG, 9)
    aid = _appeal(env, tid).json["appeal_id"]
    r = env.client.post(f"/api/v1/appeals/{aid}/decision", json={"decision": "cancelled", "note": "ok"}, headers=OP)
    assert r.status_code == 200 and state_of(env.arc, tid) == "cancelled"
    v = env.client.post("/api/v1/portal/lookup", json={"ticket": tid, "plate": PLATE}).json
    assert v["state"] == "cancelled" and not v["payable"]
    bad = env.client.post(f"/api/v1/appeals/{aid}/decision", json={"decision": "void"}, headers=OP)
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("photo", "status"),
    [
        ((b"x" * 300_000, "big.jpg", "image/jpeg"), 413),
        ((b"\xff\xd8\xff" + b"\0" * 190_000 + b"x" * 20_000, "big2.jpg", "image/jpeg"), 413),
        ((b"GIF89a" + b"\0" * 100, "a.gif", "image/gif"), 415),
        ((b"<html>not an image</html>", "fake.jpg", "image/jpeg"), 415),
        ((_jpeg(), "a.pdf", "application/pdf"), 415),
    ],
)
def test_bad_appeal_photos_change_nothing(env: ApiApp, photo: tuple[bytes, str, str], status: int) -> None:
    tid = make_ticket(env.arc, CFG, 20)
    r = _appeal(env, tid, photo)
    assert r.status_code == status, r.get_data(as_text=True)[:200]
    assert state_of(env.arc, tid) == "notified" and env.arc.appeals.latest_for(tid) is None


def test_appeal_outside_the_window_or_state(env: ApiApp) -> None:
    real = env.arc.clock
    env.arc.clock = lambda: real() - 20 * DAY_MS  # the notice went out 20 days ago
    tid = make_ticket(env.arc, CFG, 21)
    env.arc.clock = real
    r = _appeal(env, tid)
    assert r.status_code == 409 and "window" in r.json["error"] and state_of(env.arc, tid) == "notified"
    approved = make_ticket(env.arc, CFG, 22, to=TicketState.APPROVED)  # no notice yet
    assert _appeal(env, approved).status_code == 409
    assert _appeal(env, make_ticket(env.arc, CFG, 23), reason="").status_code == 422
    assert env.arc.appeals.list(None)[1] == 0
