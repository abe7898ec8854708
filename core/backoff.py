"""Exponential backoff with jitter (pure): how long to wait before the next reconnect."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


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
        # Cap the exponent so huge attempt counts cannot overflow.
        return min(self.max_s, self.initial_s * self.factor ** min(attempt, 64))

    def next_delay(self) -> float:
        """Delay to wait now; counts one more failed attempt."""
        base = self.base_delay(self.attempts)
        self.attempts += 1
        spread = 1.0 + self.jitter * (2.0 * self.rng.random() - 1.0)
        return base * spread

    def reset(self) -> None:
        """The connection works again: start over from ``initial_s``."""
        self.attempts = 0
