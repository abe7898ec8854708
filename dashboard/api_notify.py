"""Notifications over the JSON API: a user's Web Push devices, and the deliveries of alerts.

Any logged-in user (warden, operator, admin), for their own devices:

* ``GET /api/v1/me/push-key``: ``{"public_key"}``, the VAPID application server key to
  subscribe with (503 until the notifier has started once).
* ``GET /api/v1/me/push-subscriptions``: their registered devices.
* ``POST /api/v1/me/push-subscriptions``: body ``PushSubscription.toJSON()``
  (``{"endpoint", "keys": {"p256dh", "auth"}}``); 201 new, 200 re-registered.
* ``DELETE /api/v1/me/push-subscriptions/<id>``: forget one of their devices.

Operators and admins:

* ``GET /api/v1/notify/deliveries?state=undelivered,retrying&incident=&limit=``: newest first.
* ``POST /api/v1/notify/deliveries/<id>/retry``: put an undelivered delivery back in the queue.

Errors are JSON ``{"error", "status"}`` naming the field (400/415/422), 404 for an unknown id,
503 when the archive or Redis is down.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import flask

from bus.notify import NotifyState
from core.clock import now_ms
from core.notify.delivery import Delivery, DeliveryState
from core.notify.subscription import PushSubscription, SubscriptionError, parse_subscription
from dashboard.api_base import BadRequest, _actor, _archive, _enum_list, _handle, _int_arg, _ok
from dashboard.context import current

log = logging.getLogger("dashboard.notify")

bp = flask.Blueprint("safecity_notify", __name__)

ID_RE = re.compile(r"^[0-9a-f]{24}$")
MAX_BODY = 4096


def _check_id(value: str, what: str) -> str:
    if not ID_RE.match(value):
        raise BadRequest(400, f"malformed {what} id: 24 lowercase hex digits")
    return value


def _device(s: PushSubscription) -> dict[str, Any]:
    return {"id": s.subscription_id, "user_agent": s.user_agent, "created_ms": s.created_ms}


def _delivery(d: Delivery) -> dict[str, Any]:
    return {
        "delivery_id": d.delivery_id,
        "alert_id": d.alert_id,
        "incident_id": d.incident_id,
        "destination": d.destination,
        "kind": d.kind,
        "recipient": d.recipient,
        "state": d.state.value,
        "attempts": d.attempts,
        "next_try_ms": d.next_try_ms,
        "last_error": d.last_error,
        "created_ms": d.created_ms,
        "updated_ms": d.updated_ms,
    }


# --------------------------------------------------------------------------- the user's devices


@bp.get("/api/v1/me/push-key")
@_handle
def push_key() -> flask.Response:
    _actor()
    try:
        key = NotifyState(current().store.client).public_key()
    except Exception as e:  # noqa: BLE001 - Redis down
        log.warning("push key: %s", e)
        raise BadRequest(503, "Redis unreachable") from None
    if not key:
        raise BadRequest(503, "Web Push is not ready: the notifier service has not started with a webpush destination")
    return _ok({"public_key": key})


@bp.get("/api/v1/me/push-subscriptions")
@_handle
def my_devices() -> flask.Response:
    username, _ = _actor()
    subs = _archive().notify.subscriptions(usernames=[username])
    return _ok({"subscriptions": [_device(s) for s in subs]})


@bp.post("/api/v1/me/push-subscriptions")
@_handle
def register_device() -> flask.Response:
    username, role = _actor()
    req = flask.request
    if not req.is_json:
        raise BadRequest(415, "send JSON (Content-Type: application/json): PushSubscription.toJSON()")
    if (req.content_length or 0) > MAX_BODY:
        raise BadRequest(413, f"body over {MAX_BODY} bytes")
    body = req.get_json(silent=True)
    if body is None:
        raise BadRequest(400, "body is not valid JSON")
    cfg = current().cfg
    try:
        sub = parse_subscription(
            body, username, role, now_ms(), req.headers.get("User-Agent", ""), cfg.notify.push_allow_http
        )
    except SubscriptionError as e:
        raise BadRequest(400 if e.malformed else 422, str(e)) from None
    new = _archive().notify.add_subscription(sub)
    log.info("push subscription %s for %s (%s)", sub.subscription_id, username, "new" if new else "renewed")
    return _ok({"id": sub.subscription_id, "created": new}, 201 if new else 200)


@bp.delete("/api/v1/me/push-subscriptions/<sub_id>")
@_handle
def remove_device(sub_id: str) -> flask.Response:
    username, _ = _actor()
    if not _archive().notify.remove_subscription(_check_id(sub_id, "subscription"), username):
        raise BadRequest(404, "no such device of yours")
    return _ok({"id": sub_id, "removed": True})


# --------------------------------------------------------------------------- deliveries


@bp.get("/api/v1/notify/deliveries")
@_handle
def list_deliveries() -> flask.Response:
    _actor(("operator", "admin"))
    unknown = sorted(set(flask.request.args) - {"state", "incident", "limit"})
    if unknown:
        raise BadRequest(400, f"unknown query parameter(s): {', '.join(unknown)}; allowed: state, incident, limit")
    states = _enum_list("state", DeliveryState)
    repo = _archive().notify
    rows = repo.deliveries(states, flask.request.args.get("incident") or None, _int_arg("limit", 100, 1, 500))
    return _ok({"counts": repo.counts(), "deliveries": [_delivery(d) for d in rows]})


@bp.post("/api/v1/notify/deliveries/<delivery_id>/retry")
@_handle
def retry_delivery(delivery_id: str) -> flask.Response:
    username, _ = _actor(("operator", "admin"))
    repo = _archive().notify
    before = repo.get(_check_id(delivery_id, "delivery"))
    if before is None:
        raise BadRequest(404, f"no delivery {delivery_id}")
    if before.state is not DeliveryState.UNDELIVERED:
        raise BadRequest(409, f"delivery is {before.state.value}; only undelivered ones are retried")
    d = repo.retry(delivery_id, now_ms()) or before
    log.info("delivery %s to %s retried by %s", delivery_id, d.destination, username)
    return _ok(_delivery(d))


__all__ = ["bp"]
