"""MQTT adapter (paho-mqtt): one publish per alert on ``<topic_prefix>/<zone>/<kind>``, QoS 1, retain off.

A delivery counts as delivered when the broker acknowledged the publish (PUBACK at QoS 1,
PUBCOMP at QoS 2). The connection is opened on the first send and kept; when the broker is
down the attempt fails (and is retried with backoff) and the next one connects again.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from config.notify import MqttDestination
from core.notify.delivery import Delivery
from core.notify.payload import mqtt_topic
from services.notify.errors import DeliveryError


class MqttAdapter:
    """Publishes deliveries to one broker.

    Args:
        dest: The destination's config.
    """

    def __init__(self, dest: MqttDestination) -> None:
        self.dest = dest
        self.client_id = dest.client_id or f"safecity-notify-{socket.gethostname()}-{os.getpid()}"
        self._client: mqtt.Client | None = None
        self._connack = threading.Event()
        self._refused = ""

    def _on_connect(self, _c: Any, _u: Any, _flags: Any, reason: Any, _props: Any = None) -> None:
        self._refused = str(reason) if getattr(reason, "is_failure", False) else ""
        self._connack.set()

    def _connect(self) -> mqtt.Client:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv311)
        if self.dest.username:
            c.username_pw_set(self.dest.username, os.environ.get(self.dest.password_env) or None)
        if self.dest.tls:
            c.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        c.on_connect = self._on_connect
        self._connack.clear()
        try:
            c.connect(self.dest.host, self.dest.port, keepalive=30)
        except (OSError, ValueError) as e:
            raise DeliveryError(f"MQTT broker {self.dest.host}:{self.dest.port} unreachable: {e}") from None
        c.loop_start()
        if not self._connack.wait(self.dest.timeout_s):
            _stop(c)
            raise DeliveryError(
                f"MQTT broker {self.dest.host}:{self.dest.port}: no CONNACK in {self.dest.timeout_s:g} s"
            )
        if self._refused:
            _stop(c)
            raise DeliveryError(f"MQTT broker refused the connection: {self._refused}")
        return c

    def send(self, delivery: Delivery) -> None:
        """Publish one delivery and wait for the broker's acknowledgement.

        Raises:
            DeliveryError: broker down, refused, or no acknowledgement in ``timeout_s``.
        """
        if self._client is None or not self._client.is_connected():
            self.close()
            self._client = self._connect()
        topic = mqtt_topic(self.dest.topic_prefix, json.loads(delivery.payload))
        info = self._client.publish(topic, delivery.payload.encode("utf-8"), qos=self.dest.qos, retain=False)
        try:
            info.wait_for_publish(self.dest.timeout_s)
        except (RuntimeError, ValueError) as e:
            self.close()
            raise DeliveryError(f"MQTT publish to {topic} failed: {e}") from None
        if not info.is_published():
            self.close()
            raise DeliveryError(f"MQTT publish to {topic}: no acknowledgement in {self.dest.timeout_s:g} s")

    def close(self) -> None:
        if self._client is not None:
            _stop(self._client)
            self._client = None


def _stop(c: mqtt.Client) -> None:
    try:
        c.disconnect()
    finally:
        c.loop_stop()


__all__ = ["MqttAdapter"]
