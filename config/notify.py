"""Incident alert notifications out: webhooks, MQTT, e-mail and Web Push (``notify:`` section).

Each destination has a ``kind`` (``webhook``, ``mqtt``, ``email``, ``webpush``), a unique
``name``, ``filters`` (zones, kinds, minimum severity) and its adapter's settings. Secrets can
be given by environment variable name (``secret_env``, ``password_env``) instead of in the file.
The notifier service (``python -m services.notify``) reads this section.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from config.base import ConfigModel

#: Discriminator values of the destination union (dropped from error paths like the source tags).
NOTIFY_TAGS: frozenset[str] = frozenset({"webhook", "mqtt", "email", "webpush"})
#: Incident kinds and priorities as the config spells them (the values of core.types.IncidentKind / Priority).
IncidentKindName = Literal["congestion", "overspeed", "wrong_way", "red_light", "stalled", "watchlist", "sos"]
PriorityName = Literal["low", "medium", "high", "critical"]


class NotifyFilters(ConfigModel):
    """Which alerts a destination gets (empty lists = all)."""

    zones: tuple[str, ...] = Field((), description="Road segment ids (the wardens' zones); empty = every zone.")
    kinds: tuple[IncidentKindName, ...] = Field((), description="Incident kinds; empty = every kind.")
    min_severity: PriorityName = Field("low", description="Lowest priority sent: low, medium, high, critical.")
    escalated_only: bool = Field(False, description="Only alerts escalated to the control room.")


class _Destination(ConfigModel):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", description="Unique name (shown in Deliveries).")
    enabled: bool = True
    filters: NotifyFilters = NotifyFilters()
    timeout_s: float = Field(5.0, gt=0, le=60, description="Give up one attempt after this long.")


class WebhookDestination(_Destination):
    """POST of the JSON payload, signed: ``X-SafeCity-Signature: sha256=<hex HMAC-SHA256>`` over
    ``<X-SafeCity-Timestamp>.<body>`` with the shared secret."""

    kind: Literal["webhook"]
    url: str = Field(pattern=r"^https?://", description="Receiver URL (http:// or https://).")
    secret: str = Field("", description="HMAC key; prefer secret_env.")
    secret_env: str = Field("", description="Environment variable holding the HMAC key.")
    headers: dict[str, str] = Field({}, description="Extra request headers (e.g. an API key).")

    @model_validator(mode="after")
    def _one_secret(self) -> WebhookDestination:
        if self.secret and self.secret_env:
            raise ValueError("give secret or secret_env, not both")
        return self

    def resolved_secret(self) -> str:
        """The HMAC key ("" = unsigned, and the receiver is told so by the missing header)."""
        return os.environ.get(self.secret_env, "") if self.secret_env else self.secret


class MqttDestination(_Destination):
    """Publish to ``<topic_prefix>/<zone>/<kind>`` at QoS 1, retain off (paho-mqtt)."""

    kind: Literal["mqtt"]
    host: str = Field(min_length=1)
    port: int = Field(1883, ge=1, le=65535)
    topic_prefix: str = Field("safecity/alerts", pattern=r"^[^#+]+$", description="No MQTT wildcards.")
    client_id: str = Field("", description="Empty = safecity-notify-<host>-<pid>.")
    username: str = ""
    password_env: str = Field("", description="Environment variable holding the broker password.")
    tls: bool = False
    qos: Literal[0, 1, 2] = 1


class EmailDestination(_Destination):
    """Plain-text e-mail over SMTP (smtplib)."""

    kind: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(587, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "starttls"
    username: str = ""
    password_env: str = Field("", description="Environment variable holding the SMTP password.")
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", description="From address.")
    to: tuple[str, ...] = Field(min_length=1, description="Recipients.")
    dashboard_url: str = Field("", description="Link put in the mail (e.g. https://control.example.org).")

    @field_validator("to")
    @classmethod
    def _addresses(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for a in v:
            if "@" not in a or any(c.isspace() for c in a):
                raise ValueError(f"not an e-mail address: {a!r}")
        return v


class WebPushDestination(_Destination):
    """Web Push to the phones of the alert's wardens (their subscriptions from the warden page);
    with ``control_room: true`` also to operators'/admins' subscriptions for escalated alerts and
    alerts on zones without a warden."""

    kind: Literal["webpush"]
    control_room: bool = True
    ttl_s: int = Field(3600, ge=0, le=2_419_200, description="How long the push service keeps an undelivered push.")


NotifyDestination = Annotated[
    WebhookDestination | MqttDestination | EmailDestination | WebPushDestination, Field(discriminator="kind")
]


class RetryConfig(ConfigModel):
    """Backoff of failed deliveries; after ``max_attempts`` a delivery is undelivered (shown, retryable)."""

    max_attempts: int = Field(8, ge=1, le=100)
    first_delay_s: float = Field(2.0, gt=0, le=3600)
    factor: float = Field(2.0, ge=1, le=10)
    max_delay_s: float = Field(300.0, gt=0, le=86_400)

    @model_validator(mode="after")
    def _order(self) -> RetryConfig:
        if self.max_delay_s < self.first_delay_s:
            raise ValueError("max_delay_s must be >= first_delay_s")
        return self


class VapidConfig(ConfigModel):
    """Web Push sender identity: the key pair is generated on first start."""

    private_key_file: Path = Field(Path("var/notify/vapid_private.pem"), description="Relative to the repository.")
    subject: str = Field(
        "mailto:control-room@example.org", pattern=r"^(mailto:|https://)", description="Contact for push services."
    )


class NotifyConfig(ConfigModel):
    """The notifier service."""

    enabled: bool = Field(True, description="Run the notifier (python -m services.notify) from the launcher.")
    destinations: tuple[NotifyDestination, ...] = ()
    retry: RetryConfig = RetryConfig()
    vapid: VapidConfig = VapidConfig()
    poll_s: float = Field(0.5, gt=0, le=60, description="How often due retries are looked for.")
    push_allow_http: bool = Field(
        False, description="Accept http:// Web Push endpoints (a push service on a closed network, tests)."
    )

    @model_validator(mode="after")
    def _unique_names(self) -> NotifyConfig:
        seen: set[str] = set()
        for i, d in enumerate(self.destinations):
            if d.name in seen:
                raise ValueError(f"destinations[{i}].name: duplicate destination {d.name!r}")
            seen.add(d.name)
        return self


__all__ = [
    "NOTIFY_TAGS",
    "EmailDestination",
    "MqttDestination",
    "NotifyConfig",
    "NotifyDestination",
    "NotifyFilters",
    "RetryConfig",
    "VapidConfig",
    "WebPushDestination",
    "WebhookDestination",
]
