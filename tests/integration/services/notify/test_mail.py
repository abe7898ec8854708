"""E-mail: one plain-text message per alert through a real SMTP server (aiosmtpd); a server that
refuses the recipient makes the delivery undelivered with the SMTP reason."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
import redis

from core.notify.delivery import DeliveryState
from tests.integration.services.notify.notifier import alert, config, running_notifier
from tests.integration.services.notify.receivers import free_port, wait_for

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd not installed (requirements-dev.txt)")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default_policy)))
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    ctl = aiosmtpd_controller.Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield inbox, port
    finally:
        ctl.stop()


def test_alert_mail_and_refused_recipient(
    redis_client: redis.Redis, redis_server: str, archive_url: str, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    common = {"kind": "email", "host": "127.0.0.1", "port": port, "security": "none", "sender": "alerts@city.example"}
    cfg = config(
        tmp_path,
        [
            {**common, "name": "duty", "to": ["duty@city.example"], "dashboard_url": "https://control.city.example"},
            {**common, "name": "typo", "to": ["nobody@city.example"]},
        ],
    )
    with running_notifier(cfg, redis_server, archive_url) as n:
        n.bus.publish(alert(1))
        wait_for(lambda: inbox.messages and n.repo.deliveries([DeliveryState.UNDELIVERED]), 10)
        (bad,) = n.repo.deliveries([DeliveryState.UNDELIVERED])
    ((rcpts, msg),) = inbox.messages
    assert rcpts == ["duty@city.example"] and msg["From"] == "alerts@city.example"
    assert msg["Subject"].startswith("Safe City alert: [HIGH] congestion - University Road")
    text = msg.get_content()
    assert "Heavy traffic #1" in text and "https://control.city.example/incidents" in text
    assert bad.destination == "typo" and bad.attempts == 1 and "nobody@city.example" in bad.last_error
