"""One camera's clip recorder: a bounded ring of recent frames, and clips written off the analysis thread.

:meth:`ClipRecorder.add` takes every captured frame, keeps ``clips.fps`` of them, scaled down to
``clips.max_width`` and JPEG-compressed, in a :class:`core.clips.MediaRing` (memory bounded by
``max_ring_mb``, reported in the heartbeat). :meth:`ClipRecorder.request` (called by the enforcer for a
violation or incident) asks for ``[t - pre_s, t + post_s]``: a background writer thread starts the clip's
MP4 at once with the frames already in the ring and encodes each later frame of the window as it arrives
(:class:`ingest.clips.job.ClipJob`); once a frame past the end has arrived (or ``GRACE_S`` later on the wall
clock, for a camera gone quiet) it finishes the file, hashes it, puts it in the blob store and emits a
:class:`core.types.ClipSaved` event. Analysis never waits for an encoder or a store, and the clip is
playable a fraction of a second after its window closes.

The ring holds JPEGs; a ring of compressed packets (remuxed without re-encoding) fits the same
:class:`~core.clips.RingItem` interface.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from config.clips import ClipsConfig
from core.clips import ClipRequest, MediaRing, RingItem, clip_due
from core.clock import now_ms
from core.types import Frame
from ingest.clips.job import ClipJob
from storage.base import BlobStore

log = logging.getLogger("ingest.clips")

#: A clip is written at the latest this long after its window ended, even if no newer frame came.
GRACE_S = 2.0
#: Clips being written at once at most (more are counted as failed: a camera flooding requests).
MAX_QUEUED = 32
#: The writer thread looks at the clock this often while clips are open (grace of a quiet camera).
POLL_S = 0.2


@dataclass(frozen=True, slots=True)
class ClipStats:
    """Counters of one camera's recorder (heartbeat, metrics, bench)."""

    ring_bytes: int
    ring_frames: int
    ring_max_bytes: int
    written: int
    failed: int
    waiting: int
    latencies_s: tuple[float, ...]
    open_frames: int = 0  # frames already encoded into clips whose window is still filling


def downscale(image: np.ndarray, max_width: int) -> np.ndarray:
    """The image scaled to at most ``max_width`` pixels wide (aspect kept), or itself."""
    h, w = image.shape[:2]
    if w <= max_width:
        return image
    nh = max(2, int(round(h * max_width / w)))
    return cv2.resize(image, (max_width, nh), interpolation=cv2.INTER_AREA)


