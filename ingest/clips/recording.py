"""Continuous recording of one camera: fixed-length H.264 MP4 segments put in the blob store.

Frames (thinned to ``recording.fps``, scaled to ``max_width``) go through a bounded queue to a writer thread
that streams them into the current segment (:class:`ingest.clips.encode.Mp4Writer`); every ``segment_s`` of
capture time the segment is closed, stored as ``recordings/<camera>/<day>/<start ms>.mp4`` and announced as a
:class:`core.types.RecordingSegment` (the clips service lists it and applies the retention). A full queue
drops frames and counts them; analysis never waits.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from config.clips import RecordingConfig
from core.clips import segment_key
from core.types import Frame, RecordingSegment
from ingest.clips.encode import Mp4Writer
from ingest.clips.recorder import downscale
from storage.base import BlobStore

log = logging.getLogger("ingest.clips")

QUEUE_FRAMES = 64


class SegmentRecorder:
    """Continuous segments of one camera.

    Args:
        camera_id: Camera.
        cfg: The camera's effective recording settings.
        store: Where segments go.
        emit: Publishes events (called from the writer thread).
    """

    def __init__(
        self, camera_id: str, cfg: RecordingConfig, store: BlobStore, emit: Callable[[Sequence[object]], object]
    ) -> None:
        self.camera_id = camera_id
        self.cfg = cfg
        self.store = store
        self.emit = emit
        self._period_ms = 1000.0 / cfg.fps
        self._last: int | None = None
        self._queue: queue.Queue[tuple[int, np.ndarray] | None] = queue.Queue(QUEUE_FRAMES)
        self._tmp = tempfile.TemporaryDirectory(prefix=f"rec-{camera_id}-")
        self._writer: Mp4Writer | None = None
        self._seg_start = 0
        self.segments = 0
        self.failed = 0
        self.dropped = 0
        self._aborted = False
        self._thread = threading.Thread(target=self._run, name=f"rec-{camera_id}", daemon=True)
        self._thread.start()

    def add(self, frame: Frame) -> None:
        if self._last is not None and frame.ts_ms - self._last < 0.9 * self._period_ms:
            return
        self._last = frame.ts_ms
        try:
            self._queue.put_nowait((frame.ts_ms, downscale(frame.image, self.cfg.max_width)))
        except queue.Full:
            self.dropped += 1

    def flush(self, timeout: float = 30.0) -> None:
        """Close and store the current segment, stop the writer."""
        self._queue.put(None)
        self._thread.join(timeout)
        self._tmp.cleanup()

    def abort(self, timeout: float = 5.0) -> None:
        """Stop at once, storing nothing (a crash: the open segment is lost)."""
        self._aborted = True
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=timeout)
        self._thread.join(timeout)
        self._tmp.cleanup()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                if self._aborted:
                    if self._writer is not None:
                        self._writer.abort()
                    self._writer = None
                else:
                    self._close()
                return
            ts, img = job
            try:
                if self._writer is not None and ts - self._seg_start >= self.cfg.segment_s * 1000:
                    self._close()
                if self._writer is None:
                    self._seg_start = ts
                    self._writer = Mp4Writer(Path(self._tmp.name) / f"{ts}.mp4", self.cfg.fps, self.cfg.crf)
                self._writer.add(img, ts)
            except Exception as e:  # noqa: BLE001 - a broken segment is dropped and counted; the next one starts
                self.failed += 1
                log.warning("camera %s: recording segment failed: %s", self.camera_id, e)
                if self._writer is not None:
                    self._writer.abort()
                self._writer = None

    def _close(self) -> None:
        w, self._writer = self._writer, None
        if w is None:
            return
        try:
            video = w.close()
            data = w.path.read_bytes()
            key = segment_key(self.camera_id, video.start_ts_ms)
            self.store.put(key, data, "video/mp4")
            w.path.unlink(missing_ok=True)
        except Exception as e:  # noqa: BLE001
            self.failed += 1
            w.path.unlink(missing_ok=True)
            log.warning("camera %s: recording segment not stored: %s", self.camera_id, e)
            return
        self.segments += 1
        seg = RecordingSegment(
            camera_id=self.camera_id,
            ts_ms=video.start_ts_ms,
            end_ts_ms=video.end_ts_ms,
            key=key,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            duration_s=video.duration_s,
            frames=video.frames,
        )
        try:
            self.emit([seg])
        except Exception as e:  # noqa: BLE001
            log.warning("camera %s: segment %s stored but not announced: %s", self.camera_id, key, e)


__all__ = ["SegmentRecorder"]
