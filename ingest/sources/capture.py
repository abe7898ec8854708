"""The per-camera capture thread: drop-oldest buffer, reconnect with backoff, stall watchdog.

:class:`CameraCapture` runs a source on its own thread: it keeps only the newest
frames of live sources (dropping and counting older ones), blocks instead for
non-live sources so batch analysis sees every frame, reconnects with exponential
backoff and jitter while reporting the camera OFFLINE with the error, and reopens a
live source that stalls (no frame for ``stall_timeout_s``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from core.backoff import Backoff
from core.types import CameraState, Frame
from ingest.base import FrameSource, SourceEnded, SourceError

log = logging.getLogger("ingest.source")


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


__all__ = ["CameraCapture", "CaptureStats"]
