"""Run ``python -m dashboard`` (and optionally ``python -m dashboard.live``) as child processes
and wait until they serve (tests, demos, benchmarks).

Example::

    with DashboardProcess(redis_url="redis://127.0.0.1:6379/0", live=True) as dash:
        requests.get(dash.url + "/healthz")
        websockets.connect(dash.live_url + "?channel=public")
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
        archive_url: ``$ARCHIVE_URL`` of the children (users, sessions, tickets); None inherits.
        live: Also start the websocket server (``python -m dashboard.live``) on a free port.
        live_args: Extra arguments of the websocket server.

    Attributes:
        url: ``http://127.0.0.1:<port>``.
        live_url: ``ws://127.0.0.1:<live port>/ws`` (when ``live``).
        pids: Process ids of the children (dashboard first).
    """

    def __init__(
        self,
        redis_url: str,
        config: Path | None = None,
        port: int | None = None,
        start_timeout: float = 60.0,
        log_path: Path | None = None,
        archive_url: str | None = None,
        live: bool = False,
        live_args: tuple[str, ...] = (),
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.archive_url = archive_url
        self.live = live
        self.live_args = live_args
        self.live_port = free_port() if live else None
        self.live_url = f"ws://127.0.0.1:{self.live_port}/ws" if live else ""
        self._live_proc: subprocess.Popen[bytes] | None = None
        self.redis_url = redis_url
        self.config = config
        self.start_timeout = start_timeout
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_fh: IO[bytes] | None = None

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in (self._proc, self._live_proc) if p is not None]

    def start(self) -> DashboardProcess:
        env = {**os.environ, "REDIS_URL": self.redis_url, "PYTHONPATH": str(REPO_ROOT)}
        if self.archive_url:
            env["ARCHIVE_URL"] = self.archive_url
        argv = [sys.executable, "-m", "dashboard", "--host", "127.0.0.1", "--port", str(self.port)]
        cfg_args = ["--config", str(self.config)] if self.config is not None else []
        argv += cfg_args
        out = open(self.log_path, "wb") if self.log_path else None  # noqa: SIM115 - closed in stop()
        self._log_fh = out
        deadline = time.monotonic() + self.start_timeout
        if self.live:
            argv += ["--live-port", str(self.live_port)]
            live_argv = [
                sys.executable,
                "-m",
                "dashboard.live",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.live_port),
                *cfg_args,
                *self.live_args,
            ]
            self._live_proc = subprocess.Popen(
                live_argv, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT if out else None
            )
        self._proc = subprocess.Popen(
            argv, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT if out else None
        )
        if self.live:
            self._wait(f"http://127.0.0.1:{self.live_port}/healthz", self._live_proc, deadline, "dashboard.live")
        self._wait(self.url + "/healthz", self._proc, deadline, "dashboard")
        return self

    def _wait(self, url: str, proc: subprocess.Popen[bytes] | None, deadline: float, name: str) -> None:
        assert proc is not None
        while True:
            if proc.poll() is not None:
                code = proc.returncode
                self.stop()
                raise RuntimeError(f"{name} exited with code {code} before serving{self._log_hint()}")
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # 503 is an answer: the server is up
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{name} did not answer within {self.start_timeout:.0f} s{self._log_hint()}")
            time.sleep(0.2)

    def _log_hint(self) -> str:
        return f" (log: {self.log_path})" if self.log_path else ""

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds (idempotent)."""
        for proc in (self._proc, self._live_proc):
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in (self._proc, self._live_proc):
            if proc is None:
                continue
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None

    def __enter__(self) -> DashboardProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def login(base_url: str, username: str, password: str, timeout: float = 30.0) -> dict[str, str]:
    """Log in through the login form like a browser; returns the cookies (``sc_session``, ``sc_csrf``).

    Raises:
        RuntimeError: the login was refused.
    """
    import http.cookiejar
    import re
    import urllib.parse

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(base_url + "/login", timeout=timeout) as resp:
        page = resp.read().decode()
    m = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if m is None:
        raise RuntimeError("no CSRF token in the login form")
    form = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": m.group(1)}).encode()
    try:
        with opener.open(base_url + "/login", data=form, timeout=timeout):
            pass
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"login as {username} refused: HTTP {e.code}") from None
    cookies = {c.name: c.value or "" for c in jar}
    if "sc_session" not in cookies:
        raise RuntimeError(f"login as {username} gave no session cookie")
    return cookies


def cookie_header(cookies: dict[str, str]) -> str:
    """``Cookie:`` header value of a cookie dict."""
    return "; ".join(f"{k}={v}" for k, v in cookies.items())
