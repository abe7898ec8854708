"""The plate reader's bounded job queue: violators first, then first reads, then re-reads.

When the reader falls behind, the queue is full; a new job then takes the place of the least
urgent waiting one (which is dropped and returned to the caller to be counted) when it is more
urgent, and is itself dropped otherwise. Among equals, the oldest job is read first.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

#: Priorities (lower is read first).
VIOLATOR = 0
FIRST_READ = 1
RE_READ = 2


@dataclass(order=True)
class _Entry:
    priority: int
    seq: int
    key: str = field(compare=False)
    payload: Any = field(compare=False)


class PlateJobQueue:
    """A thread-safe bounded priority queue of ``(key, payload)`` jobs."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()

    def __len__(self) -> int:
        with self._cond:
            return len(self._heap)

    def offer(self, key: str, payload: Any, priority: int) -> tuple[bool, str | None]:
        """Queue a job. Returns ``(accepted, evicted_key)``: the new job was dropped when not accepted;
        ``evicted_key`` names a less urgent waiting job that made room for it."""
        entry = _Entry(priority, next(self._seq), key, payload)
        with self._cond:
            evicted: str | None = None
            if len(self._heap) >= self.maxsize:
                worst = max(self._heap)  # least urgent, newest among equals
                if worst.priority <= priority:
                    return False, None
                self._heap.remove(worst)
                heapq.heapify(self._heap)
                evicted = worst.key
            heapq.heappush(self._heap, entry)
            self._cond.notify()
            return True, evicted

    def take(self, timeout: float) -> tuple[str, Any] | None:
        """The most urgent job, waiting up to ``timeout`` seconds; None when there was none."""
        with self._cond:
            if not self._heap and not self._cond.wait_for(lambda: bool(self._heap), timeout):
                return None
            e = heapq.heappop(self._heap)
            return e.key, e.payload
