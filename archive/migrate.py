"""Schema migrations on start-up (Alembic, ``archive/migrations``), in place of ``create_all``.

Every process that opens the database calls :func:`upgrade` (through :class:`archive.Archive` and
:class:`archive.dashboard_db.DashboardDB`). It is cheap when the database is current (one read of
``alembic_version``), and safe when several processes start together: on PostgreSQL the upgrade runs
under a transaction-scoped advisory lock (``pg_advisory_xact_lock``), on a SQLite file under an
exclusive lock on ``<file>.migrate.lock``, each re-reading the version once it holds the lock; a
transient "database is locked" is retried, as :mod:`archive.ddl` did.

A database made by ``create_all`` before migrations existed has tables but no ``alembic_version``:
revision 0001 then creates only the tables it lacks, so the rows are kept and the database joins the
migration history; later revisions then run as for any other database.

``python -m archive.migrate_cli {upgrade,current,check}`` runs the same from a shell.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

log = logging.getLogger("archive.migrate")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Key of the PostgreSQL advisory lock held while migrating ("safecity" in ASCII).
PG_LOCK_KEY = 0x73616665636974


def alembic_config() -> Config:
    """An Alembic config pointing at ``archive/migrations`` (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision of the migrations (read once per process)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"{MIGRATIONS_DIR}: no migrations")
    return head


def current_revision(conn: Connection) -> str | None:
    """The revision the database is at (None: never migrated, perhaps made by create_all)."""
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, attempts: int = 5) -> bool:
    """Bring the database to the newest revision.

    Returns:
        True when migrations ran, False when the database was already current.

    Raises:
        OperationalError: still locked after ``attempts`` tries (SQLite).
    """
    for i in range(attempts):
        try:
            with engine.connect() as conn:  # the common case, without the lock: already current
                if current_revision(conn) == head_revision():
                    return False
            with _migration_lock(engine), engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})
                before = current_revision(conn)
                if before == head_revision():
                    return False  # another process migrated while this one waited for the lock
                if before is None and _has_tables(conn):
                    log.info("adopting a database made before migrations (create_all): missing tables only")
                cfg = alembic_config()
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                log.info("database migrated %s -> %s", before or "nothing", head_revision())
                return True
        except OperationalError:
            if i == attempts - 1:
                raise
            time.sleep(0.2 * (i + 1))
    return False


def _has_tables(conn: Connection) -> bool:
    from sqlalchemy import inspect

    return bool(set(inspect(conn).get_table_names()) - {"alembic_version"})


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """An exclusive lock on ``<file>.migrate.lock`` for a SQLite file (nothing for other databases)."""
    db_path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not db_path or db_path == ":memory:":
        yield
        return
    lock = Path(db_path).with_name(Path(db_path).name + ".migrate.lock")
    with open(lock, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
