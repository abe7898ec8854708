"""The one error an adapter raises: why a delivery failed, and whether retrying can help."""

from __future__ import annotations


class DeliveryError(Exception):
    """A delivery attempt failed.

    Args:
        reason: Shown to operators (no secrets in it).
        permanent: Retrying cannot help (the receiver refused the request itself): undelivered at once.
        gone: Web Push: the subscription no longer exists (404/410); it is removed.
    """

    def __init__(self, reason: str, permanent: bool = False, gone: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent or gone
        self.gone = gone


def http_failure(status: int, body: str, what: str) -> DeliveryError:
    """A receiver's non-2xx answer: 4xx is permanent except 408 (timeout) and 429 (slow down)."""
    text = " ".join(body.split())[:200]
    reason = f"{what} answered HTTP {status}" + (f": {text}" if text else "")
    return DeliveryError(reason, permanent=400 <= status < 500 and status not in (408, 425, 429))


__all__ = ["DeliveryError", "http_failure"]
