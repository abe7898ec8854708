"""One alert on its way to one destination (and, for Web Push, one subscription): the record
the notifier keeps, and how an attempt's outcome changes it.

States: ``pending`` (never tried) -> ``delivered``, or ``retrying`` (failed, next try at
``next_try_ms``) -> ... -> ``undelivered`` (gave up, or a permanent refusal). An operator's
retry puts an undelivered delivery back to ``pending``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from enum import Enum

from core.notify.retry import RetryPolicy

#: Longest error text kept.
MAX_ERROR_CHARS = 500


class DeliveryState(str, Enum):
    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"


#: States the delivery loop still works on.
OPEN_STATES = (DeliveryState.PENDING, DeliveryState.RETRYING)


def delivery_id_for(event_id: str, destination: str, recipient: str = "") -> str:
    """Idempotent id: the same alert event to the same destination/recipient is one delivery."""
    raw = "\x1f".join(("delivery", event_id, destination, recipient))
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Delivery:
    """An alert for one destination.

    Attributes:
        delivery_id: :func:`delivery_id_for` of the three below.
        event_id: Id of the ``alert.warden`` event (an escalation is a new event).
        destination: Destination name (config).
        recipient: Web Push: the subscription id; "" for the other kinds.
        alert_id: The warden alert.
        incident_id: Its incident.
        kind: Destination kind (webhook, mqtt, email, webpush).
        payload: JSON text sent (:func:`core.notify.payload.alert_payload`).
        state: See :class:`DeliveryState`.
        attempts: Attempts made.
        next_try_ms: When the next attempt is due (0 once delivered or undelivered).
        last_error: Why the last attempt failed, or "".
        created_ms: When the alert reached the notifier.
        updated_ms: Last change.
    """

    delivery_id: str
    event_id: str
    destination: str
    recipient: str
    alert_id: str
    incident_id: str
    kind: str
    payload: str
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    next_try_ms: int = 0
    last_error: str = ""
    created_ms: int = 0
    updated_ms: int = 0

    def succeeded(self, now_ms: int) -> Delivery:
        """After an attempt that the receiver accepted."""
        return replace(
            self,
            state=DeliveryState.DELIVERED,
            attempts=self.attempts + 1,
            next_try_ms=0,
            last_error="",
            updated_ms=now_ms,
        )

    def failed(self, error: str, now_ms: int, policy: RetryPolicy, permanent: bool = False) -> Delivery:
        """After a failed attempt: retry later, or undelivered (out of attempts, or a permanent refusal)."""
        attempts = self.attempts + 1
        nxt = None if permanent else policy.next_try_ms(attempts, now_ms)
        return replace(
            self,
            state=DeliveryState.UNDELIVERED if nxt is None else DeliveryState.RETRYING,
            attempts=attempts,
            next_try_ms=0 if nxt is None else nxt,
            last_error=error[:MAX_ERROR_CHARS],
            updated_ms=now_ms,
        )

    def retry_now(self, now_ms: int) -> Delivery:
        """An operator asked to retry an undelivered delivery: a fresh set of attempts, due now."""
        if self.state is not DeliveryState.UNDELIVERED:
            return self
        return replace(self, state=DeliveryState.PENDING, attempts=0, next_try_ms=now_ms, updated_ms=now_ms)


__all__ = ["MAX_ERROR_CHARS", "OPEN_STATES", "Delivery", "DeliveryState", "delivery_id_for"]
