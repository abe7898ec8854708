"""Web Push adapter (pywebpush): the alert, encrypted (aes128gcm) for one browser subscription,
signed with the notifier's VAPID key.

The pushed JSON is the alert payload plus ``title``, ``body``, ``tag`` and ``url``, which the
warden page's service worker (``dashboard/assets/notify-sw.js``) shows as a notification.
A push service answering 404/410 means the browser dropped the subscription: it is removed.
"""

from __future__ import annotations

import json

import requests
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

from config.notify import WebPushDestination
from core.notify.delivery import Delivery
from core.notify.payload import title
from core.notify.subscription import PushSubscription
from services.notify.errors import DeliveryError, http_failure

#: Push services accept at least 4096 bytes of payload; stay under it.
MAX_PUSH_BYTES = 3800


def push_message(payload_text: str) -> str:
    """The JSON pushed to the browser (notification fields first, then the alert)."""
    p = json.loads(payload_text)
    msg = {"title": title(p), "body": p.get("summary") or "", "tag": p.get("alert_id", ""), "url": "/warden", **p}
    text = json.dumps(msg, separators=(",", ":"), ensure_ascii=False)
    if len(text.encode("utf-8")) > MAX_PUSH_BYTES:
        msg["summary"] = msg["body"] = str(msg["body"])[:500]
        text = json.dumps(msg, separators=(",", ":"), ensure_ascii=False)
    return text


class WebPushAdapter:
    """Pushes deliveries to browser subscriptions.

    Args:
        dest: The destination's config.
        vapid: The notifier's key pair.
        subject: VAPID ``sub`` claim (``mailto:`` or ``https://`` contact).
        session: HTTP session; a new one when None.
    """

    def __init__(
        self, dest: WebPushDestination, vapid: Vapid02, subject: str, session: requests.Session | None = None
    ) -> None:
        self.dest = dest
        self.vapid = vapid
        self.subject = subject
        self.session = session or requests.Session()

    def send_to(self, delivery: Delivery, sub: PushSubscription) -> None:
        """Push one delivery to one subscription.

        Raises:
            DeliveryError: the push service refused (404/410: ``gone``; other 4xx: permanent),
                failed (5xx, 429) or was unreachable.
        """
        try:
            webpush(
                sub.info(),
                data=push_message(delivery.payload),
                vapid_private_key=self.vapid,
                vapid_claims={"sub": self.subject},
                ttl=self.dest.ttl_s,
                timeout=self.dest.timeout_s,
                headers={"Urgency": "high"},
                requests_session=self.session,
            )
        except WebPushException as e:
            r = e.response
            if r is None:
                raise DeliveryError(f"web push: {e.message[:200]}", permanent=True) from None
            if r.status_code in (404, 410):
                raise DeliveryError(f"push service: subscription gone (HTTP {r.status_code})", gone=True) from None
            raise http_failure(r.status_code, r.text, "push service") from None
        except requests.RequestException as e:
            raise DeliveryError(
                f"push service unreachable: {type(e).__name__}: {' '.join(str(e).split())[:200]}"
            ) from None

    def close(self) -> None:
        self.session.close()


__all__ = ["MAX_PUSH_BYTES", "WebPushAdapter", "push_message"]
