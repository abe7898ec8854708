"""The frame-source contract: :class:`FrameSource` and the two ways a read can fail.

This is the bottom of :mod:`ingest`: it imports nothing from the project but
:mod:`core.types`, so every source (the OpenCV ones in :mod:`ingest.sources`, the
rendered road of :mod:`sim`) can implement the protocol without importing each other.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from core.types import Frame


class SourceError(Exception):
    """A source cannot be opened or its connection/file failed."""


class SourceEnded(Exception):
    """A non-looping source (a file read once, a synthetic scene with a duration) has no more frames."""


@runtime_checkable
class FrameSource(Protocol):
    """One opened camera. Not thread-safe: open, read and close it from one thread.

    Attributes:
        camera_id: Stable camera id from the config.
        nominal_fps: Frames per second of the source (0 when unknown).
        is_live: True for sources that produce frames on their own clock (network,
            webcam, realtime file/synthetic); a slow reader loses frames of these.
        corrupt: Frames that failed to decode and were skipped.
    """

    camera_id: str
    nominal_fps: float
    is_live: bool
    corrupt: int

    def open(self) -> None:
        """Open (or reopen) the camera. Raises SourceError."""
        ...

    def read(self) -> Frame:
        """Block until the next frame. Raises SourceError (failure) or SourceEnded (end of a finite source)."""
        ...

    def close(self) -> None:
        """Release the camera; safe to call more than once."""
        ...


__all__ = ["FrameSource", "SourceEnded", "SourceError"]
