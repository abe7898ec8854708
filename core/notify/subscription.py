"""A browser's Web Push subscription (``PushSubscription.toJSON()``), checked.

The warden page posts ``{"endpoint": "https://...", "keys": {"p256dh": "...", "auth": "..."}}``
(``expirationTime`` may be there too, and is ignored). :func:`parse_subscription` accepts exactly
that shape or raises :class:`SubscriptionError` saying which field is wrong.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Any

MAX_ENDPOINT = 1000
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


class SubscriptionError(ValueError):
    """A subscription body that cannot be used; the message names the field.

    Attributes:
        malformed: The body's shape is wrong (not an object, unknown fields: HTTP 400), rather
            than a value (HTTP 422).
    """

    def __init__(self, reason: str, malformed: bool = False) -> None:
        super().__init__(reason)
        self.malformed = malformed


@dataclass(frozen=True, slots=True)
class PushSubscription:
    """Where and how to push to one browser.

    Attributes:
        subscription_id: Stable id (hash of the endpoint).
        username: Who registered it.
        role: Their role then (warden, operator, admin).
        endpoint: The push service URL of this browser.
        p256dh: The browser's P-256 public key (base64url, uncompressed point).
        auth: The browser's 16-byte auth secret (base64url).
        user_agent: Browser, for the user's list of devices.
        created_ms: When registered.
    """

    subscription_id: str
    username: str
    role: str
    endpoint: str
    p256dh: str
    auth: str
    user_agent: str = ""
    created_ms: int = 0

    def info(self) -> dict[str, Any]:
        """The ``subscription_info`` mapping pywebpush takes."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


def subscription_id_for(endpoint: str) -> str:
    """Stable id of a subscription (one row per browser endpoint)."""
    return hashlib.sha1(endpoint.encode("utf-8")).hexdigest()[:24]


def _b64url_bytes(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not value or not _B64URL.match(value):
        raise SubscriptionError(f"keys.{name} must be a base64url string")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise SubscriptionError(f"keys.{name} is not valid base64url") from None


def parse_subscription(
    body: Any, username: str, role: str, now_ms: int, user_agent: str = "", allow_http: bool = False
) -> PushSubscription:
    """Check a posted subscription.

    Args:
        body: The decoded JSON body.
        username: The logged-in user.
        role: Their role.
        now_ms: Registration time.
        user_agent: The request's User-Agent (cut to 200 characters).
        allow_http: Accept ``http://`` endpoints (tests and a local push service only).

    Raises:
        SubscriptionError: naming the bad field.
    """
    if not isinstance(body, dict):
        raise SubscriptionError("body must be a JSON object (PushSubscription.toJSON())", malformed=True)
    unknown = sorted(set(body) - {"endpoint", "keys", "expirationTime"})
    if unknown:
        raise SubscriptionError(
            f"unknown field(s): {', '.join(unknown)}; allowed: endpoint, keys, expirationTime", malformed=True
        )
    endpoint = body.get("endpoint")
    schemes = ("https://", "http://") if allow_http else ("https://",)
    if not isinstance(endpoint, str) or not endpoint.startswith(schemes):
        raise SubscriptionError("endpoint must be the push service's https:// URL")
    if len(endpoint) > MAX_ENDPOINT or any(c.isspace() for c in endpoint):
        raise SubscriptionError(f"endpoint must be one URL of at most {MAX_ENDPOINT} characters")
    keys = body.get("keys")
    if not isinstance(keys, dict) or set(keys) != {"p256dh", "auth"}:
        raise SubscriptionError("keys must be an object with exactly p256dh and auth")
    pub = _b64url_bytes(keys["p256dh"], "p256dh")
    if len(pub) != 65 or pub[0] != 4:
        raise SubscriptionError("keys.p256dh must be an uncompressed P-256 point (65 bytes)")
    if len(_b64url_bytes(keys["auth"], "auth")) != 16:
        raise SubscriptionError("keys.auth must be 16 bytes")
    return PushSubscription(
        subscription_id=subscription_id_for(endpoint),
        username=username,
        role=role,
        endpoint=endpoint,
        p256dh=keys["p256dh"],
        auth=keys["auth"],
        user_agent=user_agent[:200],
        created_ms=now_ms,
    )


__all__ = ["PushSubscription", "SubscriptionError", "parse_subscription", "subscription_id_for"]
