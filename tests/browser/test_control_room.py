"""The control room in headless Chromium: map, segments, cameras, frame, counts, offline-first.

Runs ``python -m dashboard`` against the real ``redis_server`` while a feeder thread plays
the part of the workers (heartbeats, densities, segment levels, frames, events) through
``LiveStore``/``EventBus``; the page needs an operator login (demo user ``operator``).
Saves ``control-room.png`` to the ``screenshot_dir`` fixture (a temporary directory;
``docs/img/`` with ``make docs-images``) and fails if the page requests anything that is
not on 127.0.0.1.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import cv2
import numpy as np
import pytest
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
from dashboard.data import LEVEL_COLOURS, STATE_COLOURS
from dashboard.process import DashboardProcess, free_port
from tests.browser.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install chromium (make browser-deps)"
    ),
]

CFG = load_config()
LEVELS = [CongestionLevel.HEAVY, CongestionLevel.FREE, CongestionLevel.MODERATE, CongestionLevel.JAMMED]
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


@pytest.fixture(scope="module")
def feeder(redis_server: str) -> Iterator[Feeder]:
    redis.Redis.from_url(redis_server).flushall()
    f = Feeder(redis_server)
    f.start()
    assert f.ready.wait(30)
    try:
        yield f
    finally:
        f.stop()
        redis.Redis.from_url(redis_server).flushall()



class Recorder:
    """Every URL the page requests, and every script error or console error it shows."""

    def __init__(self, page: Any) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)


def login_page(page: Any, base: str, username: str, password: str) -> None:
    """Log in through the form (the browser keeps the session cookie)."""
    page.goto(base + "/login", wait_until="domcontentloaded")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("#login-submit")
    assert "/login" not in page.url, f"login as {username} failed"


def _open(
    browser: Any, url: str, user: tuple[str, str] | None = ("operator", "operator-demo")
) -> tuple[Any, Any, Recorder]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    rec = Recorder(page)
    if user is not None:
        base = "/".join(url.split("/")[:3])
        login_page(page, base, *user)
    page.goto(url, wait_until="domcontentloaded")
    return context, page, rec


def _assert_local_and_clean(rec: Recorder) -> None:
    assert rec.requests, "no request recorded"
    off = [
        u for u in rec.requests if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname != "127.0.0.1"
    ]
    assert not off, f"requests left 127.0.0.1: {off}"
    assert not rec.errors, rec.errors


def test_control_room_shows_map_cameras_frame_and_counts(
    browser: Any, feeder: Feeder, redis_server: str, tmp_path: Path, screenshot_dir: Path
) -> None:
    screenshot = screenshot_dir / "control-room.png"
    archive = f"sqlite:///{tmp_path / 'dash.db'}"
    with DashboardProcess(
        redis_url=redis_server, log_path=tmp_path / "dashboard.log", archive_url=archive, live=True
    ) as dash:
        context, page, rec = _open(browser, dash.url + "/")
        try:
            # Road segments from the local GeoJSON, coloured by level once the first refresh lands.
            for seg, level in zip(CFG.segments, LEVELS, strict=False):
                path = page.locator(f"path.segment-{seg.id}")
                path.wait_for(state="attached", timeout=30_000)
                page.wait_for_function(
                    "([sel, colour]) => document.querySelector(sel)?.getAttribute('stroke') === colour",
                    arg=[f"path.segment-{seg.id}", LEVEL_COLOURS[level.value]],
                    timeout=30_000,
                )
            assert page.locator("path.road").count() >= 5  # context roads
            # Camera markers: online green, the broken one red.
            online = CFG.cameras[0].id
            page.wait_for_function(
                "([sel, colour]) => document.querySelector(sel)?.getAttribute('fill') === colour",
                arg=[f"path.camera-{online}", STATE_COLOURS["online"]],
                timeout=30_000,
            )
            assert page.locator(f"path.camera-{OFFLINE_CAMERA}").get_attribute("fill") == STATE_COLOURS["offline"]
            # The latest frame of the selected camera is shown, and it is a real decoded image.
            frame = page.locator("#camera-frame")
            frame.wait_for(state="visible", timeout=30_000)
            page.wait_for_function(
                "() => { const i = document.querySelector('#camera-frame'); return i && i.complete && i.naturalWidth === 960; }",
                timeout=30_000,
            )
            assert f"/camera/{online}/latest.jpg?t=" in (frame.get_attribute("src") or "")
            # Live counts per camera with direction names and occupancy.
            row = page.locator(f"#camera-row-{online}")
            row.wait_for(timeout=30_000)
            assert "l1 forward:" in row.inner_text()
            assert "online" in row.inner_text()
            assert "%" in row.locator("td.occupancy").inner_text()
            assert "offline" in page.locator(f"#camera-row-{OFFLINE_CAMERA}").inner_text()
            assert "3/4 cameras online" in page.locator("#status-badge").inner_text()
            assert page.locator("#banner").is_hidden()
            # Recent events: crossings and camera status changes (the broken camera going offline).
            page.wait_for_function("() => document.querySelectorAll('#events li.event-crossing').length > 0")
            assert "offline" in page.locator("#events li.event-status").all_inner_texts().__str__()
            # Clicking a camera on the map selects it and shows its frame.
            second = CFG.cameras[1].id
            page.locator(f"path.camera-{second}").click()
            page.wait_for_function(
                "(cam) => (document.querySelector('#camera-frame')?.getAttribute('src') || '').includes('/camera/' + cam + '/')",
                arg=second,
                timeout=30_000,
            )
            page.wait_for_function(
                "() => { const i = document.querySelector('#camera-frame'); return i && i.complete && i.naturalWidth === 960; }",
                timeout=30_000,
            )
            assert page.locator(f"#camera-row-{second}").get_attribute("class").count("table-active") == 1
            page.mouse.move(5, 5)  # no tooltip over the screenshot
            page.wait_for_timeout(300)
            page.screenshot(path=str(screenshot), full_page=True)
            _assert_local_and_clean(rec)
        finally:
            context.close()
    assert screenshot.stat().st_size > 20_000


def test_control_room_says_degraded_when_redis_is_down(browser: Any, tmp_path: Path) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    archive = f"sqlite:///{tmp_path / 'dash.db'}"
    with DashboardProcess(redis_url=dead, log_path=tmp_path / "dashboard.log", archive_url=archive, live=True) as dash:
        context, page, rec = _open(browser, dash.url + "/")  # logins are in SQL: they work while Redis is down
        try:
            banner = page.locator("#banner")
            banner.wait_for(state="visible", timeout=30_000)
            assert "degraded: Redis unreachable" in banner.inner_text()
            assert "degraded" in page.locator("#status-badge").inner_text()
            assert (
                page.locator(f"path.segment-{CFG.segments[0].id}").get_attribute("stroke") == LEVEL_COLOURS["unknown"]
            )
            assert "Redis unreachable" in page.locator("#camera-frame-empty").inner_text()
            _assert_local_and_clean(rec)
        finally:
            context.close()
