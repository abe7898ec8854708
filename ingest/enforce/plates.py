"""Background plate reading: one thread running the ANPR reader on vehicle crops."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.enforce.images import crop, encode_jpeg
from ingest.enforce.plate_queue import FIRST_READ, RE_READ, VIOLATOR, PlateJobQueue

log = logging.getLogger("ingest.enforce")


@dataclass(frozen=True, slots=True)
class PlateResult:
    """A plate read in the background: text, confidence and the plate crop (JPEG)."""

    text: str
    confidence: float
    crop_jpeg: bytes | None


class PlateWorker:
    """One background thread reading plates from vehicle crops (OCR is slow on a CPU).

    Jobs are dropped, not queued without bound, when the reader falls behind (counted in
    :attr:`dropped`): violators' plates are read first, then each vehicle's first read, then re-reads,
    and a more urgent job takes the place of a less urgent waiting one (:mod:`ingest.enforce.plate_queue`).
    A crop the reader cannot read is counted in :attr:`failed`, never fatal.

    Args:
        reader: Object with ``read(image, fallback=...) -> [candidate(text, confidence, box)]``
            (:class:`vision.plates.PlateReader`).
        max_queue: Jobs waiting at most.
        fallback_all: Let the reader run its fallback on every job, not only on ``thorough`` ones.
    """

    MAX_RESULTS = 5000

    def __init__(self, reader: Any, max_queue: int = 8, jpeg_quality: int = 90, fallback_all: bool = False) -> None:
        self.reader = reader
        self.fallback_all = fallback_all
        self.jpeg_quality = jpeg_quality
        self._jobs = PlateJobQueue(max_queue)
        self._results: dict[str, PlateResult | None] = {}
        self._lock = threading.Lock()
        self._finished: set[str] = set()
        self._failed: set[str] = set()
        self._stop = threading.Event()
        self.dropped = 0
        self.read = 0
        self.failed = 0
        self.busy_s = 0.0
        self._thread = threading.Thread(target=self._run, name="plates", daemon=True)
        self._thread.start()

    @classmethod
    def try_create(cls, jpeg_quality: int = 90, mode: str = "fast", fallback: str = "violators") -> PlateWorker | None:
        """A worker around :class:`vision.plates.PlateReader`, or None when ANPR is not installed.

        Args:
            mode: The reader's mode (``fast``: plate detector first; ``text``: whole-crop text detection).
            fallback: ``fast`` mode: when the whole-crop text detection also runs on a weak read: for
                ``thorough`` jobs (violators), ``all`` jobs, or ``off``.
        """
        try:
            from vision.plates import PlateReader
        except ImportError:
            return None
        try:
            reader = PlateReader(mode=mode, fallback=fallback != "off")
            return cls(reader, jpeg_quality=jpeg_quality, fallback_all=fallback == "all")
        except Exception as e:  # noqa: BLE001 - no ANPR: tickets go to manual review
            log.warning("plate reader unavailable (%s): tickets without plates go to manual review", e)
            return None

    def submit(self, key: str, vehicle_crop: np.ndarray, thorough: bool = False, first: bool = True) -> bool:
        """Queue a read of one vehicle crop under ``key``; False when dropped.

        ``thorough``: a violator's plate (a ticket depends on it): read first, and the reader may run its
        slower fallback. ``first``: the vehicle's first read (else a re-read of a nearer view), read before re-reads.
        """
        with self._lock:
            if key in self._results:
                return True
            while len(self._results) >= self.MAX_RESULTS:  # forget the oldest reads (bounded memory)
                old = next(iter(self._results))
                self._results.pop(old)
                self._finished.discard(old)
                self._failed.discard(old)
            self._results[key] = None
        priority = VIOLATOR if thorough else FIRST_READ if first else RE_READ
        accepted, evicted = self._jobs.offer(key, (vehicle_crop.copy(), thorough), priority)
        gone = [k for k in (evicted, None if accepted else key) if k is not None]
        with self._lock:
            for k in gone:
                self._results.pop(k, None)
        self.dropped += len(gone)
        return accepted

    def result(self, key: str) -> PlateResult | None | bool:
        """The read result; ``False`` when not submitted, ``None`` while pending or when nothing was found."""
        with self._lock:
            if key not in self._results:
                return False
            return self._results[key]

    def read_failed(self, key: str) -> bool:
        """The read of ``key`` raised (an unreadable crop); counted in :attr:`failed` too."""
        with self._lock:
            return key in self._failed

    def done(self, key: str) -> bool:
        """The read of ``key`` finished (found a plate or not)."""
        with self._lock:
            return key in self._finished

    def _run(self) -> None:
        while not self._stop.is_set():
            job = self._jobs.take(timeout=0.5)
            if job is None:
                continue
            key, (img, thorough) = job
            res: PlateResult | None = None
            broken = False
            t0 = time.perf_counter()
            try:
                cands = self.reader.read(img, fallback=thorough or self.fallback_all)
                if cands:
                    c = cands[0]
                    pc = crop(img, c.box, pad=0.15)
                    res = PlateResult(
                        c.text, float(c.confidence), encode_jpeg(pc, self.jpeg_quality) if pc is not None else None
                    )
            except Exception as e:  # noqa: BLE001 - a bad crop must not kill the reader
                self.failed += 1
                broken = True
                log.warning("plate read failed: %s", e)
            self.busy_s += time.perf_counter() - t0
            self.read += 1
            with self._lock:
                self._results[key] = res
                self._finished.add(key)
                if broken:
                    self._failed.add(key)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
