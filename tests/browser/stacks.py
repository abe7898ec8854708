"""Helpers of the browser tests for the stacks they run: the demo config pointed at a temp dir, and
the archive services (``python -m services.<name>``) as child processes.

A plain module (no fixtures, no tests): the test modules import it, never each other.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import yaml

from dashboard.process import REPO_ROOT


def archive_stack_config(tmp: Path) -> tuple[Path, str]:
    """The demo config with its evidence in ``tmp`` (written there), and a SQLite archive URL in ``tmp``:
    for a ``DashboardProcess`` whose archive the test fills itself."""
    raw = yaml.safe_load((REPO_ROOT / "config" / "default.yaml").read_text(encoding="utf-8"))
    raw["archive"]["evidence_dir"] = str(tmp / "evidence")
    config = tmp / "config.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return config, f"sqlite:///{tmp / 'archive.db'}"


@contextmanager
def running_services(
    modules: tuple[str, ...], config: Path, redis_url: str, archive_url: str, out: IO[bytes]
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``python -m <module> --config .. --redis-url .. --archive-url ..`` for each module, output to ``out``;
    terminated on exit (killed after 10 s)."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for module in modules:
            argv = [sys.executable, "-m", module, "--config", str(config)]
            argv += ["--redis-url", redis_url, "--archive-url", archive_url]
            procs.append(subprocess.Popen(argv, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT))
        yield procs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


__all__ = ["archive_stack_config", "running_services"]
