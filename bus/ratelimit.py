"""Fixed-window rate limits kept in Redis (shared by every dashboard process)."""

from __future__ import annotations

import time
from typing import Any

import redis

from bus.keys import ratelimit_key


class RateLimiter:
    """``limit`` hits per ``window_s`` per key.

    Args:
        client: Redis client.
        clock: Wall clock in seconds (tests).
    """

    def __init__(self, client: redis.Redis, clock: Any = time.time) -> None:
        self.client = client
        self.clock = clock

    def hit(self, scope: str, key: str, limit: int, window_s: float) -> tuple[bool, int]:
        """Count one hit.

        Returns:
            ``(allowed, retry_after_s)``; ``retry_after_s`` is 0 when allowed.
        """
        now = self.clock()
        window = max(1, int(window_s))
        bucket = int(now // window)
        k = ratelimit_key(scope, key, bucket)
        pipe = self.client.pipeline(transaction=True)
        pipe.incr(k)
        pipe.expire(k, window + 1)
        count = int(pipe.execute()[0])
        if count <= limit:
            return True, 0
        return False, max(1, int((bucket + 1) * window - now + 0.999))


__all__ = ["RateLimiter"]
