"""MJPEG fan-out: one Redis reader per camera per server process, however many viewers.

The worker encodes each annotated frame once and overwrites one Redis key per camera.
A :class:`FrameHub` (one per dashboard process, held by the app context) starts a small
thread per camera while somebody watches it: the thread polls the frame's timestamp,
fetches the JPEG only when it changed, builds the multipart part once, and wakes every
viewer. Viewers only copy bytes; 50 viewers of one camera cost one Redis read per frame.
A camera's thread stops 10 s after its last viewer left.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bus.store import LiveStore

log = logging.getLogger("dashboard.frames")

MJPEG_BOUNDARY = "frame"
IDLE_STOP_S = 10.0


def mjpeg_part(jpeg: bytes, ts_ms: int) -> bytes:
    """One part of a ``multipart/x-mixed-replace`` stream."""
    head = (
        f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n"
        f"X-Frame-Timestamp-Ms: {ts_ms}\r\n\r\n"
    ).encode("ascii")
    return head + jpeg + b"\r\n"


@dataclass(frozen=True, slots=True)
class Part:
    """A frame ready to send: its sequence number, capture time and multipart bytes."""

    seq: int
    ts_ms: int
    data: bytes


class CameraFeed:
    """The newest frame of one camera, refreshed by a thread while it has viewers."""

    def __init__(
        self, store: LiveStore, camera_id: str, poll_hz: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.camera_id = camera_id
        self.period = 1.0 / poll_hz
        self.clock = clock
        self.cond = threading.Condition()
        self.part: Part | None = None
        self.viewers = 0
        self.last_viewer = clock()
        self.error = ""
        self.reads = 0
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        seq = 0
        while True:
            with self.cond:
                if self.viewers == 0 and self.clock() - self.last_viewer > IDLE_STOP_S:
                    self._thread = None
                    return
                current = self.part
            try:
                ts = self.store.frame_ts(self.camera_id)
                if self.error:
                    with self.cond:
                        self.error = ""
                if ts is not None and (current is None or ts != current.ts_ms):
                    got = self.store.get_frame(self.camera_id)
                    self.reads += 1
                    if got is not None:
                        seq += 1
                        part = Part(seq, got[1], mjpeg_part(got[0], got[1]))
                        with self.cond:
                            self.part = part
                            self.error = ""
                            self.cond.notify_all()
            except Exception as e:  # noqa: BLE001 - Redis down: viewers see the error and end
                with self.cond:
                    self.error = str(e) or type(e).__name__
                    self.cond.notify_all()
            time.sleep(self.period)

    def attach(self) -> None:
        with self.cond:
            self.viewers += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"mjpeg-{self.camera_id}", daemon=True)
                self._thread.start()

    def detach(self) -> None:
        with self.cond:
            self.viewers -= 1
            self.last_viewer = self.clock()

    def wait_newer(self, seq: int, timeout: float) -> tuple[Part | None, str]:
        """The newest part if newer than ``seq`` (waiting up to ``timeout``), and the last error."""
        with self.cond:
            self.cond.wait_for(lambda: (self.part is not None and self.part.seq > seq) or bool(self.error), timeout)
            return self.part, self.error


class FrameHub:
    """Per-process registry of :class:`CameraFeed` objects.

    Args:
        store: Live state (frames).
        poll_hz: How often a feed checks its camera's frame key.
    """

    def __init__(self, store: LiveStore, poll_hz: float = 10.0) -> None:
        self.store = store
        self.poll_hz = poll_hz
        self._feeds: dict[str, CameraFeed] = {}
        self._lock = threading.Lock()

    def feed(self, camera_id: str) -> CameraFeed:
        with self._lock:
            f = self._feeds.get(camera_id)
            if f is None:
                f = self._feeds[camera_id] = CameraFeed(self.store, camera_id, self.poll_hz)
            return f

    def viewers(self) -> dict[str, int]:
        with self._lock:
            return {cid: f.viewers for cid, f in self._feeds.items() if f.viewers}

    def stream(self, camera_id: str, fps: float, max_frames: int | None, keepalive_s: float = 2.0) -> Iterator[bytes]:
        """Multipart parts for one viewer, at most ``fps`` a second.

        The current frame is sent again every ``keepalive_s`` (a write is how a closed
        connection is noticed). Ends after ``max_frames`` parts or when Redis fails.
        """
        feed = self.feed(camera_id)
        feed.attach()
        try:
            seq = 0
            sent = 0
            min_gap = 1.0 / fps
            last_sent = 0.0
            while max_frames is None or sent < max_frames:
                part, error = feed.wait_newer(seq, keepalive_s)
                if error and (part is None or part.seq <= seq):
                    log.info("mjpeg %s: ending, Redis error: %s", camera_id, error)
                    return
                now = time.monotonic()
                if part is None:
                    continue
                if part.seq <= seq and now - last_sent < keepalive_s:
                    continue
                wait = min_gap - (now - last_sent)
                if wait > 0:
                    time.sleep(wait)
                seq, last_sent = part.seq, time.monotonic()
                sent += 1
                yield part.data
        finally:
            feed.detach()
