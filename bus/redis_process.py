"""Start and stop a real ``redis-server`` child process (see :mod:`bus.embedded`)."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bus.redis_binary import EmbeddedRedisError, find_redis_server
from bus.redis_datadir import (
    INFO_FILE,
    LOCK_FILE,
    LOG_FILE,
    check_aof_compatible,
    log_tail_from,
    running_server_url,
    write_config,
)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the caller retries on a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _pdeathsig() -> Callable[[], None] | None:
    """A preexec_fn that asks Linux to SIGTERM the child when its parent dies."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1
    sigterm = int(signal.SIGTERM)

    def preexec() -> None:
        prctl(pr_set_pdeathsig, sigterm, 0, 0, 0)

    return preexec


class EmbeddedRedis:
    """A real redis-server child process on 127.0.0.1 with its own data dir.

    Use :func:`start_embedded_redis` to create one. Context manager: leaving the
    ``with`` block stops the server.

    Attributes:
        url: ``redis://127.0.0.1:<port>/0``.
        port: TCP port.
        data_dir: Directory holding the config, AOF, log and lock.
        executable: The redis-server binary used.
        pid: Server process id.
    """

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        port: int,
        data_dir: Path,
        executable: str,
        owns_data_dir: bool,
    ) -> None:
        self._process = process
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.data_dir = data_dir
        self.executable = executable
        self.pid = process.pid
        self._owns_data_dir = owns_data_dir
        self._owner_pid = os.getpid()
        self._stopped = False
        atexit.register(self.stop)

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG_FILE

    @property
    def running(self) -> bool:
        """True while the server process has not exited."""
        return self._process.poll() is None

    def client(self, **kwargs: object) -> redis.Redis:
        """A new ``redis.Redis`` on this server (kwargs go to ``Redis.from_url``)."""
        return redis.Redis.from_url(self.url, **kwargs)

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the server down cleanly (idempotent).

        Sends ``SHUTDOWN`` (the server fsyncs its AOF), waits up to ``timeout``
        seconds, then SIGTERM, then SIGKILL. A temporary data dir is removed.
        Does nothing in a forked child of the process that started the server.
        """
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if os.getpid() != self._owner_pid:
            return  # a forked child (multiprocessing, gunicorn) must not shut down its parent's server
        if self._process.poll() is None:
            try:
                c = _admin_client(self.port, socket_timeout=timeout)
                try:
                    c.shutdown()
                finally:
                    c.close()
            except (redis.RedisError, OSError):
                with contextlib.suppress(ProcessLookupError):
                    self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._process.terminate()
                try:
                    self._process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
        if self._owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> EmbeddedRedis:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"EmbeddedRedis(url={self.url!r}, pid={self.pid}, data_dir={str(self.data_dir)!r}, {state})"


def _admin_client(port: int, socket_timeout: float) -> redis.Redis:
    # No retries: a SHUTDOWN closes the connection, which redis-py would otherwise retry with backoff.
    return redis.Redis(
        host="127.0.0.1",
        port=port,
        socket_timeout=socket_timeout,
        socket_connect_timeout=min(socket_timeout, 2.0),
        retry=Retry(NoBackoff(), 0),
    )


def _wait_ready(proc: subprocess.Popen[bytes], port: int, timeout: float) -> str | None:
    """Wait until the server answers PING; return None when ready, else why not."""
    deadline = time.monotonic() + timeout
    client = _admin_client(port, socket_timeout=1.0)
    try:
        while True:
            if proc.poll() is not None:
                return f"redis-server exited with code {proc.returncode}"
            try:
                if client.ping():
                    return None
            except redis.BusyLoadingError:
                pass  # replaying a large AOF
            except (redis.RedisError, OSError):
                pass
            if time.monotonic() > deadline:
                return f"redis-server did not answer PING within {timeout:.0f} s"
            time.sleep(0.02)
    finally:
        client.close()


def start_embedded_redis(
    data_dir: Path | None = None,
    port: int | None = None,
    *,
    executable: str | None = None,
    start_timeout: float = 30.0,
    die_with_parent: bool = True,
) -> EmbeddedRedis:
    """Start a real redis-server on 127.0.0.1.

    Args:
        data_dir: Directory for the AOF, config, log and lock; created when
            missing. None uses a temporary directory removed on stop.
        port: TCP port; None picks a free one (retrying on a race).
        executable: redis-server binary; None uses :func:`find_redis_server`.
        start_timeout: Seconds to wait for the first PING (AOF replay included).
        die_with_parent: On Linux, have the kernel SIGTERM the server when the
            starting thread's process dies.

    Returns:
        The running server.

    Raises:
        EmbeddedRedisError: no binary, data dir already used by a running
            server, or the server failed to start (the message has its log tail).
    """
    exe = executable or find_redis_server()
    owns = data_dir is None
    ddir = Path(tempfile.mkdtemp(prefix="safecity-redis-")) if data_dir is None else Path(data_dir)
    ddir = ddir.resolve()
    ddir.mkdir(parents=True, exist_ok=True)

    lock_fh = open(ddir / LOCK_FILE, "a+b")  # noqa: SIM115 - handed to the child, closed below
    try:
        _lock_data_dir(lock_fh.fileno(), ddir)
        check_aof_compatible(ddir, exe)
        attempts = 1 if port is not None else 5
        last_error = ""
        for _ in range(attempts):
            p = port if port is not None else free_port()
            proc, last_error, port_taken = _start_once(exe, ddir, p, lock_fh.fileno(), start_timeout, die_with_parent)
            if proc is not None:
                return EmbeddedRedis(proc, p, ddir, exe, owns)
            if not port_taken:
                break
        if owns:
            shutil.rmtree(ddir, ignore_errors=True)
        raise EmbeddedRedisError(last_error)
    finally:
        lock_fh.close()  # the child keeps its inherited copy of the lock


def _lock_data_dir(lock_fd: int, ddir: Path) -> None:
    """Take the data dir's lock, or raise when a running server holds it."""
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        url = running_server_url(ddir)
        raise EmbeddedRedisError(
            f"data dir {ddir} is already used by a running redis-server ({url or 'unknown URL'}); "
            "connect to it (bus.embedded.connect does) or stop it first"
        ) from None


