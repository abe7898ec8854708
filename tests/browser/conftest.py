"""Fixtures of the browser tests: where their screenshots go.

By default the screenshots are written to a temporary directory, so running the tests
never rewrites the committed ``docs/img/*.png``. To refresh the README's screenshots on
purpose, set ``SAFECITY_DOCS_IMAGES`` to the target directory (relative paths are taken
from the repository root): ``make docs-images`` runs the browser tests with
``SAFECITY_DOCS_IMAGES=docs/img``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
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


def archive_stack_config(tmp: Path) -> tuple[Path, str]:
    """The demo config with its evidence in ``tmp`` (written there), and a SQLite archive URL in ``tmp``:
    for a ``DashboardProcess`` whose archive the test fills itself."""
    raw = yaml.safe_load((REPO_ROOT / "config" / "default.yaml").read_text(encoding="utf-8"))
    raw["archive"]["evidence_dir"] = str(tmp / "evidence")
    config = tmp / "config.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return config, f"sqlite:///{tmp / 'archive.db'}"
