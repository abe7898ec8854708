"""Fixtures of the browser tests: where their screenshots go.

By default the screenshots are written to a temporary directory, so running the tests
never rewrites the committed ``docs/img/*.png``. To refresh the README's screenshots on
purpose, set ``SAFECITY_DOCS_IMAGES`` to the target directory (relative paths are taken
from the repository root): ``make docs-images`` runs the browser tests with
``SAFECITY_DOCS_IMAGES=docs/img``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
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
