"""E-mail adapter (smtplib): one plain-text message per alert to the destination's recipients."""

from __future__ import annotations

import json
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid

from config.notify import EmailDestination
from core.notify.delivery import Delivery
from core.notify.payload import email_text
from services.notify.errors import DeliveryError

#: CRLF line ends; headers folded only past RFC 5322's 998 characters (Python folds a long subject
#: from its first character otherwise, which some clients show as a leading blank).
MAIL_POLICY = SMTP_POLICY.clone(max_line_length=998)


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

    def send(self, delivery: Delivery) -> None:
        """Send one alert e-mail.

        Raises:
            DeliveryError: server unreachable, refused (5xx: permanent) or a temporary failure (4xx).
        """
        d = self.dest
        msg = self.message(delivery)
        try:
            if d.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    d.host, d.port, timeout=d.timeout_s, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(d.host, d.port, timeout=d.timeout_s)
            with smtp:
                if d.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if d.username:
                    smtp.login(d.username, os.environ.get(d.password_env, ""))
                smtp.send_message(msg)
        except smtplib.SMTPResponseException as e:
            text = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
            raise DeliveryError(
                f"SMTP {e.smtp_code}: {' '.join(text.split())[:200]}", permanent=e.smtp_code >= 500
            ) from None
        except smtplib.SMTPRecipientsRefused as e:
            raise DeliveryError(f"SMTP refused the recipients: {', '.join(e.recipients)}", permanent=True) from None
        except (smtplib.SMTPException, OSError) as e:
            raise DeliveryError(f"SMTP server {d.host}:{d.port}: {type(e).__name__}: {e}") from None

    def close(self) -> None:
        pass


__all__ = ["EmailAdapter"]
