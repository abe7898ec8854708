"""The system's one SQL database: its URL and the engine every process opens it with.

The archive (tickets, incidents, alerts) and the dashboard's own tables (users, sessions,
traffic updates) live in the same database, opened by several processes at once (the
dashboard, its live server, the ticketing and incidents services). They all build their
engine here, so they agree on the connection settings: on SQLite, WAL (readers never block
the writer), one busy timeout (:data:`SQLITE_BUSY_TIMEOUT_S`) and foreign keys enforced.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from config.settings import REPO_ROOT, AppConfig

DEFAULT_URL = "sqlite:///var/archive.db"
#: How long a SQLite connection waits for another process's write lock before failing.
SQLITE_BUSY_TIMEOUT_S = 15.0
_SQLITE_PREFIX = "sqlite:///"
_SQLITE_MEMORY = "sqlite:///:memory:"


def archive_url(cfg: AppConfig | None = None) -> str:
    """The database's SQLAlchemy URL: ``archive.url``, else ``$ARCHIVE_URL``, else SQLite under ``var/``.

    A relative SQLite path is made absolute against the repository root, so every
    process opens the same file whatever its working directory.
    """
    url = (cfg.archive.url if cfg is not None else None) or os.environ.get("ARCHIVE_URL") or DEFAULT_URL
    if url.startswith(_SQLITE_PREFIX) and not url.startswith(_SQLITE_PREFIX + "/") and url != _SQLITE_MEMORY:
        url = _SQLITE_PREFIX + str(REPO_ROOT / url[len(_SQLITE_PREFIX) :])
    return url


def make_engine(url: str) -> Engine:
    """The engine for ``url`` (SQLite or PostgreSQL), with the settings every process shares.

    Connections are checked before use (``pool_pre_ping``). On SQLite the file's directory
    is created, connections may be used from any thread (the Dash and websocket servers
    are threaded), and each new connection gets :func:`sqlite_pragmas`.
    """
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    sqlite = url.startswith("sqlite")
    if sqlite:
        path = url.split(_SQLITE_PREFIX, 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
    engine = create_engine(url, **kwargs)
    if sqlite:
        event.listen(engine, "connect", sqlite_pragmas)
    return engine


def sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """WAL, foreign keys on, and the one busy timeout (also the driver's ``timeout``)."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer (dashboard + live server + services)
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
    cur.close()


__all__ = ["DEFAULT_URL", "SQLITE_BUSY_TIMEOUT_S", "archive_url", "make_engine", "sqlite_pragmas"]
