"""One detector shared by several camera threads: right results per caller, concurrent frames batched."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from core.types import Detection
from vision.shared import SharedDetector


class SlowBatchDetector:
    """Answers each frame with one detection whose confidence encodes the frame's pixel value."""

    def __init__(self, delay_s: float = 0.02, fail_on: int | None = None) -> None:
        self.delay_s = delay_s
        self.fail_on = fail_on
        self.batch_sizes: list[int] = []
        self.batch_shapes: list[set[tuple[int, ...]]] = []
        self.active = 0
        self.most_active = 0
        self._lock = threading.Lock()

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        with self._lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            self.batch_sizes.append(len(images))
            self.batch_shapes.append({im.shape for im in images})
            time.sleep(self.delay_s)
            if self.fail_on is not None and any(int(im[0, 0, 0]) == self.fail_on for im in images):
                raise RuntimeError("model failed")
            return [[Detection("car", int(im[0, 0, 0]) / 1000.0, (0.0, 0.0, 1.0, 1.0))] for im in images]
        finally:
            with self._lock:
                self.active -= 1


def frame(value: int) -> np.ndarray:
    return np.full((4, 4, 3), value, np.uint8)


def run_threads(shared: SharedDetector, values: list[int], per_thread: int) -> dict[int, list[float]]:
    out: dict[int, list[float]] = {v: [] for v in values}
    errors: list[BaseException] = []
    start = threading.Barrier(len(values))

    def camera(v: int) -> None:
        start.wait()
        for _ in range(per_thread):
            try:
                out[v].extend(d.confidence for d in shared.detect(frame(v)))
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

    threads = [threading.Thread(target=camera, args=(v,)) for v in values]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors, errors
    return out


def test_single_caller_runs_one_frame_at_a_time() -> None:
    inner = SlowBatchDetector(delay_s=0.0)
    shared = SharedDetector(inner)
    for v in (1, 2, 3):
        assert [d.confidence for d in shared.detect(frame(v))] == [v / 1000.0]
    assert inner.batch_sizes == [1, 1, 1]
    assert shared.stats.frames == 3 and shared.stats.batches == 3


@pytest.mark.parametrize(("cameras", "max_batch"), [(2, 8), (6, 8), (6, 4), (12, 3)])
def test_concurrent_cameras_get_their_own_results_and_share_batches(cameras: int, max_batch: int) -> None:
    inner = SlowBatchDetector(delay_s=0.02)
    shared = SharedDetector(inner, max_batch=max_batch)
    values = list(range(10, 10 + cameras))
    out = run_threads(shared, values, per_thread=5)
    for v in values:  # every caller got exactly its own frame's detections
        assert out[v] == [v / 1000.0] * 5
    assert sum(inner.batch_sizes) == cameras * 5
    assert max(inner.batch_sizes) <= max_batch
    assert max(inner.batch_sizes) > 1  # frames that waited went through together
    assert inner.most_active == 1  # one model, never run concurrently
    assert shared.stats.largest_batch == max(inner.batch_sizes)
    assert shared.stats.mean_batch > 1.0


def test_a_failing_batch_raises_in_its_callers_and_the_next_batch_works() -> None:
    inner = SlowBatchDetector(delay_s=0.0, fail_on=7)
    shared = SharedDetector(inner)
    with pytest.raises(RuntimeError, match="model failed"):
        shared.detect(frame(7))
    assert [d.confidence for d in shared.detect(frame(8))] == [0.008]


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        SharedDetector(SlowBatchDetector(), max_batch=0)


def test_frames_of_different_sizes_never_share_a_model_input() -> None:
    """A camera gets the same letterbox (so the same detections) whether or not its frame was batched."""
    inner = SlowBatchDetector(delay_s=0.02)
    shared = SharedDetector(inner)
    shapes = [(4, 4, 3), (4, 4, 3), (6, 8, 3), (6, 8, 3)]
    results: list[list[float]] = [[] for _ in shapes]
    barrier = threading.Barrier(len(shapes))

    def camera(i: int) -> None:
        barrier.wait()
        for _ in range(4):
            results[i].extend(d.confidence for d in shared.detect(np.full(shapes[i], i + 1, np.uint8)))

    threads = [threading.Thread(target=camera, args=(i,)) for i in range(len(shapes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [[(i + 1) / 1000.0] * 4 for i in range(len(shapes))]
    assert all(len(s) == 1 for s in inner.batch_shapes)
    assert max(inner.batch_sizes) > 1
