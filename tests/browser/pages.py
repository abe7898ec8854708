"""Helpers of the browser tests for driving pages: the browser, the demo users, logging in, and
what a page requested or complained about.

A plain module (no fixtures, no tests): the test modules import it, never each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Debian's Chromium (make browser-deps), driven by Playwright; never a downloaded browser.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: The demo users of config/default.yaml and their passwords.
DEMO = {"operator": "operator-demo", "admin": "admin-demo-1", "warden1": "warden-demo-1", "warden2": "warden-demo-2"}


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


def new_page(browser: Any, viewport: dict[str, int] | None = None) -> tuple[Any, Any, Recorder]:
    """A new context (1500x950 unless ``viewport``), its page, and the page's :class:`Recorder`."""
    ctx = browser.new_context(viewport=viewport or {"width": 1500, "height": 950})
    page = ctx.new_page()
    return ctx, page, Recorder(page)


def as_user(browser: Any, base: str, user: str, viewport: dict[str, int] | None = None) -> tuple[Any, Any, Recorder]:
    """:func:`new_page`, logged in as the demo ``user`` (a key of :data:`DEMO`)."""
    ctx, page, rec = new_page(browser, viewport)
    login_page(page, base, user, DEMO[user])
    return ctx, page, rec


def clean(rec: Recorder, allow: tuple[str, ...] = ()) -> None:
    """Assert the page requested nothing off 127.0.0.1 and showed no error (but those containing ``allow``)."""
    off = [u for u in rec.requests if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))]
    assert not off, f"requests left 127.0.0.1: {off}"
    errors = [e for e in rec.errors if not any(a in e for a in allow)]
    assert not errors, errors


__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "DEMO", "Recorder", "as_user", "clean", "login_page", "new_page"]
