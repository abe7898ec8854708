"""Webhook adapter: POST the alert's JSON, signed with HMAC-SHA256 (:mod:`core.notify.signing`)."""

from __future__ import annotations

import time

import requests

from config.notify import WebhookDestination
from core.notify.delivery import Delivery
from core.notify.signing import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from services.notify.errors import DeliveryError, http_failure


class WebhookAdapter:
    """Sends deliveries to one webhook destination.

    Args:
        dest: The destination's config.
        session: HTTP session (connection reuse); a new one when None.
    """

    def __init__(self, dest: WebhookDestination, session: requests.Session | None = None) -> None:
        self.dest = dest
        self.secret = dest.resolved_secret()
        self.session = session or requests.Session()

    def send(self, delivery: Delivery) -> None:
        """POST one delivery.

        Raises:
            DeliveryError: refused (4xx: permanent), failed (5xx, 408, 429) or unreachable.
        """
        body = delivery.payload.encode("utf-8")
        ts = int(time.time())
        headers = {
            **self.dest.headers,
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "safecity-notify/1",
            TIMESTAMP_HEADER: str(ts),
            DELIVERY_HEADER: delivery.delivery_id,
        }
        if self.secret:
            headers[SIGNATURE_HEADER] = signature(self.secret, ts, body)
        try:
            r = self.session.post(self.dest.url, data=body, headers=headers, timeout=self.dest.timeout_s)
        except requests.RequestException as e:
            raise DeliveryError(f"webhook unreachable: {type(e).__name__}: {_short(e)}") from None
        if not 200 <= r.status_code < 300:
            raise http_failure(r.status_code, r.text, "webhook")

    def close(self) -> None:
        self.session.close()


def _short(e: Exception) -> str:
    return " ".join(str(e).split())[:200]


__all__ = ["WebhookAdapter"]
