"""The citizen portal in headless Chromium at a phone's width (390 px), in English and in Urdu.

A real stack: redis-server, ``python -m dashboard`` (the whole app: auth, CSRF, the demo gateway
posting its signed callback over HTTP to the webhook) and a throw-away SQLite archive that this
test seeds with notified tickets (real JPEG evidence, the vehicle's box in the details).

* English: look up a ticket, see the blurred evidence photo, pay through the demo gateway -> paid.
* Urdu (``lang="ur" dir="rtl"``): look up, appeal with a reason; an operator upholds it on
  ``/appeals``; the citizen looks up again and reads "upheld" in Urdu.

Screenshots (portal, portal-urdu) go to the ``screenshot_dir`` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from archive import Archive
from config.settings import load_config
from dashboard.portal.text import TEXT
from dashboard.process import DashboardProcess
from tests.browser.pages import CHROMIUM, login_page
from tests.browser.stacks import archive_stack_config
from tests.integration.dashboard.portal_helpers import make_ticket, state_of

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install chromium"),
]
CFG = load_config()
PHONE = {"width": 390, "height": 844}
PLATE = "LEA-1234"


@pytest.fixture(scope="module")
def stack(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    redis.Redis.from_url(redis_server).flushall()
    tmp = tmp_path_factory.mktemp("portal")
    config, url = archive_stack_config(tmp)
    arc = Archive(url, tmp / "evidence")
    tickets = {"pay": make_ticket(arc, CFG, 101), "appeal": make_ticket(arc, CFG, 102)}
    with DashboardProcess(redis_server, config=config, archive_url=url, log_path=tmp / "dash.log") as dash:
        yield {"url": dash.url, "arc": arc, "tickets": tickets, "log": tmp / "dash.log"}
    arc.close()


def _lookup(page: Any, base: str, ticket: str, lang: str) -> None:
    page.goto(f"{base}/portal?lang={lang}", wait_until="domcontentloaded")
    page.fill("#ticket", ticket)
    page.fill("#plate", PLATE)
    with page.expect_navigation():
        page.click("#portal-lookup-submit")


def test_english_lookup_photo_and_pay(browser: Any, stack: dict[str, Any], screenshot_dir: Path) -> None:
    base, tid = stack["url"], stack["tickets"]["pay"]
    ctx = browser.new_context(viewport=PHONE)
    page = ctx.new_page()
    _lookup(page, base, tid, "en")
    assert page.get_attribute("html", "lang") == "en" and page.get_attribute("html", "dir") == "ltr"
    assert page.inner_text("#portal-offence") == "Over-speeding" and "1,500" in page.inner_text("#portal-fine")
    photo = page.locator("#portal-photo-frame")
    assert photo.is_visible() and photo.get_attribute("src").startswith("data:image/jpeg;base64,")
    assert page.evaluate("document.querySelector('#portal-photo-frame').naturalWidth") > 100  # it decodes
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # phone-sized: no sideways scroll
    page.screenshot(path=str(screenshot_dir / "portal.png"), full_page=True)
    with page.expect_navigation():
        page.click("#portal-pay")
    assert "/portal/demo-gateway" in page.url and "PKR 1,500" in page.inner_text("#gw-amount")
    with page.expect_navigation():
        page.click("#gw-pay")
    assert TEXT["en"]["payment_ok"] in page.inner_text("#portal-payment-result"), stack["log"].read_text()[-2000:]
    assert state_of(stack["arc"], tid) == "paid"
    _lookup(page, base, tid, "en")
    assert page.inner_text("#portal-state") == "paid" and page.locator("#portal-pay").count() == 0
    ctx.close()


def test_urdu_appeal_upheld_by_the_operator(browser: Any, stack: dict[str, Any], screenshot_dir: Path) -> None:
    base, tid = stack["url"], stack["tickets"]["appeal"]
    citizen = browser.new_context(viewport=PHONE)
    page = citizen.new_page()
    _lookup(page, base, tid, "ur")
    assert page.get_attribute("html", "lang") == "ur" and page.get_attribute("html", "dir") == "rtl"
    assert page.inner_text("#portal-offence") == TEXT["ur"]["k_overspeed"]
    assert page.locator("#portal-photo-frame").is_visible()
    page.screenshot(path=str(screenshot_dir / "portal-urdu.png"), full_page=True)
    page.fill("#reason", "میری گاڑی اس وقت گھر پر کھڑی تھی")
    with page.expect_navigation():
        page.click("#portal-appeal-submit")
    assert TEXT["ur"]["appeal_received"] in page.inner_text("#portal-appeal-received")
    assert state_of(stack["arc"], tid) == "appealed"

    operator = browser.new_context(viewport={"width": 1400, "height": 900})
    op = operator.new_page()
    login_page(op, base, "operator", "operator-demo")
    op.goto(base + "/appeals", wait_until="domcontentloaded")
    op.locator(".ap-item", has_text=tid).first.click()
    op.wait_for_selector("#ap-reason")
    assert "گھر" in op.inner_text("#ap-reason")
    op.fill("#ap-note", "the speed reading is clear")
    op.click("#ap-uphold")
    op.wait_for_function("document.querySelector('#ap-result')?.innerText.includes('upheld')", timeout=10_000)
    operator.close()

    _lookup(page, base, tid, "ur")
    assert page.inner_text("#portal-state") == TEXT["ur"]["st_upheld"]
    assert TEXT["ur"]["appeal_upheld"] in page.inner_text("#portal-status-note")
    citizen.close()
