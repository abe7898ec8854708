"""The one SMTP client (services/mail.py) against a real local SMTP server (aiosmtpd): login, refusals
classified (5xx / refused recipient: permanent; 4xx, server down: retry), and both e-mail adapters
(ticket notices, alert e-mails) going through it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from config.notices import EmailConfig
from config.notify import EmailDestination
from core.notify.delivery import Delivery
from services.mail import MAIL_POLICY, SmtpServer, send_mail
from services.notices.senders import EmailSender, SendError
from services.notify.mail import EmailAdapter
from services.sending import SendFailure
from tests.integration.services.notice_servers import free_port


class Server:
    """Accepts mail except to ``refused@``; answers ``busy@`` with 451; checks logins."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address.startswith("refused@"):
            return "550 5.1.1 no such mailbox"
        if address.startswith("busy@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 accepted"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, pw = data.login.decode(), data.password.decode()
            self.logins.append((user, pw))
            return AuthResult(success=user == "clerk" and pw == "s3cret")
        return AuthResult(success=False)


@contextmanager
def smtp(auth: bool = False) -> Iterator[tuple[Server, int]]:
    srv = Server()
    port = free_port()
    extra: dict[str, Any] = {"authenticator": srv.authenticate, "auth_require_tls": False} if auth else {}
    ctl = Controller(srv, hostname="127.0.0.1", port=port, **extra)
    ctl.start()
    try:
        yield srv, port
    finally:
        ctl.stop()


def _msg(to: str) -> EmailMessage:
    m = EmailMessage(policy=MAIL_POLICY)
    m["From"], m["To"], m["Subject"] = "a@city.example", to, "test"
    m.set_content("hello")
    return m


def test_sends_and_logs_in() -> None:
    with smtp(auth=True) as (srv, port):
        send_mail(SmtpServer("127.0.0.1", port, username="clerk", password="s3cret", timeout_s=5), _msg("x@y.pk"))
    assert [r for r, _ in srv.messages] == [["x@y.pk"]] and srv.logins == [("clerk", "s3cret")]


@pytest.mark.parametrize(
    ("to", "permanent", "words"),
    [("refused@y.pk", True, "refused the recipients: refused@y.pk (550"), ("busy@y.pk", False, "busy@y.pk (451")],
)
def test_refusals_are_classified(to: str, permanent: bool, words: str) -> None:
    with smtp() as (srv, port), pytest.raises(SendFailure) as e:
        send_mail(SmtpServer("127.0.0.1", port, timeout_s=5), _msg(to))
    assert e.value.permanent is permanent and words in e.value.reason and srv.messages == []


def test_server_down_is_temporary() -> None:
    port = free_port()  # nothing listens
    with pytest.raises(SendFailure) as e:
        send_mail(SmtpServer("127.0.0.1", port, timeout_s=2), _msg("x@y.pk"))
    assert not e.value.permanent and f"127.0.0.1:{port}" in e.value.reason


def test_both_adapters_send_through_the_one_client(tmp_path: Path) -> None:
    with smtp() as (srv, port):
        notices = EmailSender(EmailConfig(mode="smtp", host="127.0.0.1", port=port, timeout_s=5), tmp_path)
        notices.send("owner@y.pk", "Notice", "Dear owner", "<n-1@city.example>", b"%PDF-1.4 x", "t.pdf")
        with pytest.raises(SendError) as refused:
            notices.send("refused@y.pk", "Notice", "Dear owner", "<n-2@city.example>", None, "")
        dest = EmailDestination(
            kind="email",
            name="duty",
            host="127.0.0.1",
            port=port,
            security="none",
            sender="al@city.example",
            to=("d@y.pk",),
        )
        payload = json.dumps(
            {
                "alert_id": "a1",
                "kind": "congestion",
                "priority": "high",
                "summary": "jam",
                "ts": "t",
                "incident_id": "i1",
            }
        )
        EmailAdapter(dest).send(Delivery("d1", "e1", "duty", "", "a1", "i1", "email", payload))
    assert refused.value.permanent and isinstance(refused.value, SendFailure)
    (to1, m1), (to2, m2) = srv.messages
    assert to1 == ["owner@y.pk"] and m1["Message-ID"] == "<n-1@city.example>"
    assert next(m1.iter_attachments()).get_content_type() == "application/pdf"
    assert to2 == ["d@y.pk"] and "jam" in m2.get_content()
