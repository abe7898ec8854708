"""H.264 MP4 files that browsers play, from timestamped frames (PyAV: the ``av`` wheel bundles FFmpeg + libx264).

Frames keep their capture times as presentation times (time base 1 ms), so a clip plays in real time even when
the camera dropped frames, and its duration is that of the window it covers. ``+faststart`` puts the index first
so a browser starts playing before the whole file has arrived.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from av.video.stream import VideoStream

#: Encoders tried in order: libx264 (the PyPI wheel has it), then FFmpeg's other H.264 encoders.
H264_ENCODERS = ("libx264", "h264", "libopenh264")


class EncoderUnavailable(RuntimeError):
    """No H.264 encoder in this PyAV build (or PyAV is not installed)."""


@dataclass(frozen=True, slots=True)
class EncodedVideo:
    """What was written.

    Attributes:
        frames: Frames in the file.
        width: Pixels.
        height: Pixels.
        start_ts_ms: Capture time of the first frame.
        end_ts_ms: Capture time of the last frame.
        duration_s: Playing time (last - first + one frame period).
    """

    frames: int
    width: int
    height: int
    start_ts_ms: int
    end_ts_ms: int
    duration_s: float


def h264_encoder() -> str:
    """The name of the first available H.264 encoder.

    Raises:
        EncoderUnavailable: PyAV missing, or none of :data:`H264_ENCODERS` in it.
    """
    try:
        import av
    except ImportError as e:
        raise EncoderUnavailable("clips need PyAV: pip install av (requirements.txt)") from e
    for name in H264_ENCODERS:
        try:
            av.codec.Codec(name, "w")
            return name
        except Exception:  # noqa: BLE001, S112 - not in this build: try the next one
            continue
    raise EncoderUnavailable(f"no H.264 encoder in this PyAV build (tried {', '.join(H264_ENCODERS)})")


class Mp4Writer:
    """Streams BGR frames into an H.264 MP4 file (yuv420p, even dimensions).

    Args:
        path: The file to write.
        fps: Nominal frame rate (the encoder's rate control and the last frame's length).
        crf: x264 quality (lower = better).
        threads: x264 threads (0 = one per core, FFmpeg's default). A camera's clips and segments are
            encoded in real time, frame by frame; a few threads keep that from crowding the analysis threads.
    """

    def __init__(self, path: Path, fps: float, crf: int = 26, threads: int = 2) -> None:
        import av

        self.path = Path(path)
        self.fps = float(fps)
        self._crf = crf
        self._threads = threads
        self._av = av
        self._container = av.open(str(self.path), mode="w", format="mp4", options={"movflags": "+faststart"})
        self._stream: VideoStream | None = None
        self._first_ts: int | None = None
        self._last_pts = -1
        self.frames = 0
        self.width = 0
        self.height = 0
        self.start_ts_ms = 0
        self.end_ts_ms = 0

    def _open_stream(self, w: int, h: int) -> None:
        name = h264_encoder()
        s = self._container.add_stream(name, rate=Fraction(self.fps).limit_denominator(1000))
        if not isinstance(s, self._av.video.stream.VideoStream):
            raise TypeError(f"{name}: not a video encoder")
        s.width, s.height = w, h
        s.pix_fmt = "yuv420p"
        s.time_base = Fraction(1, 1000)
        s.codec_context.time_base = Fraction(1, 1000)
        if name.startswith("libx264"):
            s.options = {
                "preset": "veryfast",
                "crf": str(self._crf),
                "g": str(max(1, int(self.fps * 2))),
                "threads": str(self._threads),
            }
        self._stream = s
        self.width, self.height = w, h

    def add(self, image: np.ndarray, ts_ms: int) -> None:
        """Append one BGR frame captured at ``ts_ms`` (frames not after the previous one are skipped)."""
        h, w = image.shape[:2]
        w2, h2 = w - w % 2, h - h % 2
        if self._stream is None:
            self._open_stream(w2, h2)
            self._first_ts = ts_ms
            self.start_ts_ms = ts_ms
        assert self._first_ts is not None and self._stream is not None
        pts = ts_ms - self._first_ts
        if pts <= self._last_pts:
            return
        if (w2, h2) != (self.width, self.height):
            import cv2

            image = cv2.resize(image, (self.width, self.height), interpolation=cv2.INTER_AREA)
        else:
            image = image[:h2, :w2]
        frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        frame.pts = pts
        frame.time_base = Fraction(1, 1000)
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._last_pts = pts
        self.end_ts_ms = ts_ms
        self.frames += 1

    def close(self) -> EncodedVideo:
        """Flush the encoder and finish the file.

        Raises:
            ValueError: no frame was added (the file is removed).
        """
        if self._stream is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
        self._container.close()
        if self.frames == 0:
            self.path.unlink(missing_ok=True)
            raise ValueError("no frames to encode")
        duration = (self.end_ts_ms - self.start_ts_ms) / 1000 + 1.0 / self.fps
        return EncodedVideo(self.frames, self.width, self.height, self.start_ts_ms, self.end_ts_ms, round(duration, 3))

    def abort(self) -> None:
        with contextlib.suppress(Exception):  # the file is removed anyway
            self._container.close()
        self.path.unlink(missing_ok=True)


def write_mp4(path: Path, frames: Iterable[tuple[int, np.ndarray]], fps: float, crf: int = 26) -> EncodedVideo:
    """Write ``(ts_ms, BGR image)`` pairs to an MP4 file (see :class:`Mp4Writer`)."""
    w = Mp4Writer(path, fps, crf)
    try:
        for ts, img in frames:
            w.add(img, ts)
    except BaseException:
        w.abort()
        raise
    return w.close()


def probe_duration_s(path: Path) -> float:
    """Playing time of a video file as a decoder sees it (tests, bench)."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        if s.duration is not None and s.time_base is not None:
            return float(s.duration * s.time_base)
        return float(c.duration or 0) / 1_000_000


def decode_frames(path: Path) -> Iterator[np.ndarray]:
    """The BGR frames of a video file (tests)."""
    import av

    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            yield f.to_ndarray(format="bgr24")


__all__ = [
    "H264_ENCODERS",
    "EncodedVideo",
    "EncoderUnavailable",
    "Mp4Writer",
    "decode_frames",
    "h264_encoder",
    "probe_duration_s",
    "write_mp4",
]
