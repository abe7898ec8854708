"""The archive database: its URL, engine and transactional sessions (SQLite or PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from archive.ddl import create_tables
from archive.models import Base
from config.settings import REPO_ROOT, AppConfig
from core.clock import now_ms

DEFAULT_URL = "sqlite:///var/archive.db"


def archive_url(cfg: AppConfig | None = None) -> str:
    """The archive's SQLAlchemy URL: ``archive.url``, else ``$ARCHIVE_URL``, else SQLite under ``var/``.

    A relative SQLite path is made absolute against the repository root, so every
    process opens the same file.
    """
    url = (cfg.archive.url if cfg is not None else None) or os.environ.get("ARCHIVE_URL") or DEFAULT_URL
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
        url = prefix + str(REPO_ROOT / url[len(prefix) :])
    return url


class Database:
    """One archive database shared by the repositories: engine, sessions and the wall clock.

    Args:
        url: SQLAlchemy URL (SQLite gets WAL, foreign keys and a busy timeout).
        clock: Wall clock (UTC epoch ms), for tests.
    """

    def __init__(self, url: str, clock: Callable[[], int] = now_ms) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, future=True, pool_pre_ping=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self.clock = clock

    def create_tables(self) -> None:
        """Create missing tables; tolerates another process creating them at the same moment."""
        create_tables(Base.metadata, self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed when the block ends, rolled back when it raises."""
        s = self._session()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """SQLite connection set-up: WAL (readers beside a writer), foreign keys, wait on locks."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


__all__ = ["DEFAULT_URL", "Database", "archive_url"]
