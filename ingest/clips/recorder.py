"""One camera's clip recorder: a bounded ring of recent frames, and clips written off the analysis thread.

:meth:`ClipRecorder.add` takes every captured frame, keeps ``clips.fps`` of them, scaled down to
``clips.max_width`` and JPEG-compressed, in a :class:`core.clips.MediaRing` (memory bounded by
``max_ring_mb``, reported in the heartbeat). :meth:`ClipRecorder.request` (called by the enforcer for a
violation or incident) asks for ``[t - pre_s, t + post_s]``; once a frame past the end has arrived (or
``GRACE_S`` later on the wall clock, for a camera gone quiet) the window's frames are handed to a
background thread that encodes the MP4 (:mod:`ingest.clips.encode`), hashes it, puts it in the blob store
and emits a :class:`core.types.ClipSaved` event, so analysis never waits for an encoder or a store.

The ring holds JPEGs; a ring of compressed packets (remuxed without re-encoding) fits the same
:class:`~core.clips.RingItem` interface.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from config.clips import ClipsConfig
from core.clips import ClipRequest, MediaRing, RingItem, clip_due, clip_key
from core.clock import now_ms
from core.types import ClipSaved, Frame
from ingest.clips.encode import write_mp4
from storage.base import BlobStore

log = logging.getLogger("ingest.clips")

#: A clip is written at the latest this long after its window ended, even if no newer frame came.
GRACE_S = 2.0
#: Clips waiting for the encoder at most (more are counted as failed: a camera flooding requests).
MAX_QUEUED = 32


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
        self._requests: dict[str, ClipRequest] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[ClipRequest, list[RingItem]] | None] = queue.Queue()
        self._latencies: deque[float] = deque(maxlen=512)
        self.written = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._run, name=f"clips-{camera_id}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ analysis-thread side

    def add(self, frame: Frame) -> None:
        """Offer a captured frame (kept at ``clips.fps``), then hand over the clips now complete."""
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
        with self._lock:
            self._requests.setdefault(f"{owner_kind}:{owner_id}", req)

    def tick(self) -> None:
        """Hand complete windows to the writer (also call it when no frame came, for the grace timeout)."""
        newest = self.ring.newest_ts_ms
        now = self.clock()
        with self._lock:
            due = [k for k, r in self._requests.items() if clip_due(r, newest, now, int(GRACE_S * 1000))]
            reqs = [self._requests.pop(k) for k in due]
        for r in reqs:
            self._hand_over(r)

    def _hand_over(self, req: ClipRequest) -> None:
        items = self.ring.window(req.start_ms, req.end_ms)
        if self._queue.qsize() >= MAX_QUEUED:
            self.failed += 1
            log.warning(
                "camera %s: clip of %s %s dropped: encoder behind", self.camera_id, req.owner_kind, req.owner_id
            )
            return
        self._queue.put((req, items))

    def flush(self, timeout: float = 30.0) -> None:
        """Write every requested clip now with the frames there are, wait for the writer, stop it."""
        with self._lock:
            reqs = list(self._requests.values())
            self._requests.clear()
        for r in reqs:
            self._hand_over(r)
        self._queue.put(None)
        self._thread.join(timeout)

    def stats(self) -> ClipStats:
        rs = self.ring.stats()
        with self._lock:
            waiting = len(self._requests)
        return ClipStats(
            rs.bytes,
            rs.items,
            rs.max_bytes,
            self.written,
            self.failed,
            waiting + self._queue.qsize(),
            tuple(self._latencies),
        )

    # ------------------------------------------------------------------ writer thread

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            req, items = job
            try:
                saved = self._write(req, items)
            except Exception as e:  # noqa: BLE001 - one bad clip never stops the camera; counted
                self.failed += 1
                log.warning("camera %s: clip of %s %s not written: %s", self.camera_id, req.owner_kind, req.owner_id, e)
                continue
            if saved is None:
                self.failed += 1
                log.warning("camera %s: no frames for the clip of %s %s", self.camera_id, req.owner_kind, req.owner_id)
                continue
            self.written += 1
            self._latencies.append(time.monotonic() - req.requested_mono)
            try:
                self.emit([saved])
            except Exception as e:  # noqa: BLE001 - the clip is stored; its announcement failed
                log.warning("camera %s: clip %s stored but not announced: %s", self.camera_id, saved.key, e)

    def _write(self, req: ClipRequest, items: list[RingItem]) -> ClipSaved | None:
        if not items:
            return None
        frames = (
            (it.ts_ms, img)
            for it in items
            if (img := cv2.imdecode(np.frombuffer(it.data, np.uint8), cv2.IMREAD_COLOR)) is not None
        )
        with tempfile.TemporaryDirectory(prefix="clip-") as tmp:
            path = Path(tmp) / "clip.mp4"
            video = write_mp4(path, frames, self.cfg.fps, self.cfg.crf)
            data = path.read_bytes()
            key = clip_key(self.camera_id, req.owner_kind, req.owner_id, req.ts_ms)
            self.store.put(key, data, "video/mp4")
        return ClipSaved(
            owner_kind=req.owner_kind,
            owner_id=req.owner_id,
            camera_id=self.camera_id,
            ts_ms=req.ts_ms,
            start_ts_ms=video.start_ts_ms,
            end_ts_ms=video.end_ts_ms,
            key=key,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            duration_s=video.duration_s,
            frames=video.frames,
            width=video.width,
            height=video.height,
        )


__all__ = ["GRACE_S", "MAX_QUEUED", "ClipRecorder", "ClipStats", "downscale"]
