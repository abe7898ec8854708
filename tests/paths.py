"""Where the tests find things: the repository root and the shared third-party media (absent on a fresh machine)."""

from __future__ import annotations

from pathlib import Path

#: The repository's root folder.
REPO_ROOT = Path(__file__).resolve().parents[1]
#: ``../shared/data``: real third-party media with ground truth; tests that need it skip when it is absent.
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
