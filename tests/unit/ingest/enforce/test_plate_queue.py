"""The plate reader's job queue: violators first, then first reads, then re-reads; bounded."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest

from ingest.enforce.plate_queue import FIRST_READ, RE_READ, VIOLATOR, PlateJobQueue
from ingest.enforce.plates import PlateWorker


def drain(q: PlateJobQueue) -> list[str]:
    out = []
    while (job := q.take(0.01)) is not None:
        out.append(job[0])
    return out


def test_most_urgent_first_then_oldest() -> None:
    q = PlateJobQueue(8)
    for key, prio in [("re1", RE_READ), ("first1", FIRST_READ), ("v1", VIOLATOR), ("re2", RE_READ), ("v2", VIOLATOR)]:
        assert q.offer(key, None, prio) == (True, None)
    assert drain(q) == ["v1", "v2", "first1", "re1", "re2"]


@pytest.mark.parametrize(
    ("queued", "new", "accepted", "evicted"),
    [
        ([RE_READ, RE_READ], VIOLATOR, True, "j1"),  # the newest of the least urgent makes room
        ([FIRST_READ, RE_READ], FIRST_READ, True, "j1"),
        ([FIRST_READ, FIRST_READ], RE_READ, False, None),
        ([FIRST_READ, FIRST_READ], FIRST_READ, False, None),  # equals never push each other out
        ([VIOLATOR, VIOLATOR], VIOLATOR, False, None),
    ],
)
def test_full_queue(queued: list[int], new: int, accepted: bool, evicted: str | None) -> None:
    q = PlateJobQueue(len(queued))
    for i, prio in enumerate(queued):
        q.offer(f"j{i}", None, prio)
    assert q.offer("new", None, new) == (accepted, evicted)
    assert len(q) == len(queued)
    assert ("new" in drain(q)) is accepted


def test_take_waits_for_a_job() -> None:
    q = PlateJobQueue(1)
    threading.Timer(0.05, lambda: q.offer("late", 1, FIRST_READ)).start()
    assert q.take(2.0) == ("late", 1)
    assert q.take(0.01) is None


class GatedReader:
    """Reads nothing until released, recording the order it was asked in."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.order: list[int] = []

    def read(self, image: np.ndarray, fallback: bool = False) -> list[Any]:
        self.gate.wait(5)
        self.order.append(int(image[0, 0, 0]))
        return []


def test_worker_reads_violators_before_re_reads_and_counts_evictions() -> None:
    reader = GatedReader()
    w = PlateWorker(reader, max_queue=2)
    try:
        img = lambda v: np.full((8, 8, 3), v, np.uint8)  # noqa: E731
        assert w.submit("busy", img(0), first=False)  # taken at once by the reader thread, which blocks
        deadline = time.monotonic() + 2
        while len(w._jobs) and time.monotonic() < deadline:  # noqa: SLF001
            time.sleep(0.01)
        assert w.submit("re", img(1), first=False) and w.submit("re2", img(2), first=False)
        assert w.submit("viol", img(3), thorough=True)  # pushes out re2
        assert w.result("re2") is False and w.dropped == 1
        assert not w.submit("re3", img(4), first=False) and w.dropped == 2
        reader.gate.set()
        deadline = time.monotonic() + 5
        while not (w.done("viol") and w.done("re")) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert reader.order == [0, 3, 1]
    finally:
        reader.gate.set()
        w.stop()
