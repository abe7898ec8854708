"""The citizen portal: appeals, rate limits and the payment gateway adapter."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from config.base import ConfigModel


class PaymentConfig(ConfigModel):
    """The payment gateway the portal redirects citizens to, and how its callbacks are checked.

    ``kind: demo`` is a gateway served by the dashboard itself (``/portal/demo-gateway/...``) for
    ``make run``; ``kind: hosted`` redirects to ``pay_url`` of a real gateway that signs its callbacks
    the same way (HMAC-SHA256 over the raw body with ``secret``).
    """

    kind: Literal["demo", "hosted"] = Field("demo", description="demo: the in-app demo gateway; hosted: pay_url.")
    name: str = Field(
        "demo", pattern=r"^[a-z0-9][a-z0-9_-]{0,19}$", description="Gateway name: the actor 'gateway:<name>'."
    )
    secret: str = Field(
        "demo-gateway-secret-change-me",
        min_length=16,
        description="Shared HMAC-SHA256 secret of the gateway's signed callbacks (and of the redirect).",
    )
    pay_url: str | None = Field(None, description="hosted: the gateway's payment page (query: the signed order).")
    return_url: str | None = Field(
        None, description="Where the gateway sends the citizen back; None = /portal/payment/return on this server."
    )
    callback_url: str | None = Field(
        None, description="Webhook the gateway POSTs to; None = /api/v1/payments/callback on this server."
    )
    max_age_s: int = Field(300, ge=10, le=86_400, description="Callbacks older (or newer) than this are refused.")

    @model_validator(mode="after")
    def _hosted_needs_url(self) -> PaymentConfig:
        if self.kind == "hosted" and not self.pay_url:
            raise ValueError("portal.payment.pay_url: a hosted gateway needs its payment page URL")
        return self


class PortalConfig(ConfigModel):
    """Citizen portal (``/portal``): look-up, payment and appeals, without login."""

    appeal_days: int = Field(14, ge=1, le=365, description="Days after the notice in which an appeal is accepted.")
    appeal_reason_max_chars: int = Field(1000, ge=20, le=10_000)
    appeal_photo_max_bytes: int = Field(
        5 * 1024 * 1024, ge=10_000, le=50 * 1024 * 1024, description="Larger appeal photos get 413."
    )
    rate_limit: int = Field(20, ge=1, le=10_000, description="Look-ups, payment starts and appeals per client/window.")
    rate_window_s: float = Field(600.0, gt=0, le=86_400)
    payment: PaymentConfig = PaymentConfig()


__all__ = ["PaymentConfig", "PortalConfig"]
