"""The notifier service: ``alert.warden`` -> stored deliveries -> adapters, with retries.

:class:`Notifier` has two halves sharing the SQL delivery table:

* :meth:`Notifier.handle` (the consumer thread): routes each alert to the destinations whose
  filters want it (for Web Push: to each subscription of the alert's wardens, and of the control
  room for escalations), stores one :class:`core.notify.Delivery` per target, and only then
  acknowledges the stream message. A crash before the ack redelivers the message; the delivery
  ids are idempotent, so nothing is sent twice because of it.
* :meth:`Notifier.deliver_due` (the delivery thread): sends due deliveries, one task per
  destination in parallel (a slow receiver holds up only itself), and records the outcome:
  delivered, retrying at the next backoff step, or undelivered (out of attempts, or refused).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from archive.notify import NotifyRepository
from bus.notify import NotifyState
from bus.schema import stream_of
from bus.streams import EventBus, Message
from config.notify import NotifyDestination, WebPushDestination
from config.settings import AppConfig
from core.clock import now_ms
from core.notify.delivery import Delivery, DeliveryState, delivery_id_for
from core.notify.payload import alert_payload, payload_text
from core.notify.retry import RetryPolicy
from core.notify.routing import AlertFilter, Route, route
from core.notify.subscription import PushSubscription
from core.types import IncidentKind, Priority, WardenAlert
from services.notify.errors import DeliveryError
from services.sending import SendFailure

log = logging.getLogger("services.notify")

GROUP = "notifier"
STREAM = stream_of(WardenAlert)
CONTROL_ROOM_ROLES = ("operator", "admin")


class Adapter(Protocol):
    def send(self, delivery: Delivery) -> None: ...

    def close(self) -> None: ...


class PushAdapter(Protocol):
    def send_to(self, delivery: Delivery, sub: PushSubscription) -> None: ...

    def close(self) -> None: ...


def routes_of(destinations: Sequence[NotifyDestination]) -> list[Route]:
    """The routing table of the enabled destinations."""
    return [
        Route(
            d.name,
            AlertFilter(
                zones=tuple(d.filters.zones),
                kinds=tuple(IncidentKind(k) for k in d.filters.kinds),
                min_severity=Priority(d.filters.min_severity),
                escalated_only=d.filters.escalated_only,
            ),
        )
        for d in destinations
        if d.enabled
    ]


def retry_policy(cfg: AppConfig) -> RetryPolicy:
    r = cfg.notify.retry
    return RetryPolicy(r.max_attempts, r.first_delay_s, r.factor, r.max_delay_s)


class Notifier:
    """Routes alerts to destinations and delivers them.

    Args:
        cfg: Configuration (``notify``, segment names).
        bus: Event bus (acknowledgements).
        repo: Deliveries and subscriptions (SQL).
        adapters: Destination name -> adapter (``send``; Web Push ones ``send_to``).
        state: Where counters and the heartbeat go (Redis); None = nowhere.
        clock: Wall clock, ms.
    """

    def __init__(
        self,
        cfg: AppConfig,
        bus: EventBus,
        repo: NotifyRepository,
        adapters: Mapping[str, Adapter | PushAdapter],
        state: NotifyState | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.cfg = cfg
        self.bus = bus
        self.repo = repo
        self.adapters = dict(adapters)
        self.state = state
        self.clock = clock
        self.destinations = {d.name: d for d in cfg.notify.destinations if d.enabled}
        self.routes = routes_of(cfg.notify.destinations)
        self.policy = retry_policy(cfg)
        self.zone_names = {s.id: s.name for s in cfg.segments}
        self.counters: Counter[str] = Counter()
        self.wake = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=max(1, min(8, len(self.destinations))), thread_name_prefix="notify")

    # ------------------------------------------------------------------ routing (consumer thread)

    def deliveries_for(self, alert: WardenAlert, event_id: str) -> list[Delivery]:
        """One delivery per destination that wants the alert (per subscription for Web Push)."""
        payload = payload_text(alert_payload(alert, event_id, self.zone_names.get(alert.segment_id or "")))
        now = self.clock()
        out: list[Delivery] = []
        for name in route(self.routes, alert):
            dest = self.destinations[name]
            recipients = [""]
            if isinstance(dest, WebPushDestination):
                recipients = [s.subscription_id for s in self._subscribers(dest, alert)]
            for rcpt in recipients:
                out.append(
                    Delivery(
                        delivery_id=delivery_id_for(event_id, name, rcpt),
                        event_id=event_id,
                        destination=name,
                        recipient=rcpt,
                        alert_id=alert.alert_id,
                        incident_id=alert.incident_id,
                        kind=dest.kind,
                        payload=payload,
                        next_try_ms=now,
                        created_ms=now,
                        updated_ms=now,
                    )
                )
        return out

    def _subscribers(self, dest: WebPushDestination, alert: WardenAlert) -> list[PushSubscription]:
        subs = {s.subscription_id: s for s in self.repo.subscriptions(usernames=list(alert.wardens))}
        if dest.control_room and (alert.escalated or not alert.wardens):
            subs.update({s.subscription_id: s for s in self.repo.subscriptions(roles=CONTROL_ROOM_ROLES)})
        return list(subs.values())

    def handle(self, messages: Sequence[Message]) -> None:
        """Store the deliveries of a batch of alerts, then acknowledge the batch."""
        deliveries: list[Delivery] = []
        for m in messages:
            if isinstance(m.envelope.obj, WardenAlert):
                deliveries += self.deliveries_for(m.envelope.obj, m.envelope.event_id)
                self.counters["alerts"] += 1
        added = self.repo.add_deliveries(deliveries)  # raises on a database outage: no ack, redelivered
        self.counters["deliveries"] += added
        self.bus.ack(GROUP, messages)
        if added:
            self.wake.set()

    # ------------------------------------------------------------------ delivery (delivery thread)

    def attempt(self, d: Delivery) -> Delivery:
        """Try one delivery once; returns it with the outcome recorded (and saves it)."""
        now = self.clock()
        adapter = self.adapters.get(d.destination)
        try:
            if adapter is None or d.destination not in self.destinations:
                raise DeliveryError(f"destination {d.destination!r} is not configured (or disabled)", permanent=True)
            if d.kind == "webpush":
                sub = self.repo.subscription(d.recipient)
                if sub is None:
                    raise DeliveryError("the browser's push subscription was removed", permanent=True)
                adapter.send_to(d, sub)  # type: ignore[union-attr]
                self.repo.push_ok(sub.subscription_id, now)
            else:
                adapter.send(d)  # type: ignore[union-attr]
        except SendFailure as e:  # DeliveryError, or the shared SMTP client's failure
            if isinstance(e, DeliveryError) and e.gone:
                self.repo.remove_subscription(d.recipient)
            out = d.failed(e.reason, self.clock(), self.policy, e.permanent)
            self.counters["failed_attempts"] += 1
            if out.state is DeliveryState.UNDELIVERED:
                self.counters["undelivered"] += 1
                log.warning("undelivered: %s to %s: %s", d.alert_id, d.destination, e.reason)
            else:
                log.info("retrying %s to %s (attempt %d): %s", d.alert_id, d.destination, out.attempts, e.reason)
        except Exception as e:  # noqa: BLE001 - an adapter bug must not stop the loop: retried like a failure
            out = d.failed(f"internal error: {type(e).__name__}: {e}", self.clock(), self.policy)
            self.counters["failed_attempts"] += 1
            log.exception("delivery %s to %s", d.delivery_id, d.destination)
        else:
            out = d.succeeded(self.clock())
            self.counters["delivered"] += 1
            log.info("delivered %s to %s%s", d.alert_id, d.destination, f" ({d.recipient})" if d.recipient else "")
        self.repo.save(out)
        return out

    def _attempt_all(self, deliveries: Sequence[Delivery]) -> None:
        for d in deliveries:
            self.attempt(d)

    def deliver_due(self, limit: int = 100) -> int:
        """Attempt every due delivery once (destinations in parallel); returns how many were attempted."""
        due = self.repo.due(self.clock(), limit)
        by_dest: dict[str, list[Delivery]] = {}
        for d in due:
            by_dest.setdefault(d.destination, []).append(d)
        futures = [self._pool.submit(self._attempt_all, ds) for ds in by_dest.values()]
        for f in futures:
            f.result()
        return len(due)

    def delivery_loop(self, stop: threading.Event) -> None:
        """Deliver until ``stop``: at once when :meth:`handle` stored new ones, else every ``notify.poll_s``."""
        last_status = 0.0
        while not stop.is_set():
            self.wake.clear()
            n = 0
            try:
                n = self.deliver_due()
            except Exception as e:  # noqa: BLE001 - database outage: wait and try again
                log.warning("delivery round failed: %s: %s", type(e).__name__, e)
                stop.wait(1.0)
            now = self.clock()
            if now - last_status >= 2000:
                last_status = now
                self.publish_status(now)
            if n < 100:
                self.wake.wait(self.cfg.notify.poll_s)

    def publish_status(self, now: int) -> None:
        if self.state is None:
            return
        try:
            self.state.set_status({**self.counters, "ts_ms": now, "destinations": len(self.destinations)})
        except Exception as e:  # noqa: BLE001 - Redis down: the counters wait
            log.debug("status not published: %s", e)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for a in self.adapters.values():
            try:
                a.close()
            except Exception:  # noqa: BLE001
                log.debug("closing an adapter failed", exc_info=True)


__all__ = ["CONTROL_ROOM_ROLES", "GROUP", "STREAM", "Notifier", "retry_policy", "routes_of"]
