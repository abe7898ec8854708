"""Camera sources and the per-camera capture thread, one idea per module.

A :class:`~ingest.base.FrameSource` (defined in :mod:`ingest.base`, re-exported here)
is one opened camera that is read from one thread:

* :class:`~ingest.sources.stream.StreamSource`: RTSP or HTTP/MJPEG URLs through OpenCV's
  FFmpeg backend, with open/read timeouts so a dead network cannot block forever;
* :class:`~ingest.sources.file.FileSource`: a video file, looped or not, paced at its native
  fps like a live camera (``realtime=True``) or read as fast as possible for batch analysis;
* :class:`~ingest.sources.webcam.WebcamSource`: a local capture device;
* :class:`sim.source.SyntheticSource`: the rendered road scene.

:func:`~ingest.sources.factory.open_source` builds the right one from a camera's config;
:class:`~ingest.sources.capture.CameraCapture` runs one on its own thread (drop-oldest
buffer, reconnect with backoff, stall watchdog). :mod:`ingest.sources.opencv` holds what the
OpenCV sources share.
"""

from __future__ import annotations

from ingest.base import FrameSource, SourceEnded, SourceError
from ingest.sources.capture import CameraCapture, CaptureStats
from ingest.sources.factory import open_source
from ingest.sources.file import FileSource
from ingest.sources.opencv import redact_url
from ingest.sources.stream import StreamSource
from ingest.sources.webcam import WebcamSource

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
