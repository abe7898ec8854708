"""Notification deliveries and Web Push subscriptions in the archive database (``notify_*`` tables).

:class:`NotifyRepository` keeps one row per delivery (:class:`core.notify.Delivery`): the
notifier inserts them (idempotently) before it acknowledges the alert on the stream, so an
alert whose receiver is down is never lost, then updates them after each attempt. The
dashboard lists them (undelivered ones with their reason) and puts one back with
:meth:`NotifyRepository.retry`. Subscriptions are one row per browser endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from archive.database import Database
from archive.models import NotifyDeliveryRecord, NotifySubscriptionRecord
from core.notify.delivery import OPEN_STATES, Delivery, DeliveryState
from core.notify.subscription import PushSubscription


def _delivery(r: NotifyDeliveryRecord) -> Delivery:
    return Delivery(
        delivery_id=r.delivery_id,
        event_id=r.event_id,
        destination=r.destination,
        recipient=r.recipient,
        alert_id=r.alert_id,
        incident_id=r.incident_id,
        kind=r.kind,
        payload=r.payload,
        state=DeliveryState(r.state),
        attempts=r.attempts,
        next_try_ms=r.next_try_ms,
        last_error=r.last_error,
        created_ms=r.created_ms,
        updated_ms=r.updated_ms,
    )


def _copy(d: Delivery, r: NotifyDeliveryRecord) -> None:
    r.event_id, r.destination, r.recipient = d.event_id, d.destination, d.recipient
    r.alert_id, r.incident_id, r.kind, r.payload = d.alert_id, d.incident_id, d.kind, d.payload
    r.state, r.attempts, r.next_try_ms = d.state.value, d.attempts, d.next_try_ms
    r.last_error, r.created_ms, r.updated_ms = d.last_error, d.created_ms, d.updated_ms


def _subscription(r: NotifySubscriptionRecord) -> PushSubscription:
    return PushSubscription(
        subscription_id=r.subscription_id,
        username=r.username,
        role=r.role,
        endpoint=r.endpoint,
        p256dh=r.p256dh,
        auth=r.auth,
        user_agent=r.user_agent,
        created_ms=r.created_ms,
    )


class NotifyRepository:
    """Deliveries and push subscriptions.

    Args:
        db: The archive database.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    # ------------------------------------------------------------------ deliveries

    def add_deliveries(self, deliveries: Iterable[Delivery]) -> int:
        """Insert new deliveries, one transaction; those already there (a replayed alert) are kept as they are.

        Returns:
            How many were new.
        """
        items = list(deliveries)
        if not items:
            return 0
        try:
            with self._db.session() as s:
                have = set(
                    s.scalars(
                        select(NotifyDeliveryRecord.delivery_id).where(
                            NotifyDeliveryRecord.delivery_id.in_([d.delivery_id for d in items])
                        )
                    )
                )
                new = [d for d in items if d.delivery_id not in have]
                for d in new:
                    r = NotifyDeliveryRecord(delivery_id=d.delivery_id)
                    _copy(d, r)
                    s.add(r)
                return len(new)
        except IntegrityError:  # a concurrent notifier inserted some meanwhile: one by one
            added = 0
            for d in items:
                try:
                    added += self._add_one(d)
                except IntegrityError:
                    continue
            return added

    def _add_one(self, d: Delivery) -> int:
        with self._db.session() as s:
            if s.get(NotifyDeliveryRecord, d.delivery_id) is not None:
                return 0
            r = NotifyDeliveryRecord(delivery_id=d.delivery_id)
            _copy(d, r)
            s.add(r)
            return 1

    def save(self, d: Delivery) -> None:
        """Store a delivery's new state (after an attempt)."""
        with self._db.session() as s:
            r = s.get(NotifyDeliveryRecord, d.delivery_id)
            if r is None:
                r = NotifyDeliveryRecord(delivery_id=d.delivery_id)
                s.add(r)
            _copy(d, r)

    def get(self, delivery_id: str) -> Delivery | None:
        with self._db.session() as s:
            r = s.get(NotifyDeliveryRecord, delivery_id)
            return None if r is None else _delivery(r)

    def due(self, now_ms: int, limit: int = 100) -> list[Delivery]:
        """Pending and retrying deliveries whose next try is due, oldest due first."""
        with self._db.session() as s:
            rows = s.scalars(
                select(NotifyDeliveryRecord)
                .where(NotifyDeliveryRecord.state.in_([st.value for st in OPEN_STATES]))
                .where(NotifyDeliveryRecord.next_try_ms <= now_ms)
                .order_by(NotifyDeliveryRecord.next_try_ms, NotifyDeliveryRecord.created_ms)
                .limit(limit)
            )
            return [_delivery(r) for r in rows]

    def deliveries(
        self, states: Sequence[DeliveryState] = (), incident_id: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        """Deliveries, newest first, optionally of some states or one incident."""
        q = select(NotifyDeliveryRecord)
        if states:
            q = q.where(NotifyDeliveryRecord.state.in_([st.value for st in states]))
        if incident_id:
            q = q.where(NotifyDeliveryRecord.incident_id == incident_id)
        with self._db.session() as s:
            rows = s.scalars(q.order_by(NotifyDeliveryRecord.created_ms.desc()).limit(limit))
            return [_delivery(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Deliveries per state (every state present, 0 when none)."""
        out = {st.value: 0 for st in DeliveryState}
        with self._db.session() as s:
            for state, n in s.execute(
                select(NotifyDeliveryRecord.state, func.count()).group_by(NotifyDeliveryRecord.state)
            ):
                out[str(state)] = int(n)
        return out

    def retry(self, delivery_id: str, now_ms: int) -> Delivery | None:
        """Put an undelivered delivery back in the queue (due now); None when unknown.

        A delivery in another state is returned unchanged.
        """
        with self._db.session() as s:
            r = s.get(NotifyDeliveryRecord, delivery_id)
            if r is None:
                return None
            d = _delivery(r).retry_now(now_ms)
            _copy(d, r)
            return d

    # ------------------------------------------------------------------ push subscriptions

    def add_subscription(self, sub: PushSubscription) -> bool:
        """Register (or re-register: same endpoint, new keys or user) a subscription; True when new."""
        try:
            with self._db.session() as s:
                r = s.get(NotifySubscriptionRecord, sub.subscription_id)
                new = r is None
                if r is None:
                    r = NotifySubscriptionRecord(subscription_id=sub.subscription_id, created_ms=sub.created_ms)
                    s.add(r)
                r.username, r.role, r.endpoint = sub.username, sub.role, sub.endpoint
                r.p256dh, r.auth, r.user_agent = sub.p256dh, sub.auth, sub.user_agent
                return new
        except IntegrityError:  # the same browser registered twice at once
            return False

    def remove_subscription(self, subscription_id: str, username: str | None = None) -> bool:
        """Forget a subscription (only the user's own when ``username`` is given); True when removed."""
        with self._db.session() as s:
            r = s.get(NotifySubscriptionRecord, subscription_id)
            if r is None or (username is not None and r.username != username):
                return False
            s.delete(r)
            return True

    def subscription(self, subscription_id: str) -> PushSubscription | None:
        with self._db.session() as s:
            r = s.get(NotifySubscriptionRecord, subscription_id)
            return None if r is None else _subscription(r)

    def subscriptions(
        self, usernames: Sequence[str] | None = None, roles: Sequence[str] | None = None
    ) -> list[PushSubscription]:
        """Subscriptions of these users and/or roles (None = no restriction by that), oldest first."""
        q = select(NotifySubscriptionRecord)
        if usernames is not None:
            q = q.where(NotifySubscriptionRecord.username.in_(list(usernames)))
        if roles is not None:
            q = q.where(NotifySubscriptionRecord.role.in_(list(roles)))
        with self._db.session() as s:
            return [_subscription(r) for r in s.scalars(q.order_by(NotifySubscriptionRecord.created_ms))]

    def push_ok(self, subscription_id: str, now_ms: int) -> None:
        """A push to this subscription was accepted."""
        with self._db.session() as s:
            r = s.get(NotifySubscriptionRecord, subscription_id)
            if r is not None:
                r.last_ok_ms = now_ms


__all__ = ["NotifyRepository"]
