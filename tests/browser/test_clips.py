"""The issue's Done line in headless Chromium: a red-light violation from a synthetic camera has a playable clip
on its ticket page.

Nothing is built by hand: a synthetic camera whose scene has a red-light runner (:mod:`tests.browser.clip_chain`)
runs in the real worker with clips and recording on; the enforcer finds the violation, the worker's clip
recorder writes the MP4 into the disk blob store, the ticketing service archives the ticket and the clips
service its clip, and ``python -m dashboard`` serves the ticket page on which Debian's Chromium plays the
clip (the test reads the ``<video>``'s duration, ~ pre_s + post_s, and plays it). The same run recorded the
camera continuously: the operators' playback page shows its segments and the ticket on a timeline, and plays
them at the right second.
"""

from __future__ import annotations

import datetime as dt
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard.process import DashboardProcess
from tests.browser.clip_chain import CAMERA, POST_S, PRE_S, ChainResult, run_chain
from tests.browser.pages import CHROMIUM, login_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install chromium (make browser-deps)"
    ),
]

MEDIA_KEY = "browser-test-media-key-0123456789"


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ChainResult, str]]:
    """The chain's run, then the dashboard on its archive, blob store and Redis: (result, dashboard URL)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SAFECITY_MEDIA_KEY", MEDIA_KEY)
    tmp = tmp_path_factory.mktemp("clip-chain")
    result, server = run_chain(tmp)
    try:
        with DashboardProcess(
            result.redis_url, config=result.config, archive_url=result.archive_url, log_path=tmp / "dash.log"
        ) as dash:
            yield result, dash.url
    finally:
        server.stop()  # type: ignore[attr-defined]
        mp.undo()


def test_red_light_ticket_page_plays_its_clip(browser: Any, chain: tuple[ChainResult, str]) -> None:
    run, base = chain
    assert run.seconds < 45, f"the chain took {run.seconds} s"
    assert run.clip_duration_s == pytest.approx(PRE_S + POST_S + 0.1, abs=0.35)  # the window, one frame period
    vid = run.violation_id
    with urllib.request.urlopen(f"{base}/clip/violation/{vid}", timeout=10) as r:
        assert "/login" in r.geturl() and b"ftyp" not in r.read(64)  # anonymous: sent to log in, no video
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    try:
        login_page(page, base, "operator", "operator-demo")
        page.goto(base + "/tickets")
        row = page.locator(".ag-center-cols-container .ag-row", has_text="red_light").first
        row.wait_for(timeout=30_000)
        row.click()
        page.locator("#tk-clip-video").wait_for(timeout=15_000)
        page.wait_for_function("() => document.querySelector('#tk-clip-video').readyState >= 1", timeout=20_000)
        duration, error = page.evaluate(
            "() => { const v = document.querySelector('#tk-clip-video'); return [v.duration, v.error && v.error.code]; }"
        )
        assert error is None
        assert duration == pytest.approx(PRE_S + POST_S, abs=0.4)
        assert duration == pytest.approx(run.clip_duration_s, abs=0.15)
        page.evaluate("() => document.querySelector('#tk-clip-video').play()")
        page.wait_for_function("() => document.querySelector('#tk-clip-video').currentTime > 0.5", timeout=15_000)
        assert run.clip_sha256 in page.locator("#tk-clip").inner_text()
        # the stable /clip/ path hands the operator a short-lived signed link; altered, it is refused
        hop = page.request.get(f"{base}/clip/violation/{vid}", max_redirects=0)
        assert hop.status == 302
        link = hop.headers["location"]
        assert link.startswith("/media/clips/") and "exp=" in link and "sig=" in link
        ok = page.request.get(base + link)
        assert ok.status == 200 and ok.headers["content-type"] == "video/mp4" and len(ok.body()) == run.clip_size
        assert page.request.get(base + link.replace("sig=", "sig=0")).status == 403
    finally:
        context.close()


def _video_state(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => { const v = document.querySelector('#pb-video');
        return {src: v.dataset.src || null, offset: v.dataset.offset ? Number(v.dataset.offset) : null,
                ready: v.readyState, duration: v.duration, t: v.currentTime, error: v.error && v.error.code}; }"""
    )


def _wait_playing(page: Any, src: str, offset: float) -> dict[str, Any]:
    page.wait_for_function(
        """([src, offset]) => { const v = document.querySelector('#pb-video');
        return v.dataset.src === src && Number(v.dataset.offset) === offset && v.readyState >= 1; }""",
        arg=[src, offset],
        timeout=20_000,
    )
    st = _video_state(page)
    assert st["error"] is None, st
    assert offset - 0.3 <= st["t"] <= offset + 3.0, st  # sought there (and maybe playing on)
    return st


def test_playback_page_lists_segments_and_a_marker_seeks(
    browser: Any, chain: tuple[ChainResult, str], screenshot_dir: Path
) -> None:
    """The operator's playback page: the camera's segments and its ticket on the timeline; a segment plays, the
    ticket's marker plays the segment holding the violation from the right second, so does a typed time."""
    run, base = chain
    assert len(run.segments) >= 2
    holding = next(s for s in run.segments if s[0] <= run.violation_ts_ms <= s[1] + 200)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        login_page(page, base, "operator", "operator-demo")
        page.goto(base + "/tickets")
        page.locator("#nav-playback").click()  # linked in the operators' navigation
        page.wait_for_url("**/playback")
        summary = page.locator("#pb-summary")
        summary.wait_for(timeout=30_000)
        assert f"{len(run.segments)} recording segment(s), 1 ticket(s)" in summary.inner_text()
        assert page.locator(".pb-seg").count() == len(run.segments)
        assert page.locator(".pb-mark-ticket").count() == 1
        # a segment bar plays that segment from its start
        page.locator(".pb-seg").first.click()
        first = run.segments[0]
        st = _wait_playing(page, f"/recording/{CAMERA}/{first[0]}", 0.0)
        assert st["duration"] == pytest.approx((first[1] - first[0]) / 1000 + 0.2, abs=0.5)
        # the ticket's marker plays the segment holding the violation, from the violation's second
        page.locator(".pb-mark-row").first.click()
        offset = round((run.violation_ts_ms - holding[0]) / 1000, 3)
        _wait_playing(page, f"/recording/{CAMERA}/{holding[0]}", offset)
        assert f"from {offset:.1f} s" in page.locator("#pb-status").inner_text()
        # a typed time (UTC) plays the segment holding it
        last = run.segments[-1]
        moment = (last[0] // 1000 + 1) * 1000
        page.fill("#pb-at", dt.datetime.fromtimestamp(moment / 1000, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"))
        page.locator("#pb-go").click()
        _wait_playing(page, f"/recording/{CAMERA}/{last[0]}", round((moment - last[0]) / 1000, 3))
        page.screenshot(path=str(screenshot_dir / "playback.png"))
    finally:
        context.close()
