"""Run ``python -m dashboard`` as a child process and wait until it serves (tests, demos).

Example::

    with DashboardProcess(redis_url="redis://127.0.0.1:6379/0") as dash:
        requests.get(dash.url + "/healthz")
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DashboardProcess:
    """``python -m dashboard`` on 127.0.0.1 and a free port, stopped on exit.

    Args:
        redis_url: Passed as ``$REDIS_URL`` (the dashboard then starts no embedded server).
        config: Config file (``--config``); None uses the default.
        port: Port; None picks a free one.
        start_timeout: Seconds to wait until ``/healthz`` answers (any status).
        log_path: File for the child's stdout/stderr (None: inherited).

    Attributes:
        url: ``http://127.0.0.1:<port>``.
    """

    def __init__(
        self,
        redis_url: str,
        config: Path | None = None,
        port: int | None = None,
        start_timeout: float = 60.0,
        log_path: Path | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.redis_url = redis_url
        self.config = config
        self.start_timeout = start_timeout
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_fh: IO[bytes] | None = None

    def start(self) -> DashboardProcess:
        env = {**os.environ, "REDIS_URL": self.redis_url, "PYTHONPATH": str(REPO_ROOT)}
        argv = [sys.executable, "-m", "dashboard", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.config is not None:
            argv += ["--config", str(self.config)]
        out = open(self.log_path, "wb") if self.log_path else None  # noqa: SIM115 - closed in stop()
        self._log_fh = out
        self._proc = subprocess.Popen(
            argv, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT if out else None
        )
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"dashboard exited with code {self._proc.returncode} before serving{self._log_hint()}"
                )
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):
                    return self
            except urllib.error.HTTPError:
                return self  # 503 is an answer: the server is up
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"dashboard did not answer within {self.start_timeout:.0f} s{self._log_hint()}")
            time.sleep(0.2)

    def _log_hint(self) -> str:
        return f" (log: {self.log_path})" if self.log_path else ""

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds (idempotent)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None

    def __enter__(self) -> DashboardProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
