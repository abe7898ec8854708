"""What every outbound adapter raises when a send fails, and which HTTP answers are worth retrying.

One error type for the notices service's e-mail/SMS senders (:mod:`services.notices.senders`),
the notifier's adapters (:mod:`services.notify`, whose :class:`~services.notify.errors.DeliveryError`
extends it) and the shared SMTP client (:mod:`services.mail`): ``permanent`` says whether trying
again can help (a refused address, a 4xx) or not (a timeout, a 5xx, a server that is down).
"""

from __future__ import annotations

#: 4xx answers that mean "not now" rather than "never": request timeout, too early, slow down.
RETRYABLE_4XX = frozenset({408, 425, 429})


class SendFailure(Exception):
    """A send attempt failed.

    Args:
        reason: Shown to operators (no secrets in it).
        permanent: Retrying cannot help: dead-lettered / undelivered at once.
    """

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def http_permanent(status: int) -> bool:
    """True when an HTTP error answer is a refusal that a retry cannot change (4xx but 408/425/429)."""
    return 400 <= status < 500 and status not in RETRYABLE_4XX


def short_text(text: str, limit: int = 200) -> str:
    """``text`` on one line, at most ``limit`` characters (for error reasons)."""
    return " ".join(text.split())[:limit]


__all__ = ["RETRYABLE_4XX", "SendFailure", "http_permanent", "short_text"]
