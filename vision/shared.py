"""One loaded detector serving several cameras of a process, with cross-camera batching.

A worker runs one analysis thread per camera. Giving each camera its own YOLO model
costs memory per camera and, worse, lets every camera's inference threads fight for
the same cores. :class:`SharedDetector` holds one model for all cameras with the same
detector settings: a camera thread that needs detections queues its frame; whichever
thread finds the model idle takes every queued frame (up to ``max_batch``) and runs
them as one batch per frame size (:meth:`detect_batch`; frames of one size are
letterboxed alike, so a camera gets exactly what it would get alone), then hands each
camera its own detections.
Frames that arrive while the model is busy wait for the next batch. Nothing waits for
a batch to fill: with one busy camera every batch is one frame, as before; when several
cameras need the model at once their frames go through together, which uses the
inference threads better than one small frame at a time.

Pure Python and threads; no model code here (the wrapped detector does the work).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from core.types import Detection
from vision.wrapper import WrappedDetector


class BatchDetector(Protocol):
    """A detector that can take several frames at once (e.g. :class:`vision.detectors.exported.ExportedYoloDetector`)."""

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        """One detection list per frame, in pixels of that frame."""
        ...


@dataclass
class _Request:
    image: np.ndarray
    result: list[Detection] | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass
class SharedStats:
    """Counters of a :class:`SharedDetector` (read without locking; approximate while it runs).

    Attributes:
        frames: Frames detected.
        batches: Batches run.
        largest_batch: Most frames in one batch.
        sizes: Batch size -> batches of that size.
    """

    frames: int = 0
    batches: int = 0
    largest_batch: int = 0
    sizes: dict[int, int] = field(default_factory=dict)

    @property
    def mean_batch(self) -> float:
        """Mean frames per batch."""
        return self.frames / self.batches if self.batches else 0.0


class SharedDetector(WrappedDetector):
    """Serves :meth:`detect` calls from many threads with one detector, batching concurrent frames.

    Thread-safe. A failing batch raises its error in every caller whose frame was in it
    (each camera then handles it as it would its own detector failing); later batches are
    unaffected.

    Attributes:
        detector: The wrapped detector.
        max_batch: Most frames per batch.
        stats: Frames, batches and batch sizes so far.
    """

    def __init__(self, detector: BatchDetector, max_batch: int = 8) -> None:
        """Wrap a detector.

        Args:
            detector: Any detector with ``detect_batch``.
            max_batch: Most frames run at once (bounds the input buffer and the wait of the last in line).

        Raises:
            ValueError: ``max_batch`` < 1.
        """
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self.detector = detector
        self.max_batch = int(max_batch)
        self.stats = SharedStats()
        self._cond = threading.Condition()
        self._pending: list[_Request] = []
        self._busy = False

    @property
    def imgsz(self) -> int | None:
        """The wrapped detector's inference size, where it has one."""
        size = getattr(self.detector, "imgsz", None)
        return int(size) if size is not None else None

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Detections of one frame, possibly computed in a batch with other threads' frames.

        Args:
            image: BGR uint8 frame.

        Returns:
            Detections in pixels of ``image``.

        Raises:
            Whatever the wrapped detector raised on the batch holding this frame.
        """
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        """Detections of several frames of this caller (e.g. the tiles of one frame), queued together.

        Args:
            images: BGR uint8 frames.

        Returns:
            One detection list per frame, in pixels of that frame.

        Raises:
            Whatever the wrapped detector raised on a batch holding one of these frames.
        """
        reqs = [_Request(im) for im in images]
        with self._cond:
            self._pending.extend(reqs)
            while not all(r.done for r in reqs):
                if self._busy:
                    self._cond.wait()
                    continue
                self._run_batch_locked()
        for r in reqs:
            if r.error is not None:
                raise r.error
        return [r.result if r.result is not None else [] for r in reqs]

    def _run_batch_locked(self) -> None:
        """Run the oldest queued frames as one batch. Called with the lock held; releases it meanwhile."""
        batch = self._pending[: self.max_batch]
        del self._pending[: self.max_batch]
        self._busy = True
        self._cond.release()
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, r in enumerate(batch):
            groups.setdefault(tuple(r.image.shape), []).append(i)
        try:
            for idx in groups.values():
                error: BaseException | None = None
                results: list[list[Detection]] = []
                try:
                    results = self.detector.detect_batch([batch[i].image for i in idx])
                    if len(results) != len(idx):
                        raise RuntimeError(f"detector returned {len(results)} results for {len(idx)} frames")
                except Exception as e:  # noqa: BLE001 - handed to every caller of the batch
                    error = e
                for k, i in enumerate(idx):
                    if error is not None:
                        batch[i].error = error
                    else:
                        batch[i].result = results[k]
        finally:
            self._cond.acquire()
            for r in batch:
                if r.result is None and r.error is None:  # interrupted (e.g. KeyboardInterrupt in this thread)
                    r.error = RuntimeError("detection interrupted")
                r.done = True
            n = len(batch)
            self.stats.frames += n
            self.stats.batches += 1
            self.stats.largest_batch = max(self.stats.largest_batch, n)
            self.stats.sizes[n] = self.stats.sizes.get(n, 0) + 1
            self._busy = False
            self._cond.notify_all()


__all__ = ["BatchDetector", "SharedDetector", "SharedStats"]
