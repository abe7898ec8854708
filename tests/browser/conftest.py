"""Fixtures of the browser tests: the browser, where their screenshots go, and ``shot`` to take one.

By default the screenshots are written to a temporary directory, so running the tests
never rewrites the committed ``docs/img/*.png``. To refresh the README's screenshots on
purpose, set ``SAFECITY_DOCS_IMAGES`` to the target directory (relative paths are taken
from the repository root): ``make docs-images`` runs the browser tests with
``SAFECITY_DOCS_IMAGES=docs/img``.

The helpers the test modules share are plain modules: :mod:`tests.browser.pages` (users, logins,
requests seen), :mod:`tests.browser.feeder` (the workers' writes) and :mod:`tests.browser.stacks`
(configs and services); no test module imports another.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.pages import CHROMIUM, CHROMIUM_ARGS
from tests.paths import REPO_ROOT

#: Environment variable naming the directory the screenshots are saved to (unset: a temporary one).
DOCS_IMAGES_ENV = "SAFECITY_DOCS_IMAGES"


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory for the screenshots: ``$SAFECITY_DOCS_IMAGES`` when set, else a session temp dir."""
    target = os.environ.get(DOCS_IMAGES_ENV, "").strip()
    if not target:
        return tmp_path_factory.mktemp("screenshots")
    path = Path(target).expanduser()
    if not path.is_absolute():
        path = REPO_ROOT / path
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for every browser test (each test opens its own contexts)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def shot(screenshot_dir: Path) -> Callable[..., None]:
    """``shot(page, name, full_page=False)`` saves ``<screenshot_dir>/<name>.png``."""

    def save(page: Any, name: str, full_page: bool = False) -> None:
        page.mouse.move(1, 1)
        page.wait_for_timeout(300)
        page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=full_page)

    return save
