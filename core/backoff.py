"""Exponential backoff (pure): the one formula for every retry delay, and a jittered reconnect helper.

:func:`exponential_delay_s` is the schedule (``initial * factor**n``, capped) that every retry in the
product uses: reconnects (:class:`Backoff`, with jitter), the notifier's deliveries
(:class:`core.notify.retry.RetryPolicy`), the notice outbox (:func:`core.notices.retry_delay_ms`) and
the owner register's HTTP retries (:mod:`services.notices.register`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


def exponential_delay_s(attempt: int, initial_s: float, max_s: float, factor: float = 2.0) -> float:
    """Delay before jitter after the ``attempt``-th failure (0-based): ``initial_s * factor**attempt``, capped.

    Args:
        attempt: Failures before this one (0 = the first failure waits ``initial_s``); negative counts as 0.
        initial_s: First delay, seconds.
        max_s: Largest delay, seconds.
        factor: Growth per failure.
    """
    # Cap the exponent so huge attempt counts cannot overflow.
    return min(max_s, initial_s * factor ** max(0, min(attempt, 64)))


@dataclass
class Backoff:
    """Delays ``initial_s * factor**n``, capped at ``max_s``, each scaled by ``1 ± jitter``.

    The jitter spreads reconnects of many cameras that failed together (a switch
    reboot) so they do not all hit the network at the same instant.

    Attributes:
        initial_s: First delay, seconds (> 0).
        max_s: Largest delay before jitter, seconds (>= initial_s).
        factor: Growth per failed attempt (>= 1).
        jitter: Relative random spread in [0, 1): the delay is multiplied by a uniform
            number in ``[1 - jitter, 1 + jitter]``.
        rng: Random source (seed it for reproducible delays).
        attempts: Failed attempts since the last :meth:`reset`.
    """

    initial_s: float = 0.5
    max_s: float = 30.0
    factor: float = 2.0
    jitter: float = 0.2
    rng: random.Random = field(default_factory=random.Random, repr=False)
    attempts: int = 0

    def __post_init__(self) -> None:
        if self.initial_s <= 0:
            raise ValueError(f"initial_s must be > 0, got {self.initial_s}")
        if self.max_s < self.initial_s:
            raise ValueError(f"max_s ({self.max_s}) must be >= initial_s ({self.initial_s})")
        if self.factor < 1:
            raise ValueError(f"factor must be >= 1, got {self.factor}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), got {self.jitter}")

    def base_delay(self, attempt: int) -> float:
        """Delay before jitter for the ``attempt``-th failure (0-based)."""
        return exponential_delay_s(attempt, self.initial_s, self.max_s, self.factor)

    def next_delay(self) -> float:
        """Delay to wait now; counts one more failed attempt."""
        base = self.base_delay(self.attempts)
        self.attempts += 1
        spread = 1.0 + self.jitter * (2.0 * self.rng.random() - 1.0)
        return base * spread

    def reset(self) -> None:
        """The connection works again: start over from ``initial_s``."""
        self.attempts = 0
