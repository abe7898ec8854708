"""Payment gateway adapters: start a payment (a redirect URL), verify a callback.

:class:`PaymentGateway` is the contract. :class:`HmacGateway` implements it for gateways that
take a signed order in the redirect's query and POST back a callback signed with HMAC-SHA256
over the raw body (``X-Signature: sha256=<hex>``, :mod:`core.payments`): ``kind: hosted``
redirects to the gateway's ``pay_url``; ``kind: demo`` to the demo gateway this server
serves itself (:mod:`dashboard.portal.demo_gateway`), which signs its callbacks the same way.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import urlencode

from archive.payments import PaymentAttempt
from config.settings import PaymentConfig
from core.payments import (
    SIGNATURE_HEADER,
    CallbackError,
    PaymentCallback,
    check_fresh,
    encode_callback,
    parse_callback,
    sign,
    verify_signature,
)

DEMO_PATH = "/portal/demo-gateway"


class Headers(Protocol):
    """What a callback's verification reads from its request headers (a dict, or werkzeug's case-blind Headers)."""

    def get(self, key: str) -> str | None: ...


class PaymentGateway(Protocol):
    """What the portal needs of a payment gateway."""

    name: str

    def start(self, attempt: PaymentAttempt, return_url: str, callback_url: str) -> str:
        """The URL to send the citizen to, to pay ``attempt``."""
        ...

    def verify(self, body: bytes, headers: Headers, now_s: float) -> PaymentCallback:
        """The callback in a request, once its signature and timestamp hold.

        Raises:
            CallbackError: 401 forged or altered (bad signature), 400 malformed or stale.
        """
        ...


class HmacGateway:
    """A redirect gateway with HMAC-SHA256-signed orders and callbacks (``demo`` or ``hosted``)."""

    def __init__(self, cfg: PaymentConfig) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.kind = cfg.kind

    def order_query(self, attempt: PaymentAttempt, return_url: str, callback_url: str) -> dict[str, str]:
        """The signed order the redirect carries (the signature covers every other field)."""
        q = {
            "txn": attempt.txn_id,
            "ticket": attempt.ticket_id,
            "amount": str(attempt.amount_pkr),
            "currency": "PKR",
            "return_url": return_url,
            "callback_url": callback_url,
        }
        q["sig"] = sign(self.cfg.secret, urlencode(sorted(q.items())).encode("utf-8"))
        return q

    def order_ok(self, query: Mapping[str, str]) -> bool:
        """True when a redirect's order is signed with the secret (the demo gateway checks it)."""
        fields = {k: v for k, v in query.items() if k != "sig"}
        return verify_signature(self.cfg.secret, urlencode(sorted(fields.items())).encode("utf-8"), query.get("sig"))

    def start(self, attempt: PaymentAttempt, return_url: str, callback_url: str) -> str:
        base = self.cfg.pay_url if self.kind == "hosted" and self.cfg.pay_url else DEMO_PATH
        sep = "&" if "?" in base else "?"
        return base + sep + urlencode(self.order_query(attempt, return_url, callback_url))

    def callback(self, attempt: PaymentAttempt, status: str, now_s: float | None = None) -> tuple[bytes, str]:
        """A signed callback about ``attempt`` as this gateway would send it: ``(raw body, X-Signature)``."""
        cb = PaymentCallback(
            attempt.txn_id,
            attempt.ticket_id,
            attempt.amount_pkr,
            status,
            int(time.time() if now_s is None else now_s),
            secrets.token_urlsafe(12),
        )
        body = encode_callback(cb)
        return body, sign(self.cfg.secret, body)

    def verify(self, body: bytes, headers: Headers, now_s: float) -> PaymentCallback:
        if not verify_signature(self.cfg.secret, body, headers.get(SIGNATURE_HEADER)):
            raise CallbackError(401, f"bad or missing {SIGNATURE_HEADER}: callback forged or altered")
        cb = parse_callback(body)
        check_fresh(cb, now_s, self.cfg.max_age_s)
        return cb


def gateway_for(cfg: PaymentConfig) -> HmacGateway:
    """The adapter the configuration names (``portal.payment.kind``)."""
    return HmacGateway(cfg)


__all__ = ["DEMO_PATH", "Headers", "HmacGateway", "PaymentGateway", "gateway_for"]
