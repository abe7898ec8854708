"""Where notices go: SMTP e-mail, an HTTP SMS gateway, or files in a folder (the demo), and the errors.

A :class:`SendError` (:class:`services.sending.SendFailure`) says whether trying again can help
(``permanent=False``: timeouts, 5xx, a mail server that is down) or not (a refused address, a 4xx
from the gateway): the service retries the first kind with backoff and dead-letters the second at once.
E-mail goes through the shared SMTP client (:mod:`services.mail`).
"""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

import requests

from config.notices import EmailConfig, SmsConfig
from services.mail import MAIL_POLICY, SmtpServer, send_mail
from services.sending import SendFailure, http_permanent, short_text

#: The notices service's name for the shared send failure.
SendError = SendFailure


class EmailSender:
    """Sends (``smtp``) or writes (``folder``) e-mails with an optional PDF attachment."""

    def __init__(self, cfg: EmailConfig, folder: Path) -> None:
        self.cfg = cfg
        self.folder = folder / "email"
        self.server = SmtpServer(
            cfg.host, cfg.port, "starttls" if cfg.starttls else "none", cfg.username, cfg.password, cfg.timeout_s
        )

    def send(self, to: str, subject: str, body: str, message_id: str, pdf: bytes | None, pdf_name: str) -> str:
        """Send one e-mail; returns its Message-ID (the same on a retry: receivers can tell it is one message)."""
        msg = EmailMessage(policy=MAIL_POLICY)
        msg["From"], msg["To"], msg["Subject"] = self.cfg.sender, to, subject
        msg["Message-ID"], msg["Date"] = message_id, formatdate(usegmt=True)
        msg.set_content(body)
        if pdf is not None:
            msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=pdf_name)
        if self.cfg.mode == "folder":
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / f"{message_id.strip('<>')}.eml").write_bytes(msg.as_bytes())
            return message_id
        send_mail(self.server, msg)
        return message_id


class SmsSender:
    """Posts SMS to an HTTP gateway (``http``) or writes them to files (``folder``).

    The gateway gets ``POST <url>`` JSON ``{"to", "text", "id"}`` with ``Authorization: Bearer <token>``
    and an ``Idempotency-Key`` (the notice's key: a retried request is the same message); a 2xx answer is
    sent (its JSON ``id``, if any, is kept), 4xx except 408/425/429 is permanent, 5xx/429/timeouts are retried.
    """

    def __init__(self, cfg: SmsConfig, folder: Path, session: requests.Session | None = None) -> None:
        self.cfg = cfg
        self.folder = folder / "sms"
        self._session = session or requests.Session()

    def send(self, to: str, text: str, key: str) -> str:
        body = {"to": to, "text": text, "id": key}
        if self.cfg.mode == "folder":
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / f"{key}.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
            return key
        headers = {"Idempotency-Key": key, **({"Authorization": f"Bearer {self.cfg.token}"} if self.cfg.token else {})}
        try:
            r = self._session.post(self.cfg.url or "", json=body, headers=headers, timeout=self.cfg.timeout_s)
        except requests.RequestException as e:
            raise SendError(f"SMS gateway: {type(e).__name__}") from None
        if 200 <= r.status_code < 300:
            try:
                return str((r.json() or {}).get("id") or key)
            except ValueError:
                return key
        raise SendError(
            f"SMS gateway: HTTP {r.status_code} {short_text(r.text)!r}", permanent=http_permanent(r.status_code)
        )


__all__ = ["EmailSender", "SendError", "SmsSender"]
