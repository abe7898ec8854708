"""Processes starting together on a new database all get their tables (the dashboard and its live server),
and every process opens the database with the same settings (archive.db.make_engine)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from archive import Archive
from archive.dashboard_db import Base as DashboardBase
from archive.dashboard_db import DashboardDB
from archive.db import SQLITE_BUSY_TIMEOUT_S, make_engine
from archive.ddl import create_tables
from archive.models import Base as ArchiveBase


@pytest.mark.parametrize("metadata", [DashboardBase.metadata, ArchiveBase.metadata], ids=["dashboard", "archive"])
def test_concurrent_table_creation_on_a_new_sqlite_file(tmp_path: Path, metadata) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    barrier = threading.Barrier(6)
    errors: list[str] = []

    def start() -> None:
        engine = make_engine(url)
        barrier.wait()  # all check for the tables, then all create them
        try:
            create_tables(metadata, engine)
        except Exception as e:  # noqa: BLE001 - collected for the assertion
            errors.append(f"{type(e).__name__}: {e}")
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert set(metadata.tables) <= set(inspect(make_engine(url)).get_table_names())


def test_dashboard_databases_opened_together(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dash.db'}"
    barrier = threading.Barrier(4)
    opened: list[DashboardDB] = []
    errors: list[str] = []

    def open_db() -> None:
        barrier.wait()
        try:
            opened.append(DashboardDB(url))
        except Exception as e:  # noqa: BLE001
            errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=open_db) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(opened) == 4
    for db in opened:
        db.dispose()


def test_archive_and_dashboard_tables_open_the_file_with_the_same_pragmas(tmp_path: Path) -> None:
    """One busy timeout, WAL and foreign keys for every engine on the shared SQLite file (they differed once)."""
    url = f"sqlite:///{tmp_path / 'sub' / 'shared.db'}"  # the directory is created
    arc, dash = Archive(url, tmp_path / "ev"), DashboardDB(url)
    try:
        for engine in (arc.engine, dash.engine):
            with engine.connect() as c:
                got = [
                    c.execute(text(f"PRAGMA {p}")).scalar() for p in ("busy_timeout", "journal_mode", "foreign_keys")
                ]
            assert got == [int(SQLITE_BUSY_TIMEOUT_S * 1000), "wal", 1]
    finally:
        arc.close()
        dash.dispose()
