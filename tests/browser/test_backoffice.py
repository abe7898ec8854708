"""The back office on the tickets page in headless Chromium: the owner with the CNIC masked, the due date,
the notices with their state and a PDF link that downloads a real PDF, the fine change of an overdue
ticket, the grouped CSV reports, and the "Owner unknown" quick filter.

A real stack: redis-server, ``python -m dashboard`` on a throw-away SQLite archive, which this test
fills with tickets (real JPEG evidence) taken through the real notices service (SQL register, e-mail and
SMS in folder mode, PDFs rendered and archived, the overdue surcharge).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from pypdf import PdfReader

from archive import Archive
from config.notices import NoticesConfig
from config.settings import load_config
from core.notices import DAY_MS
from core.owners import OwnerRecord
from core.types import TicketState
from dashboard.data import iso_utc
from dashboard.process import DashboardProcess
from services.notices.register import build_register
from services.notices.service import NoticeService
from tests.browser.pages import CHROMIUM, login_page
from tests.browser.stacks import archive_stack_config
from tests.integration.dashboard.portal_helpers import make_ticket

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install chromium"),
]
BASE = load_config()
CNIC = "*****-****567-1"
OWNER = OwnerRecord(
    "LEA1234",
    "Ali Khan",
    CNIC,
    "House 5, GT Road, Peshawar",
    "+923001234567",
    "ali@example.pk",
    "Suzuki Alto",
    "silver",
)


@pytest.fixture(scope="module")
def stack(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    redis.Redis.from_url(redis_server).flushall()
    tmp = tmp_path_factory.mktemp("backoffice")
    config, url = archive_stack_config(tmp)
    arc = Archive(url, tmp / "evidence")
    arc.register.upsert([OWNER])
    cfg = BASE.model_copy(update={"notices": NoticesConfig(folder=tmp / "notices")})
    known = make_ticket(arc, cfg, 301, "LEA1234", to=TicketState.APPROVED)
    unknown = make_ticket(arc, cfg, 302, "KHI9999", to=TicketState.APPROVED)
    reg, name = build_register(cfg.notices.owner_register, arc)
    NoticeService(cfg, arc, reg, name).tick()  # owners looked up, notices sent (folder mode), PDFs archived
    due = arc.due.get(known)
    assert due is not None
    NoticeService(cfg, arc, reg, name, clock=lambda: due + DAY_MS).tick()  # a day past due: overdue, +25 %
    with DashboardProcess(redis_server, config=config, archive_url=url, log_path=tmp / "dash.log") as dash:
        yield {"url": dash.url, "arc": arc, "known": known, "unknown": unknown}
    arc.close()


def _count(page: Any, n: int) -> None:
    page.wait_for_function(f"() => document.querySelector('#tk-count')?.innerText === '{n} tickets'", timeout=30_000)


def _open_row(page: Any, tid: str) -> None:
    page.locator(".ag-pinned-left-cols-container .ag-row", has_text=tid).first.click()  # the number is pinned
    page.wait_for_function(f"() => document.querySelector('#tk-detail-id')?.innerText === '{tid}'", timeout=15_000)


def test_ticket_back_office_sections_reports_and_owner_unknown(
    browser: Any, stack: dict[str, Any], screenshot_dir: Path
) -> None:
    base, known, unknown = stack["url"], stack["known"], stack["unknown"]
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
    page = ctx.new_page()
    login_page(page, base, "operator", "operator-demo")
    page.goto(base + "/tickets", wait_until="domcontentloaded")
    _count(page, 2)

    # the "Owner unknown" quick filter: only the ticket whose plate nobody registered
    page.click("#tk-unknown")
    _count(page, 1)
    _open_row(page, unknown)
    assert "owner unknown" in page.inner_text("#tk-owner")
    assert page.locator("#tk-notices").count() == 0  # nobody to tell
    page.click("#tk-all")
    _count(page, 2)

    # the notified-then-overdue ticket: owner (CNIC masked), due date, notices with PDFs, the fine change
    _open_row(page, known)
    owner = page.inner_text("#tk-owner")
    assert "Ali Khan" in owner and CNIC in owner and "Suzuki Alto" in owner and "[sql]" in owner
    detail = page.inner_text("#tk-detail")
    d = stack["arc"].get_ticket(known)
    due = stack["arc"].due.get(known)
    assert f"Due: {(iso_utc(due) or '')[:10]}" in detail
    assert "Fine 1500 -> 1875 PKR by notices" in detail
    items = page.locator("#tk-notices li").all_inner_texts()
    for template in ("notice", "overdue"):
        for channel in ("email", "sms", "pdf"):
            assert any(i.startswith(f"{template} {channel}: sent after 1 attempt(s)") for i in items), (
                template,
                channel,
                items,
            )
    pdf_links = page.locator("#tk-notices a", has_text="PDF")
    assert pdf_links.count() >= 2
    page.screenshot(path=str(screenshot_dir / "ticket-backoffice.png"), full_page=True)
    r = ctx.request.get(base + pdf_links.first.get_attribute("href"))
    assert r.status == 200 and r.headers["content-type"] == "application/pdf" and r.body()[:5] == b"%PDF-"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.body())).pages)
    assert known in text and "Over-speeding" in text
    assert d is not None and d.ticket.state.value == "overdue"

    # the grouped CSV reports: each link downloads a CSV
    links = page.locator("#tk-reports a")
    assert links.all_inner_texts() == ["state", "kind", "camera", "day"]  # kind: the offence
    with page.expect_download() as dl:
        links.first.click()
    got = Path(dl.value.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(got)))
    assert dl.value.suggested_filename.startswith("ticket-report-state") and len(rows) == 3, got
    assert rows[0] == ["group", "key", "tickets", "fines_pkr", "original_fines_pkr"]
    assert ["state", "overdue", "1", "1875", "1500"] in rows and ["state", "owner_unknown", "1", "1500", "1500"] in rows
    for a in links.all()[1:]:
        r = ctx.request.get(base + a.get_attribute("href"))
        assert r.status == 200 and r.headers["content-type"].startswith("text/csv") and len(r.text().splitlines()) >= 2
    ctx.close()
