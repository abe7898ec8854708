"""Which source a camera's ``source`` config opens."""

from __future__ import annotations

from config.settings import CameraConfig, resolve_path
from config.settings import FileSource as FileSourceConfig
from config.settings import StreamSource as StreamSourceConfig
from config.settings import SyntheticSource as SyntheticSourceConfig
from config.settings import WebcamSource as WebcamSourceConfig
from ingest.base import FrameSource
from ingest.sources.file import FileSource
from ingest.sources.stream import StreamSource
from ingest.sources.webcam import WebcamSource
from sim.source import SyntheticSource


def open_source(camera: CameraConfig) -> FrameSource:
    """The source for a camera's ``source`` config (not opened yet)."""
    src = camera.source
    if isinstance(src, SyntheticSourceConfig):
        return SyntheticSource(camera.id, src, camera.calibration)
    if isinstance(src, FileSourceConfig):
        return FileSource(camera.id, resolve_path(src.path), loop=src.loop, realtime=src.realtime)
    if isinstance(src, StreamSourceConfig):
        return StreamSource(camera.id, src.url)
    if isinstance(src, WebcamSourceConfig):
        return WebcamSource(camera.id, src.index)
    raise TypeError(f"camera {camera.id}: unsupported source kind {getattr(src, 'kind', src)!r}")


__all__ = ["open_source"]
