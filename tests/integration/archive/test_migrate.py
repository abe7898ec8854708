"""Schema migrations (archive.migrate): a pre-migration database is adopted without losing rows, processes
starting together migrate once, and the migrations make exactly the models' schema (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from archive import Archive
from archive.dashboard_db import DashboardDB
from archive.db import make_engine
from archive.migrate import current_revision, head_revision, upgrade
from archive.migrate_cli import main
from archive.schema import TARGET_METADATA, schema_diff
from tests.pgdb import throwaway_pg_database

#: What migrations 0002 (back office), 0003 (portal), 0004 (notifier) and 0005 (clips) added: a database made by create_all before lacks these.
NEW_TABLES = (
    "notice_outbox",
    "ticket_owners",
    "ticket_fine_changes",
    "vehicle_registrations",
    "payment_attempts",
    "payment_callbacks",
    "appeal_requests",
    "notify_deliveries",
    "notify_push_subscriptions",
    "clip_records",
    "recording_segments",
)
NEW_TICKET_COLUMNS = ("original_fine_pkr", "due_ts_ms")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'a.db'}"
    else:
        with throwaway_pg_database("migrate") as url:
            yield url


def _legacy_database(url: str) -> None:
    """The database as create_all made it before migrations: the old tables only, with rows."""
    engine = make_engine(url)
    for md in TARGET_METADATA:
        md.create_all(engine)
    with engine.begin() as c:
        for t in NEW_TABLES:
            c.execute(text(f"DROP TABLE {t}"))
        c.execute(text("DROP INDEX ix_tickets_due_ts_ms"))
        for col in NEW_TICKET_COLUMNS:
            c.execute(text(f"ALTER TABLE tickets DROP COLUMN {col}"))
        c.execute(
            text(
                "INSERT INTO tickets (ticket_id, violation_id, kind, state, camera_id, segment_id, ts_ms, issued_ts_ms,"
                " updated_ts_ms, label, plate, plate_confidence, fine_pkr, track_id, details_json, evidence_missing)"
                " VALUES ('ET-0000-0000-0001', 'v1', 'overspeed', 'approved', 'cam', 'seg', 1, 1, 1, 'car', 'LEA1234',"
                " 0.9, 1500, 3, '[]', 0)"
            )
        )
        c.execute(
            text(
                "INSERT INTO ticket_transitions (ticket_id, seq, from_state, to_state, actor, ts_ms, reason)"
                " VALUES ('ET-0000-0000-0001', 0, NULL, 'issued', 'system', 1, 'violation detected')"
            )
        )
        c.execute(
            text(
                "INSERT INTO dash_users (username, role, password_hash, name, zones_json, disabled, updated_ms,"
                " updated_by) VALUES ('ali', 'operator', 'x', 'Ali', '[]', false, 1, 'admin')"
            )
        )
    assert not inspect(engine).has_table("alembic_version")
    engine.dispose()


def test_a_pre_migration_database_is_adopted_without_losing_rows(db_url: str) -> None:
    _legacy_database(db_url)
    arc = Archive(db_url)  # start the new code on it
    try:
        d = arc.get_ticket("ET-0000-0000-0001")
        assert d is not None and d.ticket.plate == "LEA1234" and d.ticket.fine_pkr == 1500
        assert [t.to_state.value for t in d.transitions] == ["issued"]
        names = set(inspect(arc.engine).get_table_names())
        assert set(NEW_TABLES) <= names
        cols = {c["name"] for c in inspect(arc.engine).get_columns("tickets")}
        assert set(NEW_TICKET_COLUMNS) <= cols
        with arc.engine.connect() as c:
            assert current_revision(c) == head_revision()
            assert c.execute(text("SELECT name FROM dash_users")).scalars().all() == ["Ali"]
        assert schema_diff(arc.engine) == []
    finally:
        arc.close()


def test_migrations_make_exactly_the_models_schema(db_url: str) -> None:
    """A table or column added to the models without a migration fails here."""
    engine = make_engine(db_url)
    try:
        assert upgrade(engine) is True
        assert upgrade(engine) is False  # current: nothing to do
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_the_check_finds_a_model_change_without_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as c:
        c.execute(text("DROP TABLE ticket_fine_changes"))  # as if the models had a table no migration makes
    try:
        assert any("ticket_fine_changes" in str(d) for d in schema_diff(engine))
        assert main(["check", "--archive-url", url]) == 1
    finally:
        engine.dispose()


def test_processes_starting_together_migrate_once(db_url: str) -> None:
    barrier = threading.Barrier(5)
    errors: list[str] = []
    opened: list[object] = []

    def start(i: int) -> None:
        barrier.wait()
        try:
            opened.append(Archive(db_url) if i % 2 else DashboardDB(db_url))
        except Exception as e:  # noqa: BLE001 - collected for the assertion
            errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=start, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for o in opened:
        (o.close if isinstance(o, Archive) else o.dispose)()  # type: ignore[attr-defined]
    assert errors == []
    engine = make_engine(db_url)
    try:
        with engine.connect() as c:
            assert current_revision(c) == head_revision()
            assert c.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        engine.dispose()
