"""The embedded server's data directory: file names, ``redis.conf``, lock, log.

The data dir holds the generated config (:data:`CONF_FILE`), the AOF, the log
(:data:`LOG_FILE`), the lock the running server holds (:data:`LOCK_FILE`) and the
URL of that server (:data:`INFO_FILE`).
"""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

from bus.redis_binary import EmbeddedRedisError, redis_server_version

LOCK_FILE = "redis.lock"
INFO_FILE = "server.json"
LOG_FILE = "redis.log"
CONF_FILE = "redis.conf"


def _quote(value: str) -> str:
    """Quote a value for redis.conf."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def log_tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of the server log (for error messages)."""
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


def check_aof_compatible(data_dir: Path, executable: str) -> None:
    """Refuse to start a Redis < 7 on a data dir whose AOF Redis 7 wrote (it would look empty)."""
    if not (data_dir / "appendonlydir").is_dir():
        return
    version = redis_server_version(executable)
    if version is not None and version[0] < 7:
        raise EmbeddedRedisError(
            f"data dir {data_dir} holds a Redis 7 multi-part AOF (appendonlydir/) that {executable} "
            f"(Redis {'.'.join(map(str, version))}) cannot read; use a Redis >= 7 binary or another data dir"
        )


def write_config(data_dir: Path, port: int) -> Path:
    """Write ``redis.conf`` into ``data_dir`` for a server on ``port``; returns its path."""
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


def log_tail_from(path: Path, start: int, lines: int = 20) -> str:
    """The last ``lines`` lines the server logged after byte offset ``start``."""
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            text = fh.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"
