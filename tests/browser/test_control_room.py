"""The control room in headless Chromium: map, segments, cameras, frame, counts, offline-first.

Runs ``python -m dashboard`` against the real ``redis_server`` while a feeder thread plays
the part of the workers (heartbeats, densities, segment levels, frames, events) through
``LiveStore``/``EventBus``; the page needs an operator login (demo user ``operator``).
Saves ``control-room.png`` to the ``screenshot_dir`` fixture (a temporary directory;
``docs/img/`` with ``make docs-images``) and fails if the page requests anything that is
not on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import redis

from dashboard.data import LEVEL_COLOURS, STATE_COLOURS
from dashboard.process import DashboardProcess, free_port
from tests.browser.feeder import CFG, LEVELS, OFFLINE_CAMERA, Feeder
from tests.browser.pages import CHROMIUM, Recorder, login_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install chromium (make browser-deps)"
    ),
]


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
