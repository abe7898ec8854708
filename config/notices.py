"""Back office (issue 15): the owner register, and how ticket notices reach citizens (e-mail, SMS, PDF).

Demo-safe defaults: the SQL-table register (the demo seeds it), e-mail and SMS written to files under
``notices.folder`` instead of sent (no mail server or gateway needed), PDFs made and archived.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from config.base import ConfigModel


class OwnerRegisterConfig(ConfigModel):
    """Where owners come from: the SQL table ``vehicle_registrations`` or a province's HTTP API."""

    kind: Literal["sql", "http"] = Field("sql", description="sql: table vehicle_registrations; http: the API at url.")
    url: str | None = Field(None, description="http: base URL; GET <url>/<plate> answers JSON (404 = no such vehicle).")
    token: str = Field("", description="http: bearer token sent as Authorization (never logged).")
    timeout_s: float = Field(5.0, gt=0, le=120)
    retries: int = Field(2, ge=0, le=10, description="http: retries after a timeout or 5xx answer.")
    backoff_s: float = Field(0.5, ge=0, le=60, description="http: first retry delay (doubles each retry).")
    cache_ttl_s: float = Field(
        3600, ge=0, le=86_400 * 7, description="Answers (also 'no such vehicle') kept this long."
    )
    cache_size: int = Field(10_000, ge=0, le=1_000_000)
    seed_demo_minutes: float = Field(
        10,
        ge=0,
        le=240,
        description="sql: on start, when the table is empty, seed owners for most plates of the synthetic cameras' "
        "first N minutes (sim/registrations.py; one plate in 8 left out: 'owner unknown'). 0 = no seeding.",
    )

    @model_validator(mode="after")
    def _http_needs_url(self) -> OwnerRegisterConfig:
        if self.kind == "http" and not (self.url or "").startswith(("http://", "https://")):
            raise ValueError("url: kind http needs an http:// or https:// URL")
        return self


class EmailConfig(ConfigModel):
    mode: Literal["off", "folder", "smtp"] = Field(
        "folder", description="smtp: send; folder: write .eml files under notices.folder/email; off: skip."
    )
    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    username: str = ""
    password: str = Field("", description="SMTP password (never logged).")
    starttls: bool = False
    sender: str = Field("e-challan@safecity.local", description="From: address.")
    timeout_s: float = Field(10.0, gt=0, le=120)


class SmsConfig(ConfigModel):
    mode: Literal["off", "folder", "http"] = Field(
        "folder", description="http: POST to the gateway; folder: write .json files under notices.folder/sms; off."
    )
    url: str | None = Field(None, description="http: gateway URL; POST JSON {to, text, id}.")
    token: str = Field("", description="http: bearer token (never logged).")
    timeout_s: float = Field(5.0, gt=0, le=120)

    @model_validator(mode="after")
    def _http_needs_url(self) -> SmsConfig:
        if self.mode == "http" and not (self.url or "").startswith(("http://", "https://")):
            raise ValueError("url: mode http needs an http:// or https:// URL")
        return self


class NoticesConfig(ConfigModel):
    """The notices service (``python -m services.notices``)."""

    enabled: bool = Field(True, description="Run the service from the launcher (make run).")
    portal_url: str = Field(
        "http://127.0.0.1:8050/portal", description="Citizen portal: the QR code and links point here."
    )
    owner_register: OwnerRegisterConfig = OwnerRegisterConfig()
    email: EmailConfig = EmailConfig()
    sms: SmsConfig = SmsConfig()
    folder: Path = Field(Path("var/notices"), description="folder-mode e-mail/SMS files (relative: repository root).")
    max_attempts: int = Field(5, ge=1, le=50, description="Attempts before a notice is dead-lettered.")
    retry_base_s: float = Field(30, gt=0, le=3600, description="First retry delay; doubles per attempt.")
    retry_max_s: float = Field(3600, gt=0, le=86_400)
    poll_s: float = Field(2.0, gt=0, le=300, description="How often the outbox and approved tickets are checked.")
    overdue_check_s: float = Field(60, gt=0, le=86_400, description="How often due dates are checked.")
    owner_recheck_s: float = Field(
        86_400,
        gt=0,
        le=86_400 * 30,
        description="Tickets in owner_unknown are looked up again this long after their last lookup (and at "
        "once when the SQL register gains their plate); found -> notified.",
    )
    batch: int = Field(50, ge=1, le=1000, description="Tickets / notices handled per pass.")


__all__ = ["EmailConfig", "NoticesConfig", "OwnerRegisterConfig", "SmsConfig"]
