"""The feeder of the browser tests: a thread that writes what the camera workers and the aggregator
would (heartbeats, densities, segment levels, frames, crossings) through ``LiveStore``/``EventBus``.

A plain module (no fixtures, no tests): the test modules import it, never each other.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np
import redis

from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import load_config
from core.clock import now_ms
from core.types import (
    CameraState,
    CameraStatus,
    CongestionLevel,
    DensityReport,
    Direction,
    LineCrossing,
    SegmentDensity,
    ZoneDensity,
)

CFG = load_config()
#: The level the feeder gives each segment, in the config's order.
LEVELS = [CongestionLevel.HEAVY, CongestionLevel.FREE, CongestionLevel.MODERATE, CongestionLevel.JAMMED]
#: The camera the feeder reports offline (the last one).
OFFLINE_CAMERA = CFG.cameras[-1].id


def camera_frame(camera_id: str, name: str, tick: int, size: tuple[int, int] = (540, 960)) -> bytes:
    """A JPEG that looks like an annotated road view (test data for the frame panel)."""
    h, w = size
    img = np.full((h, w, 3), (70, 95, 60), np.uint8)
    cv2.fillPoly(img, [np.array([[w * 0.35, 0], [w * 0.65, 0], [w * 0.98, h], [w * 0.02, h]], np.int32)], (80, 80, 80))
    for y in range((tick * 20) % 80 - 80, h, 80):
        cv2.line(img, (w // 2, max(0, y)), (w // 2, max(0, y + 40)), (230, 230, 230), 4)
    cv2.line(img, (40, int(h * 0.6)), (w - 40, int(h * 0.6)), (0, 255, 255), 3)
    for i, (x, y) in enumerate([(330, 150 + tick * 7 % 200), (520, 330 - tick * 5 % 150), (420, 420)]):
        cv2.rectangle(img, (x, y), (x + 110, y + 70), (0, 200, 0), 2)
        cv2.putText(img, f"car #{10 + i}", (x, y - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 255, 0), 2)
    cv2.rectangle(img, (0, 0), (w, 36), (0, 0, 0), -1)
    cv2.putText(img, f"{name}  frame {tick}", (10, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return buf.tobytes()


class Feeder(threading.Thread):
    """Writes what the workers and the aggregator would, once a second, until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(name="feeder", daemon=True)
        self.client = redis.Redis.from_url(url)
        self.store = LiveStore(self.client)
        self.bus = EventBus(self.client)
        self.stop_event = threading.Event()
        self.ticks = 0
        self.ready = threading.Event()

    def feed_once(self) -> None:
        t = now_ms()
        tick = self.ticks
        for i, cam in enumerate(CFG.cameras):
            online = cam.id != OFFLINE_CAMERA
            state = CameraState.ONLINE if online else CameraState.OFFLINE
            error = "" if online else "rtsp://10.0.0.9/stream: connection refused"
            if tick == 0:  # what the worker publishes at start-up: a status change and a few crossings
                self.bus.publish(CameraStatus(cam.id, CameraState.STARTING, t - 3000, worker_id="w1"))
            self.bus.publish(CameraStatus(cam.id, state, t, worker_id="w1", error=error))
            self.store.put_camera_status(
                CameraStatus(
                    cam.id,
                    state,
                    t,
                    "w1",
                    10.0 if online else 0.0,
                    5.0 if online else 0.0,
                    last_frame_ts_ms=t - 150 if online else t - 60_000,
                    error=error,
                )
            )
            if not online:
                continue
            fwd, back = 40 + 7 * i + tick, 25 + 3 * i + tick // 2
            self.store.put_density(
                DensityReport(
                    cam.id,
                    cam.segment,
                    t,
                    4.0 + i,
                    0.12 + 0.1 * i,
                    (ZoneDensity("z1", 4 + i, 0.12 + 0.1 * i),),
                    (("l1:forward", fwd), ("l1:backward", back)),
                    (("car", fwd + back),),
                    38.0 - 6 * i,
                )
            )
            self.store.put_frame(cam.id, self.frame(cam.id, cam.name, tick), t)
            self.bus.publish(LineCrossing(cam.id, "l1", 1000 + tick * 10 + i, "car", Direction.FORWARD, t))
        for seg, level in zip(CFG.segments, LEVELS, strict=False):
            self.store.put_segment(
                SegmentDensity(
                    seg.id,
                    t,
                    10.0,
                    {"free": 0.05, "moderate": 0.2, "heavy": 0.35, "jammed": 0.6}[level.value],
                    level,
                    tuple(c.id for c in CFG.cameras if c.segment == seg.id),
                    30.0,
                )
            )
        self.ticks += 1

    def frame(self, camera_id: str, name: str, tick: int) -> bytes:
        """The annotated JPEG a worker would store for this camera now."""
        return camera_frame(camera_id, name, tick)

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.feed_once()
            self.ready.set()
            self.stop_event.wait(1.0)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(10)
        self.client.close()


__all__ = ["CFG", "LEVELS", "OFFLINE_CAMERA", "Feeder", "camera_frame"]
