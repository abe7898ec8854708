"""The Plates page in headless Chromium: an operator finds a plate's sightings, crops and path;
a warden cannot open it; an admin sees the search in the audit log.

A real stack: redis-server (``redis_server``), ``python -m dashboard`` and
``python -m services.sightings`` on a throw-away SQLite file. The test plays the workers: it
publishes ``plate.read`` events (with plate crops in the Redis evidence store) for a vehicle
driving past three cameras, plus near misses (one and two characters off) and an unrelated
plate; the sightings service archives them, the page searches them.

Saves ``plates.png`` to the ``screenshot_dir`` fixture.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import cv2
import numpy as np
import pytest
import redis

from archive import Archive
from bus.evidence import EvidenceStore
from bus.streams import EventBus
from config.settings import load_config
from core.clock import now_ms
from core.types import PlateRead
from dashboard.process import DashboardProcess
from tests.browser.pages import CHROMIUM, as_user, clean
from tests.browser.stacks import archive_stack_config, running_services

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install chromium (make browser-deps)"
    ),
]

CFG = load_config()
PLATE = "LEA1234"
#: (plate, camera index, minutes ago): the vehicle's path (oldest first), near misses, another car.
SIGHTINGS = [
    (PLATE, 0, 50),
    (PLATE, 1, 30),
    ("LEA1284", 2, 20),  # one character misread
    (PLATE, 3, 10),
    ("LFA1284", 1, 5),  # two off
    ("KHI9876", 0, 1),  # someone else
]


def plate_crop(text: str) -> bytes:
    img = np.full((50, 180, 3), 235, np.uint8)
    cv2.rectangle(img, (2, 2), (177, 47), (20, 20, 20), 2)
    cv2.putText(img, text, (10, 35), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (10, 10, 10), 2)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


@pytest.fixture(scope="module")
def stack(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    redis.Redis.from_url(redis_server).flushall()
    tmp = tmp_path_factory.mktemp("plates")
    config, archive = archive_stack_config(tmp)
    log = tmp / "sightings.log"
    client = redis.Redis.from_url(redis_server)
    bus, ev = EventBus(client), EvidenceStore(client)
    t = now_ms()
    for i, (plate, cam, ago) in enumerate(SIGHTINGS):
        crop = ev.put(plate_crop(plate[:3] + " " + plate[3:]))
        bus.publish(PlateRead(CFG.cameras[cam].id, 40 + i, t - ago * 60_000, plate, 0.9, (100, 80, 160, 120), 3, crop))
    with (
        open(log, "ab") as out,
        DashboardProcess(redis_server, config=config, archive_url=archive, log_path=tmp / "dash.log") as dash,
        running_services(("services.sightings",), config, redis_server, archive, out),
    ):
        try:
            arc = Archive(archive, tmp / "evidence")
            deadline = time.monotonic() + 30
            while arc.sightings.count() < len(SIGHTINGS) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert arc.sightings.count() == len(SIGHTINGS), log.read_text(errors="replace")[-2000:]
            arc.close()
            yield {"dash": dash, "t": t}
        finally:
            client.close()
    text = log.read_text(errors="replace") + (tmp / "dash.log").read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]
    assert PLATE not in text and "LEA-1234" not in text, "a plate reached the logs"


def search(page: Any, plate: str) -> None:
    page.locator("#pl-plate").fill(plate)
    page.click("#pl-search")


def test_operator_finds_the_sightings_with_crops_and_the_path_on_the_map(
    browser: Any,
    stack: dict[str, Any],
    shot: Callable[..., None],
) -> None:
    base = stack["dash"].url
    ctx, page, rec = as_user(browser, base, "operator")
    try:
        page.goto(base + "/plates")
        page.locator("#pl-plate").wait_for(timeout=30_000)
        assert "Plates" in page.locator("nav .nav-link").all_inner_texts()
        search(page, "x%y")  # bad input: the reason, and nothing searched
        page.wait_for_function("() => !document.querySelector('#pl-error').hidden", timeout=15_000)
        assert "plate: only letters" in page.locator("#pl-error").inner_text()
        search(page, "lea-1234")
        page.wait_for_function("() => document.querySelectorAll('.pl-row').length === 5", timeout=15_000)
        assert page.locator("#pl-error").is_hidden()
        rows = page.locator(".pl-row").all_inner_texts()
        assert [r.split()[0] for r in rows] == [PLATE, PLATE, PLATE, "LEA1284", "LFA1284"]  # exact first, newest first
        assert all("exact" in r for r in rows[:3]) and "1 off" in rows[3] and "2 off" in rows[4]
        assert CFG.cameras[3].name in rows[0] and CFG.cameras[0].name in rows[2]
        assert not any("KHI9876" in r for r in rows)
        assert "5 sighting(s)" in page.locator("#pl-summary").inner_text()
        # The crops are the archived files (served by /evidence/<sha256>), and they load.
        page.wait_for_function(
            "() => [...document.querySelectorAll('img.pl-crop')].filter(i => i.complete && i.naturalWidth > 0)"
            ".length === 5",
            timeout=15_000,
        )
        # The map's path: every sighting, in time order (oldest first), at its camera.
        path = page.evaluate(
            "() => { const d = document.querySelector('#pl-map .js-plotly-plot').data;"
            " const t = d.find(x => x.name === 'path'); return {x: t.x, y: t.y, c: t.customdata}; }"
        )
        order = [CFG.cameras[i] for _, i, _ in sorted(SIGHTINGS[:5], key=lambda s: -s[2])]
        assert path["x"] == [c.location[1] for c in order]
        assert path["y"] == [c.location[0] for c in order]
        assert [c[2] for c in path["c"]] == sorted(c[2] for c in path["c"])
        assert page.locator("#pl-map .scatterlayer .trace").count() >= 4  # roads, segments, cameras, path
        shot(page, "plates")
        clean(rec)
    finally:
        ctx.close()


def test_a_warden_cannot_open_the_page_or_search(browser: Any, stack: dict[str, Any]) -> None:
    base = stack["dash"].url
    ctx, page, rec = as_user(browser, base, "warden1")
    try:
        resp = page.goto(base + "/plates")
        assert resp is not None and resp.status == 403 and "Not allowed" in page.content()
        assert page.locator("#pl-plate").count() == 0
        api = page.request.get(base + f"/api/v1/plates?plate={PLATE}")
        assert api.status == 403
        assert PLATE not in api.text()
    finally:
        ctx.close()
    ctx, page, rec = as_user(browser, base, "operator")
    try:  # the operator's nav has the page; anonymous API requests get 401
        anon = ctx.browser.new_context()
        assert anon.request.get(base + f"/api/v1/plates?plate={PLATE}").status == 401
        anon.close()
    finally:
        ctx.close()


def test_admin_sees_the_search_in_the_audit_log(browser: Any, stack: dict[str, Any]) -> None:
    base = stack["dash"].url
    ctx, page, rec = as_user(browser, base, "operator")
    try:  # one search on the page, then one over the API
        page.goto(base + "/plates")
        page.locator("#pl-plate").wait_for(timeout=30_000)
        search(page, "psb 404")
        page.wait_for_function(
            "() => document.querySelector('#pl-summary').innerText.startsWith('0 sighting')", timeout=15_000
        )
        r = page.request.get(base + f"/api/v1/plates?plate=KHI-9876&camera={CFG.cameras[0].id}")
        assert r.status == 200 and len(json.loads(r.text())["sightings"]) == 1
    finally:
        ctx.close()
    ctx, page, rec = as_user(browser, base, "admin")
    try:
        page.goto(base + "/admin")
        page.locator("#adm-audit-1").wait_for(timeout=30_000)
        newest, before = page.locator("#adm-audit-0").inner_text(), page.locator("#adm-audit-1").inner_text()
        assert "operator" in newest and "KHI9876" in newest and CFG.cameras[0].id in newest and "api" in newest
        assert newest.split()[-1] == "1"  # results
        assert "operator" in before and "PSB404" in before and "page" in before and before.split()[-1] == "0"
        assert "Search audit" in page.locator("#adm-audit-title").inner_text()
        clean(rec)
    finally:
        ctx.close()
