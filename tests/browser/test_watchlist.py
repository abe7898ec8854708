"""The watchlist admin screen in headless Chromium against ``python -m dashboard`` and a real Redis.

An admin adds an entry (a bad one first: the reasons show under the fields), sees it
listed with its expiry and in the audit table, and removes it; the entries are the ones
in Redis (:class:`bus.watchlist.RedisWatchlist`). An operator and a warden cannot open
the screen (403) and have no link to it. Saves ``watchlist.png`` to ``screenshot_dir``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from bus.keys import WATCHLIST_AUDIT_KEY, WATCHLIST_PLATES_KEY, WATCHLIST_VERSION_KEY
from bus.watchlist import RedisWatchlist
from dashboard.process import DashboardProcess
from tests.browser.pages import CHROMIUM, as_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install chromium (make browser-deps)"
    ),
]

KEYS = (WATCHLIST_PLATES_KEY, WATCHLIST_VERSION_KEY, WATCHLIST_AUDIT_KEY)


@pytest.fixture(scope="module")
def dash(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardProcess]:
    tmp = tmp_path_factory.mktemp("wlbrowser")
    client = redis.Redis.from_url(redis_server)
    client.delete(*KEYS)
    RedisWatchlist(client).add_plate("BKA-321", "unpaid e-tickets", "medium", actor="seed")
    with DashboardProcess(redis_server, archive_url=f"sqlite:///{tmp / 'dash.db'}", log_path=tmp / "dash.log") as d:
        yield d
    client.delete(*KEYS)
    client.close()
    assert "Traceback" not in (tmp / "dash.log").read_text(errors="replace")


def test_admin_adds_sees_and_removes_an_entry(
    browser: Any, dash: DashboardProcess, redis_server: str, screenshot_dir: Path
) -> None:
    store = RedisWatchlist(redis.Redis.from_url(redis_server))
    ctx, page, rec = as_user(browser, dash.url, "admin")
    try:
        page.goto(dash.url + "/admin/watchlist")
        page.locator("#adm-wl-row-BKA321").wait_for(timeout=30_000)
        assert "unpaid e-tickets" in page.locator("#adm-wl-row-BKA321").inner_text()
        assert page.locator("#nav-admin-watchlist").count() == 1
        # A bad entry: each reason under its field, nothing stored.
        page.fill("#adm-wl-plate", "L<1>")
        page.fill("#adm-wl-expiry", "next week")
        page.click("#adm-wl-save")
        page.wait_for_function(
            "() => document.querySelector('#adm-wl-err-plate').innerText.includes('only letters')", timeout=15_000
        )
        assert "say why" in page.locator("#adm-wl-err-reason").inner_text()
        assert "not an ISO date" in page.locator("#adm-wl-err-expiry").inner_text()
        assert page.locator("#adm-wl-result").inner_text().startswith("Not saved")
        assert [r.entry.plate for r in store.records()] == ["BKA321"]
        # A good one.
        page.fill("#adm-wl-plate", "PRK 4242")
        page.fill("#adm-wl-reason", "stolen vehicle (FIR 7/26)")
        page.fill("#adm-wl-expiry", "2099-12-31")
        page.fill("#adm-wl-note", "blue Corolla")
        page.locator("#adm-wl-priority").click()
        page.locator("[role=option]", has_text="critical").first.click()
        page.click("#adm-wl-save")
        row = page.locator("#adm-wl-row-PRK4242")
        row.wait_for(timeout=15_000)
        text = row.inner_text()
        assert "stolen vehicle (FIR 7/26)" in text and "critical" in text and "2100-01-01T00:00:00Z" in text
        assert "blue Corolla" in text and "admin" in text
        assert page.locator("#adm-wl-err-plate").inner_text() == ""
        assert page.locator("#adm-wl-result").inner_text() == "Saved PRK4242 (critical)."
        rec_ = store.get("PRK4242")
        assert rec_ is not None and rec_.updated_by == "admin" and rec_.entry.expires_ms == 4_102_444_800_000
        page.wait_for_function(
            "() => document.querySelector('#adm-wl-audit').innerText.includes('PRK4242')", timeout=10_000
        )
        page.screenshot(path=str(screenshot_dir / "watchlist.png"))
        # Remove it.
        row.locator("button", has_text="Remove").click()
        page.locator("#adm-wl-row-PRK4242").wait_for(state="detached", timeout=15_000)
        assert page.locator("#adm-wl-result").inner_text() == "Removed PRK4242."
        assert [r.entry.plate for r in store.records()] == ["BKA321"]
        audit = page.locator("#adm-wl-audit tbody tr").all_inner_texts()
        assert "remove" in audit[0] and "admin" in audit[0] and "PRK4242" in audit[0]
        assert page.locator("#adm-wl-row-BKA321").count() == 1
        assert not rec.errors, rec.errors
    finally:
        ctx.close()
        store.client.close()


@pytest.mark.parametrize("user", ["operator", "warden1"])
def test_operators_and_wardens_cannot_see_the_screen(browser: Any, dash: DashboardProcess, user: str) -> None:
    ctx, page, _ = as_user(browser, dash.url, user)
    try:
        page.locator("#nav-user" if user == "operator" else "#wd-zones").wait_for(timeout=30_000)  # their home page
        assert page.locator("#nav-admin-watchlist").count() == 0  # no link to the screen
        assert "Watchlist" not in page.locator("body").inner_text()
        resp = page.goto(dash.url + "/admin/watchlist")
        assert resp is not None and resp.status == 403 and "Not allowed" in page.content()
        assert "BKA321" not in page.content()
    finally:
        ctx.close()
