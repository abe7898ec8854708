"""Camera sources and the per-camera capture thread.

A :class:`~ingest.base.FrameSource` (defined in :mod:`ingest.base`, re-exported here)
is one opened camera that is read from one thread:

* :class:`StreamSource`: RTSP or HTTP/MJPEG URLs through OpenCV's FFmpeg backend,
  with open/read timeouts so a dead network cannot block forever;
* :class:`FileSource`: a video file, looped or not, paced at its native fps like a live
  camera (``realtime=True``) or read as fast as possible for batch analysis;
* :class:`WebcamSource`: a local capture device;
* :class:`sim.source.SyntheticSource`: the rendered road scene.

:func:`open_source` builds the right one from a camera's config.

:class:`CameraCapture` runs a source on its own thread: it keeps only the newest
frames of live sources (dropping and counting older ones), blocks instead for
non-live sources so batch analysis sees every frame, reconnects with exponential
backoff and jitter while reporting the camera OFFLINE with the error, and reopens a
live source that stalls (no frame for ``stall_timeout_s``).
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from config.settings import CameraConfig, resolve_path
from config.settings import FileSource as FileSourceConfig
from config.settings import StreamSource as StreamSourceConfig
from config.settings import SyntheticSource as SyntheticSourceConfig
from config.settings import WebcamSource as WebcamSourceConfig
from core.backoff import Backoff
from core.clock import now_ms
from core.types import CameraState, Frame
from ingest.base import FrameSource, SourceEnded, SourceError
from sim.source import SyntheticSource

log = logging.getLogger("ingest.source")


def redact_url(url: str) -> str:
    """Hide a password in a URL (``rtsp://user:secret@host`` -> ``rtsp://user:***@host``)."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def _valid_image(img: np.ndarray | None) -> bool:
    return img is not None and img.ndim == 3 and img.shape[2] == 3 and img.shape[0] > 0 and img.shape[1] > 0


def _sane_fps(fps: float) -> float:
    return float(fps) if math.isfinite(fps) and 0 < fps <= 1000 else 0.0


class _CvCapture:
    """Shared OpenCV ``VideoCapture`` handling."""

    camera_id: str

    def __init__(self) -> None:
        self._cap: cv2.VideoCapture | None = None
        self.corrupt = 0

    def close(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()


class FileSource(_CvCapture):
    """A video file.

    Args:
        camera_id: Camera id for the frames.
        path: The video file.
        loop: Start over at the end instead of raising :class:`SourceEnded`.
        realtime: Deliver frames at the file's fps like a live camera (timestamps are
            wall-clock capture times); otherwise as fast as they are read, with
            timestamps ``open time + index * 1000 / fps`` so speeds measured from
            them are right.
        max_bad_frames: Consecutive undecodable frames tolerated before the file is
            treated as ended at that point.
        fallback_fps: fps assumed when the file does not state one.
    """

    def __init__(
        self,
        camera_id: str,
        path: str | os.PathLike[str],
        loop: bool = False,
        realtime: bool = False,
        *,
        max_bad_frames: int = 50,
        fallback_fps: float = 25.0,
        wall_ms: Callable[[], int] = now_ms,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__()
        self.camera_id = camera_id
        self.path = Path(path)
        self.loop = loop
        self.realtime = realtime
        self.is_live = realtime
        self.nominal_fps = 0.0
        self.max_bad_frames = max_bad_frames
        self.fallback_fps = fallback_fps
        self.frame_count = 0  # frames the container declares (0 when unknown)
        self.missing = 0  # declared frames never decoded because the file ended early
        self.loops = 0
        self._wall_ms = wall_ms
        self._mono = monotonic
        self._sleep = sleep
        self._index = 0
        self._start_ms = 0
        self._t0 = 0.0
        self._pending: np.ndarray | None = None
        self._read_this_pass = 0
        self._corrupt_at_pass = 0

    def _open_capture(self) -> None:
        if not self.path.is_file():
            raise SourceError(f"{self.path}: video file not found")
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise SourceError(
                f"{self.path}: cannot open as a video (unknown format, unsupported codec or damaged file)"
            )
        self._cap = cap
        self.nominal_fps = _sane_fps(cap.get(cv2.CAP_PROP_FPS))
        n = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        self.frame_count = int(n) if math.isfinite(n) and n > 0 else 0
        self._read_this_pass = 0
        self._corrupt_at_pass = self.corrupt

    def open(self) -> None:
        self.close()
        self._open_capture()
        first = self._next_image()
        if first is None:
            self.close()
            raise SourceError(f"{self.path}: no decodable frames")
        self._pending = first
        self._index = 0
        self._start_ms = self._wall_ms()
        self._t0 = self._mono()

    @property
    def _fps(self) -> float:
        return self.nominal_fps or self.fallback_fps

    def _next_image(self) -> np.ndarray | None:
        """The next decodable image of this pass, skipping (and counting) bad frames; None at the end.

        A failed read followed by a good one was a damaged frame (counted in
        :attr:`corrupt`). Failures that never recover end the pass: a truncated file
        ends early, and the frames it lacks are reported in :attr:`missing`.
        """
        cap = self._cap
        if cap is None:
            raise SourceError(f"{self.path}: not opened")
        failures = 0  # consecutive failed reads
        pending = 0  # failed grabs not yet known to be damage (vs. the end of a truncated file)
        stuck_at, same = -1.0, 0
        while True:
            ok = cap.grab()
            if ok:
                ok, img = cap.retrieve()
                if ok and _valid_image(img):
                    self.corrupt += pending  # reading recovered: those were damaged frames
                    self._read_this_pass += 1
                    return img
                self.corrupt += 1  # demuxed but not decodable: skip it
                failures += 1
                if failures > self.max_bad_frames:
                    self._end_of_pass(f"{failures} undecodable frames in a row")
                    return None
                continue
            pos = cap.get(cv2.CAP_PROP_POS_FRAMES)
            before_end = self.frame_count > 0 and math.isfinite(pos) and pos < self.frame_count - 1
            if not before_end:
                return None
            # Before the declared end: damage. Retry; stop when the reader is stuck in one place.
            failures += 1
            pending += 1
            if pos != stuck_at:
                stuck_at, same = pos, 0
            else:
                same += 1
            if failures > self.max_bad_frames or same >= 4:
                self._end_of_pass(f"read fails at frame {int(pos)}")
                return None

    def _end_of_pass(self, why: str) -> None:
        """Record and log a pass that ended before the declared frame count."""
        missing = max(0, self.frame_count - self._read_this_pass - (self.corrupt - self._corrupt_at_pass))
        if missing:
            self.missing = missing
            log.warning(
                "%s: %s; file ends after %d of %d declared frames (truncated or damaged)",
                self.path,
                why,
                self._read_this_pass,
                self.frame_count,
            )
        return None

    def read(self) -> Frame:
        if self._cap is None and self._pending is None:
            raise SourceError(f"{self.path}: not opened")
        img: np.ndarray | None
        if self._pending is not None:
            img, self._pending = self._pending, None
        else:
            img = self._next_image()
            if img is None:
                if not self.loop:
                    raise SourceEnded(f"{self.path}: end of file after {self._index} frames")
                self.close()
                self._open_capture()
                self.loops += 1
                img = self._next_image()
                if img is None:
                    raise SourceError(f"{self.path}: no decodable frames after reopening to loop")
        index = self._index
        self._index += 1
        if self.realtime:
            wait = self._t0 + index / self._fps - self._mono()
            if wait > 0:
                self._sleep(wait)
            elif wait < -1.0:  # far behind (suspended?): re-anchor instead of bursting
                self._t0 = self._mono() - index / self._fps
            ts = self._wall_ms()
        else:
            ts = self._start_ms + int(round(index * 1000.0 / self._fps))
        return Frame(self.camera_id, index, ts, img)

    def close(self) -> None:
        super().close()
        self._pending = None


class StreamSource(_CvCapture):
    """An RTSP or HTTP (MJPEG) stream opened with OpenCV's FFmpeg backend.

    Args:
        camera_id: Camera id for the frames.
        url: ``rtsp://...`` or ``http(s)://...``.
        open_timeout_s: Give up connecting after this long.
        read_timeout_s: A read that gets nothing for this long fails (SourceError).
        max_bad_frames: Consecutive undecodable frames tolerated before failing.
    """

    def __init__(
        self,
        camera_id: str,
        url: str,
        *,
        open_timeout_s: float = 10.0,
        read_timeout_s: float = 5.0,
        max_bad_frames: int = 50,
        wall_ms: Callable[[], int] = now_ms,
    ) -> None:
        super().__init__()
        self.camera_id = camera_id
        self.url = url
        self.is_live = True
        self.nominal_fps = 0.0
        self.open_timeout_s = open_timeout_s
        self.read_timeout_s = read_timeout_s
        self.max_bad_frames = max_bad_frames
        self._wall_ms = wall_ms
        self._index = 0

    def _capture(self) -> cv2.VideoCapture:
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            int(self.open_timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(self.read_timeout_s * 1000),
        ]
        if self.url.startswith("rtsp") and "OPENCV_FFMPEG_CAPTURE_OPTIONS" not in os.environ:
            # TCP survives lossy links far better than the UDP default; set once, process-wide.
            os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = "rtsp_transport;tcp"
        return cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)

    def open(self) -> None:
        self.close()
        cap = self._capture()
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"{redact_url(self.url)}: cannot open stream (unreachable, refused or not a video)")
        self._cap = cap
        self.nominal_fps = _sane_fps(cap.get(cv2.CAP_PROP_FPS))

    def read(self) -> Frame:
        cap = self._cap
        if cap is None:
            raise SourceError(f"{redact_url(self.url)}: not opened")
        bad = 0
        while True:
            ok, img = cap.read()
            if not ok:
                raise SourceError(f"{redact_url(self.url)}: stream read failed (connection lost or no data)")
            if _valid_image(img):
                break
            self.corrupt += 1
            bad += 1
            if bad > self.max_bad_frames:
                raise SourceError(f"{redact_url(self.url)}: {bad} undecodable frames in a row")
        index = self._index
        self._index += 1
        return Frame(self.camera_id, index, self._wall_ms(), img)


class WebcamSource(StreamSource):
    """A local capture device (``/dev/video<index>``)."""

    def __init__(
        self, camera_id: str, index: int = 0, *, max_bad_frames: int = 50, wall_ms: Callable[[], int] = now_ms
    ) -> None:
        super().__init__(camera_id, f"webcam:{index}", max_bad_frames=max_bad_frames, wall_ms=wall_ms)
        self.device_index = index

    def _capture(self) -> cv2.VideoCapture:
        return cv2.VideoCapture(self.device_index)

    def open(self) -> None:
        self.close()
        cap = self._capture()
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"webcam {self.device_index}: cannot open capture device")
        self._cap = cap
        self.nominal_fps = _sane_fps(cap.get(cv2.CAP_PROP_FPS))


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


