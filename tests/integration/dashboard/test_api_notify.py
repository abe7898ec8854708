"""The notification API (a user's push devices, deliveries and their retry) and the system page's
Deliveries panel, over HTTP on real Redis and SQLite. A test header stands in for a logged-in
session (auth itself: tests/integration/dashboard/test_routes.py)."""

from __future__ import annotations

import base64

import pytest

from bus.notify import NotifyState
from config.settings import DEFAULT_CONFIG, load_config
from core.notify.delivery import Delivery, DeliveryState, delivery_id_for
from core.notify.retry import RetryPolicy
from dashboard import api_notify, notify_panel
from tests.integration.dashboard.apps import ApiApp, MakeApp

CFG = load_config(DEFAULT_CONFIG)
W1 = {"X-Test-User": "warden1:warden"}
W2 = {"X-Test-User": "warden2:warden"}
OP = {"X-Test-User": "op1:operator"}


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sub(n: int = 1) -> dict:
    return {
        "endpoint": f"https://push.example.org/s/{n}",
        "keys": {"p256dh": b64(b"\x04" + bytes(64)), "auth": b64(bytes(16))},
    }


@pytest.fixture
def env(make_app: MakeApp) -> ApiApp:
    return make_app(CFG, api_notify.bp)


def test_push_key_waits_for_the_notifier(env: ApiApp) -> None:
    r = env.client.get("/api/v1/me/push-key", headers=W1)
    assert r.status_code == 503 and "notifier" in r.json["error"]
    NotifyState(env.redis).set_public_key("BKEY")
    assert env.client.get("/api/v1/me/push-key", headers=W1).json == {"public_key": "BKEY"}
    assert env.client.get("/api/v1/me/push-key").status_code == 401


def test_devices_are_per_user(env: ApiApp) -> None:
    r = env.client.post("/api/v1/me/push-subscriptions", json=sub(1), headers=W1)
    assert r.status_code == 201 and r.json["created"]
    again = env.client.post("/api/v1/me/push-subscriptions", json=sub(1), headers=W1)
    assert again.status_code == 200 and not again.json["created"] and again.json["id"] == r.json["id"]
    env.client.post("/api/v1/me/push-subscriptions", json=sub(2), headers=W2)
    mine = env.client.get("/api/v1/me/push-subscriptions", headers=W1).json["subscriptions"]
    assert [d["id"] for d in mine] == [r.json["id"]]
    assert env.client.delete(f"/api/v1/me/push-subscriptions/{r.json['id']}", headers=W2).status_code == 404
    assert env.client.delete(f"/api/v1/me/push-subscriptions/{r.json['id']}", headers=W1).json["removed"]
    assert env.client.get("/api/v1/me/push-subscriptions", headers=W1).json["subscriptions"] == []
    assert env.client.delete("/api/v1/me/push-subscriptions/nothex", headers=W1).status_code == 400


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        ({"data": "x", "content_type": "text/plain"}, 415, "JSON"),
        ({"data": "{bad", "content_type": "application/json"}, 400, "not valid JSON"),
        ({"json": [1]}, 400, "JSON object"),
        ({"json": {**sub(), "extra": 1}}, 400, "unknown field"),
        ({"json": {**sub(), "endpoint": "http://push.example.org/1"}}, 422, "https://"),
        ({"json": {**sub(), "keys": {"auth": b64(bytes(16))}}}, 422, "p256dh"),
        ({"data": '{"endpoint": "' + "x" * 5000 + '"}', "content_type": "application/json"}, 413, "4096"),
    ],
)
def test_bad_subscriptions_say_why(env: ApiApp, kwargs: dict, status: int, words: str) -> None:
    r = env.client.post("/api/v1/me/push-subscriptions", headers=W1, **kwargs)
    assert r.status_code == status and words in r.json["error"], r.json
    assert env.arc.notify.subscriptions() == []


def _delivery(n: int, state: DeliveryState) -> Delivery:
    d = Delivery(
        delivery_id_for(f"e{n}", "hook"), f"e{n}", "hook", "", f"a{n}", f"inc-{n}", "webhook", "{}", created_ms=n
    )
    if state is DeliveryState.UNDELIVERED:
        d = d.failed("webhook answered HTTP 500", 10, RetryPolicy(max_attempts=1))
    elif state is DeliveryState.DELIVERED:
        d = d.succeeded(10)
    return d


def test_deliveries_list_and_retry(env: ApiApp) -> None:
    bad, ok = _delivery(1, DeliveryState.UNDELIVERED), _delivery(2, DeliveryState.DELIVERED)
    env.arc.notify.add_deliveries([bad, ok])
    body = env.client.get("/api/v1/notify/deliveries?state=undelivered", headers=OP).json
    assert body["counts"]["undelivered"] == 1 and body["counts"]["delivered"] == 1
    (row,) = body["deliveries"]
    assert (row["delivery_id"], row["last_error"], row["attempts"]) == (bad.delivery_id, "webhook answered HTTP 500", 1)
    assert env.client.get("/api/v1/notify/deliveries", headers=W1).status_code == 403
    assert env.client.get("/api/v1/notify/deliveries?colour=1", headers=OP).status_code == 400
    assert env.client.get("/api/v1/notify/deliveries?state=lost", headers=OP).status_code == 400
    assert env.client.post(f"/api/v1/notify/deliveries/{ok.delivery_id}/retry", headers=OP).status_code == 409
    assert env.client.post("/api/v1/notify/deliveries/" + "0" * 24 + "/retry", headers=OP).status_code == 404
    r = env.client.post(f"/api/v1/notify/deliveries/{bad.delivery_id}/retry", headers=OP)
    assert r.status_code == 200 and r.json["state"] == "pending" and r.json["attempts"] == 0
    assert env.arc.notify.due(10**13)[0].delivery_id == bad.delivery_id


def test_panel_lists_undelivered_with_a_retry_button(env: ApiApp) -> None:
    env.arc.notify.add_deliveries([_delivery(1, DeliveryState.UNDELIVERED), _delivery(2, DeliveryState.DELIVERED)])
    counts, table = notify_panel.rows(env.ctx)
    assert counts == "0 pending, 0 retrying, 1 delivered, 1 undelivered"
    text = str(table)
    assert "webhook answered HTTP 500" in text and "ntf-retry" in text and "inc-2" not in text
    env.arc.notify.retry(_delivery(1, DeliveryState.UNDELIVERED).delivery_id, 20)
    assert "every alert delivered" in str(notify_panel.rows(env.ctx)[1])
