"""Reconnect backoff: exponential, capped, jittered within bounds, reset on success."""

from __future__ import annotations

import random

import pytest

from core.backoff import Backoff


def test_delays_double_up_to_the_cap_without_jitter() -> None:
    b = Backoff(initial_s=0.5, max_s=4.0, factor=2.0, jitter=0.0)
    assert [b.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert b.attempts == 6
    b.reset()
    assert b.next_delay() == 0.5


def test_jitter_stays_within_bounds_and_spreads_delays() -> None:
    b = Backoff(initial_s=1.0, max_s=1.0, jitter=0.25, rng=random.Random(3))
    delays = [b.next_delay() for _ in range(500)]
    assert all(0.75 <= d <= 1.25 for d in delays)
    assert max(delays) - min(delays) > 0.3  # really spread, not constant


def test_seeded_rng_gives_reproducible_delays() -> None:
    a = Backoff(rng=random.Random(5))
    b = Backoff(rng=random.Random(5))
    assert [a.next_delay() for _ in range(10)] == [b.next_delay() for _ in range(10)]


def test_huge_attempt_counts_do_not_overflow() -> None:
    b = Backoff(initial_s=0.5, max_s=30.0, jitter=0.0)
    b.attempts = 10_000
    assert b.next_delay() == 30.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial_s": 0.0},
        {"initial_s": 2.0, "max_s": 1.0},
        {"factor": 0.5},
        {"jitter": 1.0},
        {"jitter": -0.1},
    ],
)
def test_invalid_settings_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)  # type: ignore[arg-type]


def test_one_schedule_for_every_retry() -> None:
    from core.backoff import exponential_delay_s
    from core.notices import retry_delay_ms
    from core.notify.retry import RetryPolicy

    assert [exponential_delay_s(a, 1.0, 10.0) for a in range(-1, 6)] == [1.0, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert exponential_delay_s(10**6, 1.0, 50.0, factor=3.0) == 50.0  # no overflow
    policy = RetryPolicy(max_attempts=10, first_delay_s=2.0, factor=2.0, max_delay_s=60.0)
    for failures in range(1, 9):
        want = exponential_delay_s(failures - 1, 2.0, 60.0)
        assert policy.delay_s(failures) == want
        assert retry_delay_ms(failures, 2.0, 60.0) == int(want * 1000)
        assert Backoff(2.0, 60.0, jitter=0.0).base_delay(failures - 1) == want