# --------------------------------------------------------------------------- capture thread


@dataclass(frozen=True, slots=True)
class CaptureStats:
    """Snapshot of a capture thread.

    Attributes:
        state: starting / online / offline / ended.
        frames_in: Frames read from the source.
        frames_skipped: Frames dropped by the drop-oldest buffer (live sources only).
        frames_corrupt: Undecodable frames the source skipped.
        reconnects: Times the source was reopened after the first open.
        fps_in: Frames per second read, over the last few seconds.
        last_frame_ts_ms: Capture time of the newest frame, or 0.
        error: Why the camera is offline; empty when healthy.
        failures: Failed opens/reads so far (each one is retried after a backoff delay).
        stalls: Times the watchdog found a live source silent for ``stall_timeout_s`` and reopened it.
        reconnects_1h: Reconnects during the last hour (connection quality).
    """

    state: CameraState
    frames_in: int
    frames_skipped: int
    frames_corrupt: int
    reconnects: int
    fps_in: float
    last_frame_ts_ms: int
    error: str
    failures: int = 0
    stalls: int = 0
    reconnects_1h: int = 0


class CameraCapture:
    """Reads one source on its own thread and keeps the newest frames.

    Args:
        source: The camera (opened by the thread).
        buffer: Frames kept. For live sources older frames are dropped (counted as
            skipped) when it is full; for non-live sources the reader waits instead.
        reconnect_initial_s: First reconnect delay.
        reconnect_max_s: Largest reconnect delay (exponential backoff with jitter).
        stall_timeout_s: A live source that delivers no frame for this long (or for three
            frame periods of a slower source) is marked offline and reopened.
        clock: Monotonic clock for rates and the stall watchdog.
    """

    _FPS_WINDOW_S = 5.0

    def __init__(
        self,
        source: FrameSource,
        buffer: int = 2,
        reconnect_initial_s: float = 0.5,
        reconnect_max_s: float = 30.0,
        stall_timeout_s: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if buffer < 1:
            raise ValueError(f"buffer must be >= 1, got {buffer}")
        self.source = source
        self.buffer = buffer
        self.stall_timeout_s = stall_timeout_s
        self._clock = clock
        self._backoff = Backoff(reconnect_initial_s, max(reconnect_max_s, reconnect_initial_s))
        self._cond = threading.Condition()
        self._frames: deque[Frame] = deque()
        self._state = CameraState.STARTING
        self._error = ""
        self._frames_in = 0
        self._skipped = 0
        self._reconnects = 0
        self._reconnect_times: deque[float] = deque()
        self._stalls = 0
        self._failures = 0
        self._last_ts = 0
        self._last_frame_clock: float | None = None
        self._times: deque[float] = deque()
        self._source_ended = False
        self._open = False
        self._stop = threading.Event()
        self._reopen = threading.Event()
        name = f"capture-{source.camera_id}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._watchdog = threading.Thread(target=self._watch, name=f"{name}-watchdog", daemon=True)

    # ------------------------------------------------------------------ public
    def start(self) -> None:
        """Start reading (opens the source on the capture thread)."""
        self._thread.start()
        if self.source.is_live:
            self._watchdog.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the threads and close the source; waits up to ``timeout`` seconds."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for t in (self._thread, self._watchdog):
            if t.is_alive():
                t.join(timeout)
        if self._thread.is_alive():
            log.warning(
                "%s: capture thread did not stop within %.1f s (blocked in a read)", self.source.camera_id, timeout
            )
        with self._cond:
            if self._state != CameraState.ENDED:
                self._state, self._error = CameraState.OFFLINE, "stopped"
            self._cond.notify_all()

    def get(self, timeout: float) -> Frame | None:
        """The next frame to analyse, or None after ``timeout`` seconds (or at the end).

        Live sources: the newest pending frame; older pending ones are dropped and
        counted as skipped. Non-live sources: the oldest pending frame (none is lost).
        """
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._cond:
            while not self._frames:
                if self._source_ended or self._stop.is_set():
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            if self.source.is_live:
                frame = self._frames.pop()
                self._skipped += len(self._frames)
                self._frames.clear()
            else:
                frame = self._frames.popleft()
            self._cond.notify_all()
            return frame

    def stats(self) -> CaptureStats:
        now = self._clock()
        with self._cond:
            self._trim_times(now)
            if len(self._times) >= 2:
                span = max(now - self._times[0], 1e-6)
                fps = (
                    len(self._times) / span
                    if now - self._times[0] >= 1.0
                    else (len(self._times) - 1) / max(self._times[-1] - self._times[0], 1e-6)
                )
            else:
                fps = 0.0
            return CaptureStats(
                state=self._state,
                frames_in=self._frames_in,
                frames_skipped=self._skipped,
                frames_corrupt=int(getattr(self.source, "corrupt", 0)),
                reconnects=self._reconnects,
                fps_in=round(fps, 2),
                last_frame_ts_ms=self._last_ts,
                error=self._error,
                failures=self._failures,
                stalls=self._stalls,
                reconnects_1h=self._reconnects_within(now, 3600.0),
            )

    def _reconnects_within(self, now: float, window_s: float) -> int:
        while self._reconnect_times and self._reconnect_times[0] < now - window_s:
            self._reconnect_times.popleft()
        return len(self._reconnect_times)

    @property
    def ended(self) -> bool:
        """True once a finite source is finished and every frame has been taken with :meth:`get`."""
        with self._cond:
            return self._source_ended and not self._frames

    @property
    def state(self) -> CameraState:
        with self._cond:
            return self._state

    # ------------------------------------------------------------------ capture thread
    def _run(self) -> None:
        src = self.source
        opened_once = False
        try:
            while not self._stop.is_set():
                if not self._open:
                    try:
                        src.open()
                    except Exception as e:  # SourceError, or anything a driver throws: never kill the thread
                        self._fail(e)
                        continue
                    with self._cond:
                        self._open = True
                        self._last_frame_clock = self._clock()
                        if opened_once:
                            self._reconnects += 1
                            self._reconnect_times.append(self._clock())
                    opened_once = True
                    self._reopen.clear()
                try:
                    frame = src.read()
                except SourceEnded as e:
                    with self._cond:
                        self._source_ended = True
                        self._state, self._error = CameraState.ENDED, ""
                        self._cond.notify_all()
                    log.info("%s: source ended (%s)", src.camera_id, e)
                    return
                except Exception as e:
                    self._close_source()
                    self._fail(e)
                    continue
                if self._reopen.is_set():  # the watchdog declared a stall while we waited
                    self._close_source()
                    continue
                self._backoff.reset()
                self._push(frame)
        finally:
            self._close_source()

    def _fail(self, e: Exception) -> None:
        msg = str(e) if isinstance(e, SourceError) else f"{type(e).__name__}: {e}"
        with self._cond:
            was = self._state
            self._failures += 1
            self._state, self._error = CameraState.OFFLINE, msg
        if was != CameraState.OFFLINE:
            log.warning("%s: offline: %s", self.source.camera_id, msg)
        else:
            log.debug("%s: still offline: %s", self.source.camera_id, msg)
        if not isinstance(e, SourceError):
            log.debug("unexpected source error", exc_info=e)
        self._stop.wait(self._backoff.next_delay())

    def _close_source(self) -> None:
        with self._cond:
            self._open = False
        try:
            self.source.close()
        except Exception:  # closing a broken driver must not kill the thread
            log.exception("%s: error while closing source", self.source.camera_id)

    def _push(self, frame: Frame) -> None:
        now = self._clock()
        with self._cond:
            self._frames_in += 1
            self._last_ts = frame.ts_ms
            self._last_frame_clock = now
            self._times.append(now)
            self._trim_times(now)
            if self._state != CameraState.ONLINE:
                if self._state == CameraState.OFFLINE:
                    log.warning("%s: back online", self.source.camera_id)
                self._state, self._error = CameraState.ONLINE, ""
            if self.source.is_live:
                while len(self._frames) >= self.buffer:
                    self._frames.popleft()
                    self._skipped += 1
            else:
                while len(self._frames) >= self.buffer and not self._stop.is_set():
                    self._cond.wait(0.2)
                if self._stop.is_set():
                    return
            self._frames.append(frame)
            self._cond.notify_all()

    def _trim_times(self, now: float) -> None:
        cutoff = now - self._FPS_WINDOW_S
        while self._times and self._times[0] < cutoff:
            self._times.popleft()

    def _watch(self) -> None:
        period = max(0.05, min(0.25, self.stall_timeout_s / 4))
        while not self._stop.wait(period):
            with self._cond:
                if not self._open or self._last_frame_clock is None or self._reopen.is_set():
                    continue
                idle = self._clock() - self._last_frame_clock
                fps = self.source.nominal_fps
                # A slow camera (e.g. 0.2 fps) is not stalled between two of its frames.
                if idle <= max(self.stall_timeout_s, 3.0 / fps if fps > 0 else 0.0):
                    continue
                self._state = CameraState.OFFLINE
                self._error = f"stalled: no frame for {idle:.1f} s"
                self._stalls += 1
                self._reopen.set()
            log.warning("%s: %s; reopening", self.source.camera_id, self._error)


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
