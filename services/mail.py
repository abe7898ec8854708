"""The one SMTP client: connect (plain, STARTTLS or implicit TLS), log in, send, classify the failure.

Used by the notices service (ticket notices with a PDF, :mod:`services.notices.senders`) and the
notifier (alert e-mails, :mod:`services.notify.mail`); each builds its own message, both send it
here, so a fix to TLS, login or error handling reaches both.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from typing import Literal

from services.sending import SendFailure, short_text

#: CRLF line ends; headers folded only past RFC 5322's 998 characters (Python folds a long subject
#: from its first character otherwise, which some clients show as a leading blank).
MAIL_POLICY = SMTP_POLICY.clone(max_line_length=998)

Security = Literal["none", "starttls", "ssl"]


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where and how to send.

    Attributes:
        host: SMTP host.
        port: SMTP port.
        security: ``none`` (plain), ``starttls`` (upgrade after connecting) or ``ssl`` (implicit TLS).
        username: Login name ("" = no login).
        password: Login password (never put in an error).
        timeout_s: Connect and per-command timeout.
    """

    host: str
    port: int
    security: Security = "none"
    username: str = ""
    password: str = ""
    timeout_s: float = 10.0


def send_mail(server: SmtpServer, msg: EmailMessage) -> None:
    """Send one message through ``server``.

    Raises:
        SendFailure: recipients refused or a 5xx answer (permanent); a 4xx answer, a timeout or an
        unreachable server (temporary).
    """
    s = server
    try:
        if s.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout_s, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        with smtp:
            if s.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password)
            smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as e:  # every recipient refused: permanent only if all answers were 5xx
        codes = {a: int(c) for a, (c, _) in e.recipients.items()}
        who = ", ".join(f"{a} ({c})" for a, c in codes.items())
        raise SendFailure(
            f"SMTP refused the recipients: {who}", permanent=all(c >= 500 for c in codes.values())
        ) from None
    except smtplib.SMTPResponseException as e:
        text = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
        raise SendFailure(f"SMTP {e.smtp_code}: {short_text(text)}", permanent=e.smtp_code >= 500) from None
    except (smtplib.SMTPException, OSError) as e:
        raise SendFailure(f"SMTP server {s.host}:{s.port}: {type(e).__name__}: {short_text(str(e))}") from None


__all__ = ["MAIL_POLICY", "Security", "SmtpServer", "send_mail"]
