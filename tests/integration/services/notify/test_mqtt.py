"""MQTT: alerts on <prefix>/<zone>/<kind> at QoS 1, retain off, to a real Mosquitto started by the test;
a broker that is down at first gets the alert once it starts (nothing lost)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import redis
from paho.mqtt.enums import CallbackAPIVersion

from core.notify.delivery import DeliveryState
from core.types import IncidentKind
from tests.integration.services.notify.notifier import alert, config, running_notifier
from tests.integration.services.notify.receivers import Mosquitto, wait_for

pytestmark = pytest.mark.skipif(Mosquitto.available() is not None, reason=str(Mosquitto.available()))


class Subscriber:
    """A paho client subscribed to ``topic``; messages in ``got``."""

    def __init__(self, port: int, topic: str) -> None:
        self.got: list[Any] = []
        self.ready = threading.Event()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-subscriber")
        self.c.on_connect = lambda c, *_a: c.subscribe(topic, qos=1)
        self.c.on_subscribe = lambda *_a: self.ready.set()
        self.c.on_message = lambda _c, _u, msg: self.got.append(msg)
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        assert self.ready.wait(10), "subscription not acknowledged"

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def test_broker_down_then_started_gets_the_alert(
    redis_client: redis.Redis, redis_server: str, archive_url: str, tmp_path: Path
) -> None:
    broker = Mosquitto(tmp_path)  # not started yet: the broker is down
    cfg = config(
        tmp_path,
        [
            {
                "name": "ha",
                "kind": "mqtt",
                "host": "127.0.0.1",
                "port": broker.port,
                "topic_prefix": "city/alerts",
                "timeout_s": 2,
                "filters": {"kinds": ["congestion", "sos"]},
            }
        ],
    )
    with running_notifier(cfg, redis_server, archive_url) as n:
        n.bus.publish(alert(1))
        n.bus.publish(alert(2, zone="gt-rd", kind=IncidentKind.STALLED))  # filtered out by kind
        (d,) = wait_for(lambda: [d for d in n.repo.deliveries() if d.attempts >= 2], 10)
        assert d.state is DeliveryState.RETRYING and "unreachable" in d.last_error
        broker.start()
        try:
            sub = Subscriber(broker.port, "city/alerts/#")
            try:
                wait_for(lambda: sub.got, 10)
                wait_for(lambda: n.repo.get(d.delivery_id).state is DeliveryState.DELIVERED, 5)
                n.bus.publish(alert(3, zone="ring-rd", kind=IncidentKind.SOS))  # connection kept: straight through
                wait_for(lambda: len(sub.got) >= 2, 10)
            finally:
                sub.close()
        finally:
            broker.stop()
    first, second = sub.got
    assert (first.topic, first.qos, first.retain) == ("city/alerts/university-rd/congestion", 1, False)
    body = json.loads(first.payload)
    assert (body["incident_id"], body["severity"], body["priority"]) == ("incident-1", 2, "high")
    assert second.topic == "city/alerts/ring-rd/sos"
    assert [x.incident_id for x in n.repo.deliveries()] == ["incident-3", "incident-1"]  # the stalled one: no delivery
