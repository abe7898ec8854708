"""Pub/sub "something changed" notifications: fire-and-forget hints for live views.

Not a delivery guarantee: the streams (:mod:`bus.streams`) and :mod:`bus.store` hold the data.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import redis

from bus.stream_entries import as_text


@dataclass(frozen=True, slots=True)
class Notification:
    """A pub/sub message.

    Attributes:
        channel: Channel it was published on.
        payload: Decoded JSON payload, or the raw text when it was not JSON.
        pattern: The pattern that matched, for pattern subscriptions.
    """

    channel: str
    payload: Any
    pattern: str | None = None


def notify(client: redis.Redis, channel: str, payload: Mapping[str, Any] | str) -> int:
    """Publish a small "something changed" hint (``PUBLISH``).

    Args:
        client: Redis client.
        channel: Channel, e.g. ``live:changed``.
        payload: JSON-able mapping (sent as JSON) or a string.

    Returns:
        Number of subscribers that received it.
    """
    return int(client.publish(channel, notification_text(payload)))


def notification_text(payload: Mapping[str, Any] | str) -> str:
    """Wire text of a notification payload (compact JSON, or the string itself)."""
    return payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"), sort_keys=True)


class Subscription:
    """Listening end of :func:`subscribe`; context manager, iterable.

    Survives Redis restarts: a lost connection is counted in ``errors`` and
    redis-py re-subscribes on the next read.
    """

    def __init__(self, client: redis.Redis, channels: Sequence[str], patterns: Sequence[str]) -> None:
        if not channels and not patterns:
            raise ValueError("subscribe to at least one channel or pattern")
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        if channels:
            self._pubsub.subscribe(*channels)
        if patterns:
            self._pubsub.psubscribe(*patterns)
        self.errors = 0
        self.last_error = ""

    def get(self, timeout: float = 1.0) -> Notification | None:
        """Next notification, waiting up to ``timeout`` seconds; None when none came."""
        deadline = time.monotonic() + timeout
        while True:
            left = max(0.0, deadline - time.monotonic())
            try:
                msg = self._pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            except (redis.ConnectionError, redis.TimeoutError, OSError) as e:
                self.errors += 1
                self.last_error = str(e)
                time.sleep(min(left, 0.2))
                msg = None
            if msg is not None and msg.get("type") in ("message", "pmessage"):
                text = as_text(msg["data"])
                try:
                    payload: Any = json.loads(text)
                except ValueError:
                    payload = text
                pattern = msg.get("pattern")
                return Notification(
                    channel=as_text(msg["channel"]), payload=payload, pattern=as_text(pattern) if pattern else None
                )
            if time.monotonic() >= deadline:
                return None

    def __iter__(self) -> Iterator[Notification]:
        """Notifications forever (until :meth:`close`)."""
        while True:
            n = self.get(timeout=1.0)
            if n is not None:
                yield n

    def close(self) -> None:
        """Unsubscribe and release the connection."""
        with contextlib.suppress(redis.RedisError, OSError):
            self._pubsub.close()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def subscribe(client: redis.Redis, channels: Sequence[str] = (), patterns: Sequence[str] = ()) -> Subscription:
    """Listen to notification channels (and glob ``patterns``, e.g. ``live:*``).

    Subscribe before the changes you wait for are published: pub/sub keeps no history.
    """
    return Subscription(client, channels, patterns)
