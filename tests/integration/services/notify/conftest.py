"""Fixtures of the notifier's integration tests (their setup is in ``notifier.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def archive_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'archive.db'}"
