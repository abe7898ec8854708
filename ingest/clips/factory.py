"""Per-camera clip recorders and segment recorders of one worker process, from the configuration."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from config.settings import AppConfig, CameraConfig
from ingest.clips.encode import EncoderUnavailable, h264_encoder
from ingest.clips.recorder import ClipRecorder
from ingest.clips.recording import SegmentRecorder
from storage.base import BlobStore

log = logging.getLogger("ingest.clips")

Emit = Callable[[Sequence[object]], object]


class MediaFactory:
    """Builds each camera's :class:`ClipRecorder` / :class:`SegmentRecorder` (None where off).

    The blob store is opened once, on the first camera that needs it; without an H.264 encoder
    clips and recording are switched off with one error in the log (the stills are still taken).

    Args:
        cfg: The configuration.
        store: The blob store (tests); None = :func:`storage.open_store` of ``cfg`` when first needed.
    """

    def __init__(self, cfg: AppConfig, store: BlobStore | None = None) -> None:
        self.cfg = cfg
        self._store = store
        self._usable: bool | None = None

    def _ready(self) -> bool:
        if self._usable is None:
            try:
                h264_encoder()
                self._usable = True
            except EncoderUnavailable as e:
                log.error("video clips and recording are off: %s", e)
                self._usable = False
        return self._usable

    def store(self) -> BlobStore:
        if self._store is None:
            from storage import open_store

            self._store = open_store(self.cfg, signer=False)
        return self._store

    def clips(self, camera: CameraConfig, emit: Emit) -> ClipRecorder | None:
        cc = self.cfg.clips_for(camera)
        if not cc.enabled or not self._ready():
            return None
        return ClipRecorder(camera.id, cc, self.store(), emit)

    def recording(self, camera: CameraConfig, emit: Emit) -> SegmentRecorder | None:
        rc = self.cfg.recording_for(camera)
        if not rc.enabled or not self._ready():
            return None
        return SegmentRecorder(camera.id, rc, self.store(), emit)


__all__ = ["MediaFactory"]
