"""Retry schedule of a notification: exponential backoff, then give up (undelivered).

Deterministic (no jitter): the deliveries of one alert go to different receivers, and a
receiver's retries are already spread by when each alert arrived.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.backoff import exponential_delay_s


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long a failed delivery is retried.

    Attributes:
        max_attempts: Attempts in all (the first included) before a delivery is undelivered.
        first_delay_s: Wait after the first failure.
        factor: Growth of the wait per further failure.
        max_delay_s: Longest wait between two attempts.
    """

    max_attempts: int = 8
    first_delay_s: float = 2.0
    factor: float = 2.0
    max_delay_s: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if self.first_delay_s <= 0:
            raise ValueError(f"first_delay_s must be > 0, got {self.first_delay_s}")
        if self.factor < 1:
            raise ValueError(f"factor must be >= 1, got {self.factor}")
        if self.max_delay_s < self.first_delay_s:
            raise ValueError(f"max_delay_s ({self.max_delay_s}) must be >= first_delay_s ({self.first_delay_s})")

    def delay_s(self, attempts: int) -> float:
        """Wait after the ``attempts``-th failed attempt (1-based)."""
        return exponential_delay_s(attempts - 1, self.first_delay_s, self.max_delay_s, self.factor)

    def next_try_ms(self, attempts: int, now_ms: int) -> int | None:
        """When to try again after ``attempts`` failed attempts, or None: give up."""
        if attempts >= self.max_attempts:
            return None
        return now_ms + int(self.delay_s(attempts) * 1000)

    def total_s(self) -> float:
        """Longest time from the first attempt to the last (a receiver down longer loses nothing
        either: the delivery is shown as undelivered and can be retried)."""
        return sum(self.delay_s(a) for a in range(1, self.max_attempts))


__all__ = ["RetryPolicy"]
