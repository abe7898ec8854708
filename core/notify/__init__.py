"""Incident alert notifications (pure logic): which destination gets which alert, the delivery
record and its retry schedule, and the payloads the adapters send.

* :mod:`core.notify.routing`: filters by zone, kind and minimum severity; :func:`route`.
* :mod:`core.notify.retry`: :class:`RetryPolicy`, exponential backoff, then undelivered.
* :mod:`core.notify.delivery`: :class:`Delivery` (one alert to one destination/recipient) and its states.
* :mod:`core.notify.payload`: the JSON payload (Home Assistant friendly), MQTT topics, e-mail text.
"""

from core.notify.delivery import Delivery, DeliveryState, delivery_id_for
from core.notify.payload import alert_payload, email_text, mqtt_topic
from core.notify.retry import RetryPolicy
from core.notify.routing import SEVERITY, AlertFilter, Route, route

__all__ = [
    "SEVERITY",
    "AlertFilter",
    "Delivery",
    "DeliveryState",
    "RetryPolicy",
    "Route",
    "alert_payload",
    "delivery_id_for",
    "email_text",
    "mqtt_topic",
    "route",
]
