"""E-mail adapter: one plain-text message per alert to the destination's recipients, sent through
the shared SMTP client (:mod:`services.mail`)."""

from __future__ import annotations

import json
import os
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from config.notify import EmailDestination
from core.notify.delivery import Delivery
from core.notify.payload import email_text
from services.mail import MAIL_POLICY, SmtpServer, send_mail


class EmailAdapter:
    """Mails deliveries through one SMTP server.

    Args:
        dest: The destination's config.
    """

    def __init__(self, dest: EmailDestination) -> None:
        self.dest = dest

    def message(self, delivery: Delivery) -> EmailMessage:
        subject, body = email_text(json.loads(delivery.payload), self.dest.dashboard_url)
        msg = EmailMessage(policy=MAIL_POLICY)
        msg["From"] = self.dest.sender
        msg["To"] = ", ".join(self.dest.to)
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = make_msgid(idstring=delivery.delivery_id, domain=self.dest.sender.split("@", 1)[1])
        msg.set_content(body)
        return msg

    def server(self) -> SmtpServer:
        """The destination's SMTP server (the password read from ``password_env`` now)."""
        d = self.dest
        password = os.environ.get(d.password_env, "") if d.password_env else ""
        return SmtpServer(d.host, d.port, d.security, d.username, password, d.timeout_s)

    def send(self, delivery: Delivery) -> None:
        """Send one alert e-mail.

        Raises:
            services.sending.SendFailure: server unreachable, refused (5xx: permanent) or a
            temporary failure (4xx).
        """
        send_mail(self.server(), self.message(delivery))

    def close(self) -> None:
        pass


__all__ = ["EmailAdapter"]
