"""Retry schedule: exponential backoff capped, then give up."""

from __future__ import annotations

import pytest

from core.notify.retry import RetryPolicy


@pytest.mark.parametrize(
    ("attempts", "delay"),
    [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (7, 128.0), (8, 256.0), (9, 300.0), (50, 300.0), (10**6, 300.0)],
)
def test_delay_doubles_then_caps(attempts: int, delay: float) -> None:
    assert RetryPolicy(max_attempts=100, first_delay_s=2, factor=2, max_delay_s=300).delay_s(attempts) == delay


def test_next_try_until_out_of_attempts() -> None:
    p = RetryPolicy(max_attempts=3, first_delay_s=1, factor=3, max_delay_s=60)
    assert p.next_try_ms(1, 10_000) == 11_000
    assert p.next_try_ms(2, 10_000) == 13_000
    assert p.next_try_ms(3, 10_000) is None
    assert p.total_s() == 1 + 3


def test_one_attempt_never_retries() -> None:
    assert RetryPolicy(max_attempts=1).next_try_ms(1, 0) is None


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"first_delay_s": 0}, "first_delay_s"),
        ({"factor": 0.5}, "factor"),
        ({"first_delay_s": 10, "max_delay_s": 5}, "max_delay_s"),
    ],
)
def test_bad_policy_says_which_field(kwargs: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        RetryPolicy(**kwargs)