def _start_once(
    exe: str, ddir: Path, p: int, lock_fd: int, start_timeout: float, die_with_parent: bool
) -> tuple[subprocess.Popen[bytes] | None, str, bool]:
    """Start one server on port ``p`` and wait for its first PING.

    Returns:
        ``(process, "", False)`` when it answers; else ``(None, why, port_taken)``
        with ``why`` holding the log tail (and stderr), ``port_taken`` True when
        the port was already in use (worth another try on another port).
    """
    conf = write_config(ddir, p)
    log = ddir / LOG_FILE
    log_start = log.stat().st_size if log.exists() else 0
    proc = subprocess.Popen(
        [exe, str(conf)],
        cwd=ddir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        pass_fds=(lock_fd,),  # the server holds the data-dir lock while it lives
        preexec_fn=_pdeathsig() if die_with_parent else None,  # noqa: PLW1509
        start_new_session=True,  # Ctrl-C in a terminal reaches the parent, which stops it cleanly
    )
    why = _wait_ready(proc, p, start_timeout)
    if why is None:
        (ddir / INFO_FILE).write_text(
            json.dumps({"url": f"redis://127.0.0.1:{p}/0", "port": p, "pid": proc.pid, "executable": exe}),
            encoding="utf-8",
        )
        if proc.stderr is not None:
            proc.stderr.close()
        return proc, "", False
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    stderr = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
    if proc.stderr is not None:
        proc.stderr.close()
    tail = log_tail_from(log, log_start)
    error = f"{why} (binary {exe}, port {p}, data dir {ddir})\n--- log tail ---\n{tail}"
    if stderr:
        error += f"\n--- stderr ---\n{stderr[-2000:]}"
    return None, error, "already in use" in tail or "Address already in use" in stderr