class ClipRecorder:
    """Ring + clip writer of one camera.

    Args:
        camera_id: Camera.
        cfg: The camera's effective clip settings (:meth:`config.settings.AppConfig.clips_for`).
        store: Where clips go.
        emit: Publishes events (the worker's spool); called from the writer thread.
        clock: Wall clock in ms (grace for quiet cameras).
    """

    def __init__(
        self,
        camera_id: str,
        cfg: ClipsConfig,
        store: BlobStore,
        emit: Callable[[Sequence[object]], object],
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.camera_id = camera_id
        self.cfg = cfg
        self.store = store
        self.emit = emit
        self.clock = clock
        horizon = int((cfg.pre_s + cfg.post_s + GRACE_S + 1.0) * 1000)
        self.ring = MediaRing(horizon, int(cfg.max_ring_mb * 1024 * 1024))
        self._period_ms = 1000.0 / cfg.fps
        self._last_kept: int | None = None
        self._pending: set[str] = set()  # requested, not finished (once per owner while open)
        self._lock = threading.Lock()
        self._starts: queue.Queue[ClipRequest] = queue.Queue()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._aborted = threading.Event()
        self._latencies: deque[float] = deque(maxlen=512)
        self.written = 0
        self.failed = 0
        self._open_frames = 0
        self._thread = threading.Thread(target=self._run, name=f"clips-{camera_id}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ analysis-thread side

    def add(self, frame: Frame) -> None:
        """Offer a captured frame (kept at ``clips.fps``); open clips get it on the writer thread."""
        last = self._last_kept
        if last is None or frame.ts_ms - last >= 0.9 * self._period_ms:
            img = downscale(frame.image, self.cfg.max_width)
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, self.cfg.jpeg_quality])
            if ok:
                h, w = img.shape[:2]
                self.ring.add(RingItem(frame.ts_ms, np.asarray(buf).tobytes(), True, w, h))
                self._last_kept = frame.ts_ms
                self.tick()

    def request(self, owner_kind: str, owner_id: str, ts_ms: int) -> None:
        """Ask for the clip of a violation or incident at ``ts_ms`` (once per owner)."""
        if owner_kind == "incident" and not self.cfg.incidents:
            return
        pre, post = int(self.cfg.pre_s * 1000), int(self.cfg.post_s * 1000)
        req = ClipRequest(owner_kind, owner_id, self.camera_id, ts_ms, ts_ms - pre, ts_ms + post, time.monotonic())
        key = f"{owner_kind}:{owner_id}"
        with self._lock:
            if key in self._pending:
                return
            if len(self._pending) >= MAX_QUEUED:
                self.failed += 1
                log.warning("camera %s: clip of %s %s dropped: encoder behind", self.camera_id, owner_kind, owner_id)
                return
            self._pending.add(key)
        self._starts.put(req)
        self._wake.set()

    def tick(self) -> None:
        """Tell the writer that frames came (cheap; it also watches the clock by itself)."""
        if self._pending:
            self._wake.set()

    def flush(self, timeout: float = 30.0) -> None:
        """Write every requested clip now with the frames there are, wait for the writer, stop it."""
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)

    def abort(self, timeout: float = 5.0) -> None:
        """Stop at once, writing nothing (a crash: open clips are lost, nothing is published after this)."""
        self._aborted.set()
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)

    def stats(self) -> ClipStats:
        rs = self.ring.stats()
        with self._lock:
            waiting = len(self._pending)
        return ClipStats(
            rs.bytes,
            rs.items,
            rs.max_bytes,
            self.written,
            self.failed,
            waiting,
            tuple(self._latencies),
            self._open_frames,
        )

    # ------------------------------------------------------------------ writer thread

    def _run(self) -> None:
        jobs: dict[str, ClipJob] = {}
        while True:
            self._wake.wait(POLL_S if jobs else None)
            self._wake.clear()
            if self._aborted.is_set():
                for job in jobs.values():
                    job.abort()
                return
            stopping = self._stopping.is_set()
            while True:
                try:
                    req = self._starts.get_nowait()
                except queue.Empty:
                    break
                self._start(jobs, req)
            newest = self.ring.newest_ts_ms  # before reading the items: all up to it are in the pull
            now = self.clock()
            for key, job in list(jobs.items()):
                try:
                    job.feed(self.ring.window(job.next_ts_ms, job.req.end_ms))
                except Exception as e:  # noqa: BLE001 - one bad clip never stops the camera; counted
                    self._fail(jobs, key, f"not written: {e}")
                    continue
                if stopping or clip_due(job.req, newest, now, int(GRACE_S * 1000)):
                    self._finish(jobs, key)
            self._open_frames = sum(j.frames for j in jobs.values())
            if stopping:
                return

    def _start(self, jobs: dict[str, ClipJob], req: ClipRequest) -> None:
        key = f"{req.owner_kind}:{req.owner_id}"
        try:
            jobs[key] = ClipJob(req, self.cfg.fps, self.cfg.crf)
        except Exception as e:  # noqa: BLE001 - counted, the camera goes on
            self._fail(jobs, key, f"not started: {e}")

    def _fail(self, jobs: dict[str, ClipJob], key: str, why: str) -> None:
        job = jobs.pop(key, None)
        if job is not None:
            job.abort()
        with self._lock:
            self._pending.discard(key)
        self.failed += 1
        log.warning("camera %s: clip of %s %s", self.camera_id, key.replace(":", " "), why)

    def _finish(self, jobs: dict[str, ClipJob], key: str) -> None:
        job = jobs[key]
        try:
            saved = job.finish(self.camera_id, self.store)
        except Exception as e:  # noqa: BLE001 - one bad clip never stops the camera; counted
            self._fail(jobs, key, f"not written: {e}")
            return
        if saved is None:
            self._fail(jobs, key, "has no frames")
            return
        del jobs[key]
        with self._lock:
            self._pending.discard(key)
        self.written += 1
        self._latencies.append(time.monotonic() - job.req.requested_mono)
        try:
            self.emit([saved])
        except Exception as e:  # noqa: BLE001 - the clip is stored; its announcement failed
            log.warning("camera %s: clip %s stored but not announced: %s", self.camera_id, saved.key, e)


__all__ = ["GRACE_S", "MAX_QUEUED", "ClipRecorder", "ClipStats", "downscale"]
