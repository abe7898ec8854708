"""One clip being written: its MP4 grows while the window's frames arrive, and is finished when it is complete.

A :class:`ClipJob` starts as soon as a violation or incident asks for a clip: the frames already in the ring
(the ``pre_s`` part) are encoded at once, then each frame of the ``post_s`` part as it comes, so when the
window closes only the last frame, the encoder's flush and the store remain (the violation -> playable clip
latency is ``post_s`` plus a fraction of a second, not ``post_s`` plus a whole encode). Runs on the
recorder's writer thread, never on the analysis thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from core.clips import ClipRequest, RingItem, clip_key
from core.types import ClipSaved
from ingest.clips.encode import Mp4Writer
from storage.base import BlobStore


class ClipJob:
    """The MP4 of one clip request, fed frame by frame.

    Args:
        req: The request (its window ``[start_ms, end_ms]``).
        fps: Nominal frame rate of the clip.
        crf: x264 quality.
    """

    def __init__(self, req: ClipRequest, fps: float, crf: int) -> None:
        self.req = req
        self._tmp = tempfile.TemporaryDirectory(prefix="clip-")
        self._writer = Mp4Writer(Path(self._tmp.name) / "clip.mp4", fps, crf)
        #: Items before this capture time are in the file already (or were never wanted).
        self.next_ts_ms = req.start_ms
        self.undecodable = 0

    @property
    def frames(self) -> int:
        return self._writer.frames

    def feed(self, items: Iterable[RingItem]) -> int:
        """Encode the items of the window not fed yet (in time order); returns how many were added."""
        added = 0
        for it in items:
            if it.ts_ms < self.next_ts_ms or it.ts_ms > self.req.end_ms:
                continue
            self.next_ts_ms = it.ts_ms + 1
            img = cv2.imdecode(np.frombuffer(it.data, np.uint8), cv2.IMREAD_COLOR)
            if img is None:
                self.undecodable += 1
                continue
            self._writer.add(img, it.ts_ms)
            added += 1
        return added

    def finish(self, camera_id: str, store: BlobStore) -> ClipSaved | None:
        """Close the file, put it in the store; None when it has no frame (nothing stored).

        Raises:
            Exception: from the encoder or the store (the temporary file is removed anyway).
        """
        try:
            if self._writer.frames == 0:
                self._writer.abort()
                return None
            video = self._writer.close()
            data = self._writer.path.read_bytes()
            key = clip_key(camera_id, self.req.owner_kind, self.req.owner_id, self.req.ts_ms)
            store.put(key, data, "video/mp4")
        finally:
            self._cleanup()
        return ClipSaved(
            owner_kind=self.req.owner_kind,
            owner_id=self.req.owner_id,
            camera_id=camera_id,
            ts_ms=self.req.ts_ms,
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

    def abort(self) -> None:
        """Drop the clip (encoder error): the temporary file goes."""
        self._writer.abort()
        self._cleanup()

    def _cleanup(self) -> None:
        with contextlib.suppress(OSError):
            self._tmp.cleanup()


__all__ = ["ClipJob"]
