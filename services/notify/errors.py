"""The notifier's adapter error: :class:`services.sending.SendFailure` plus Web Push's "gone"."""

from __future__ import annotations

from services.sending import SendFailure, http_permanent, short_text


class DeliveryError(SendFailure):
    """A delivery attempt failed.

    Args:
        reason: Shown to operators (no secrets in it).
        permanent: Retrying cannot help (the receiver refused the request itself): undelivered at once.
        gone: Web Push: the subscription no longer exists (404/410); it is removed.
    """

    def __init__(self, reason: str, permanent: bool = False, gone: bool = False) -> None:
        super().__init__(reason, permanent or gone)
        self.gone = gone


def http_failure(status: int, body: str, what: str) -> DeliveryError:
    """A receiver's non-2xx answer: 4xx is permanent except 408 (timeout), 425 and 429 (slow down)."""
    text = short_text(body)
    reason = f"{what} answered HTTP {status}" + (f": {text}" if text else "")
    return DeliveryError(reason, permanent=http_permanent(status))


__all__ = ["DeliveryError", "http_failure"]
