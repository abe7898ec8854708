"""Webhooks: signed POSTs; a receiver that is down at first gets the alert once it is up; a refusal is
undelivered at once and shown, and an operator's retry delivers it (real Redis, real HTTP receiver)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import redis

from core.notify.delivery import DeliveryState
from core.notify.signing import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.integration.services.notify.notifier import DEMO, alert, config, running_notifier
from tests.integration.services.notify.receivers import HttpReceiver, wait_for

SECRET = "hook-secret-1"


def test_receiver_down_then_up_gets_the_alert_signed(
    redis_client: redis.Redis, redis_server: str, archive_url: str, tmp_path: Path
) -> None:
    hook = HttpReceiver()  # not started: the receiver is down
    cfg = config(tmp_path, [{"name": "ops", "kind": "webhook", "url": hook.url + "/hook", "secret": SECRET}])
    with running_notifier(cfg, redis_server, archive_url) as n:
        n.bus.publish(alert(1))
        (d,) = wait_for(lambda: [d for d in n.repo.deliveries() if d.attempts >= 2], 10)
        assert d.state is DeliveryState.RETRYING and "unreachable" in d.last_error
        hook.start()
        try:
            wait_for(lambda: hook.got, 10)
            done = wait_for(lambda: [x for x in n.repo.deliveries() if x.state is DeliveryState.DELIVERED], 5)
        finally:
            hook.stop()
    (rec,) = hook.got
    body = json.loads(rec.body)
    assert (body["alert_id"], body["kind"], body["zone"], body["zone_name"]) == (
        alert(1).alert_id,
        "congestion",
        "university-rd",
        DEMO.segment("university-rd").name,
    )
    assert rec.path == "/hook" and rec.headers["content-type"].startswith("application/json")
    assert rec.headers[DELIVERY_HEADER.lower()] == done[0].delivery_id
    ts = rec.headers[TIMESTAMP_HEADER.lower()]
    assert verify(SECRET, ts, rec.body, rec.headers[SIGNATURE_HEADER.lower()], int(time.time()))
    assert not verify("wrong", ts, rec.body, rec.headers[SIGNATURE_HEADER.lower()], int(time.time()))
    assert done[0].attempts >= 3 and n.repo.counts()["delivered"] == 1


def test_refused_is_undelivered_with_the_reason_then_retried(
    redis_client: redis.Redis, redis_server: str, archive_url: str, tmp_path: Path
) -> None:
    answers = {"code": 400}
    hook = HttpReceiver(status=lambda _r: answers["code"]).start()
    cfg = config(
        tmp_path,
        [
            {"name": "ops", "kind": "webhook", "url": hook.url + "/h", "filters": {"zones": ["university-rd"]}},
            {"name": "gt-only", "kind": "webhook", "url": hook.url + "/gt", "filters": {"zones": ["gt-rd"]}},
        ],
    )
    try:
        with running_notifier(cfg, redis_server, archive_url) as n:
            n.bus.publish(alert(2))
            (d,) = wait_for(lambda: n.repo.deliveries([DeliveryState.UNDELIVERED]), 10)
            assert d.destination == "ops" and d.attempts == 1 and "HTTP 400" in d.last_error
            assert [x.destination for x in n.repo.deliveries()] == ["ops"]  # filtered: nothing for gt-only
            answers["code"] = 204
            assert n.repo.retry(d.delivery_id, int(time.time() * 1000)).state is DeliveryState.PENDING
            wait_for(lambda: n.repo.get(d.delivery_id).state is DeliveryState.DELIVERED, 10)
    finally:
        hook.stop()
    assert [r.path for r in hook.got] == ["/h"]


def test_replayed_alert_is_delivered_once(
    redis_client: redis.Redis, redis_server: str, archive_url: str, tmp_path: Path
) -> None:
    hook = HttpReceiver().start()
    cfg = config(tmp_path, [{"name": "ops", "kind": "webhook", "url": hook.url}])
    try:
        with running_notifier(cfg, redis_server, archive_url) as n:
            n.bus.publish(alert(3))
            n.bus.publish(alert(3))  # the same event again (a replay after a crash)
            n.bus.publish(alert(4))
            wait_for(lambda: len(hook.got) >= 2 and n.repo.counts()["delivered"] == 2, 10)
            time.sleep(0.5)
    finally:
        hook.stop()
    assert sorted(json.loads(r.body)["incident_id"] for r in hook.got) == ["incident-3", "incident-4"]
