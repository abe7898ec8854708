"""The archive's database as its repositories share it: one engine, transactional sessions, the wall clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from archive.db import make_engine
from archive.migrate import upgrade
from core.clock import now_ms


class Database:
    """One archive database shared by the repositories: engine, sessions and the wall clock.

    Args:
        url: SQLAlchemy URL (the engine is :func:`archive.db.make_engine`'s).
        clock: Wall clock (UTC epoch ms), for tests.
    """

    def __init__(self, url: str, clock: Callable[[], int] = now_ms) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self.clock = clock

    def create_tables(self) -> None:
        """Migrate the database to the newest schema (:func:`archive.migrate.upgrade`; safe when processes start together)."""
        upgrade(self.engine)

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


__all__ = ["Database"]
