"""Compatibility module: the camera sources live in :mod:`ingest.sources` now (one idea per module).

Re-exports the public names (``from ingest.source import CameraCapture, open_source`` keeps
working); new code imports from :mod:`ingest.sources`.
"""

from __future__ import annotations

from ingest.sources import (
    CameraCapture,
    CaptureStats,
    FileSource,
    FrameSource,
    SourceEnded,
    SourceError,
    StreamSource,
    WebcamSource,
    open_source,
    redact_url,
)

__all__ = [
    "CameraCapture",
    "CaptureStats",
    "FileSource",
    "FrameSource",
    "SourceEnded",
    "SourceError",
    "StreamSource",
    "WebcamSource",
    "open_source",
    "redact_url",
]
