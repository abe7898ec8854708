"""A delivery's states: delivered, retrying with backoff, undelivered, retried by an operator."""

from __future__ import annotations

from core.notify.delivery import MAX_ERROR_CHARS, Delivery, DeliveryState, delivery_id_for
from core.notify.retry import RetryPolicy

POLICY = RetryPolicy(max_attempts=3, first_delay_s=2, factor=2, max_delay_s=60)


def fresh() -> Delivery:
    return Delivery(delivery_id_for("e1", "hook"), "e1", "hook", "", "a1", "i1", "webhook", "{}", next_try_ms=1000)


def test_ids_are_idempotent_and_distinct() -> None:
    assert delivery_id_for("e1", "hook") == delivery_id_for("e1", "hook")
    ids = {delivery_id_for("e1", "hook"), delivery_id_for("e2", "hook"), delivery_id_for("e1", "mqtt")}
    ids |= {delivery_id_for("e1", "push", "s1"), delivery_id_for("e1", "push", "s2")}
    assert len(ids) == 5 and all(len(i) == 24 for i in ids)


def test_success_clears_the_error() -> None:
    d = fresh().failed("down", 1000, POLICY).succeeded(4000)
    assert (d.state, d.attempts, d.next_try_ms, d.last_error, d.updated_ms) == (DeliveryState.DELIVERED, 2, 0, "", 4000)


def test_failures_back_off_then_give_up() -> None:
    d = fresh().failed("connection refused", 1000, POLICY)
    assert (d.state, d.attempts, d.next_try_ms) == (DeliveryState.RETRYING, 1, 3000)
    d = d.failed("connection refused", 3000, POLICY)
    assert (d.state, d.attempts, d.next_try_ms) == (DeliveryState.RETRYING, 2, 7000)
    d = d.failed("HTTP 503", 7000, POLICY)
    assert (d.state, d.attempts, d.next_try_ms, d.last_error) == (DeliveryState.UNDELIVERED, 3, 0, "HTTP 503")


def test_permanent_failure_is_undelivered_at_once() -> None:
    d = fresh().failed("HTTP 400: bad payload", 1000, POLICY, permanent=True)
    assert (d.state, d.attempts, d.last_error) == (DeliveryState.UNDELIVERED, 1, "HTTP 400: bad payload")


def test_error_text_is_capped() -> None:
    assert len(fresh().failed("x" * 5000, 0, POLICY).last_error) == MAX_ERROR_CHARS


def test_operator_retry_only_moves_undelivered() -> None:
    gone = fresh().failed("x", 0, POLICY, permanent=True)
    again = gone.retry_now(50_000)
    assert (again.state, again.attempts, again.next_try_ms, again.last_error) == (DeliveryState.PENDING, 0, 50_000, "x")
    retrying = fresh().failed("x", 0, POLICY)
    assert retrying.retry_now(50_000) == retrying
    done = fresh().succeeded(0)
    assert done.retry_now(50_000) == done
