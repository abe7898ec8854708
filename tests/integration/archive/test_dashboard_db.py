"""The dashboard's SQL tables (users, sessions, failed logins, traffic updates) on SQLite and PostgreSQL.

PostgreSQL: a throw-away database on ``$TEST_PG_URL`` (default
``postgresql+psycopg2://postgres@127.0.0.1:5432/test``); skipped with the reason when it
is not reachable. Cheap argon2 parameters keep the hashing fast.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from archive.dashboard_db import DashboardDB
from config.settings import UserConfig, load_config
from dashboard import updates
from dashboard.users import UserDirectory
from tests.pgdb import throwaway_pg_database

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DashboardDB]:
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'dash.db'}"
        else:
            url = stack.enter_context(throwaway_pg_database("safecity_dash"))
        d = DashboardDB(url)
        try:
            yield d
        finally:
            d.dispose()


def test_users_sessions_and_lockout(db: DashboardDB) -> None:
    cfg = load_config()
    cfg = cfg.model_copy(
        update={"users": (UserConfig(username="op", role="operator", password_hash=CHEAP.hash("operator password")),)}
    )
    users = UserDirectory(cfg, db, hasher=CHEAP)
    op = users.authenticate("op", "operator password", "10.0.0.1")
    assert op is not None and op.source == "config"
    token, sess = users.start_session(op, "10.0.0.1")
    assert users.session(token) == sess  # 13-digit millisecond times fit (BIGINT on PostgreSQL)
    users.save("op", "w9", "warden", "Warden Nine", ["gt-rd", "ring-rd"], "warden nine password")
    w9 = users.authenticate("w9", "warden nine password")
    assert w9 is not None and w9.zones == ("gt-rd", "ring-rd") and users.wardens_for("gt-rd")[-1] == "w9"
    _, s9 = users.start_session(w9)
    assert s9.zones == ("gt-rd", "ring-rd")
    assert users.end_sessions("w9") == 1
    for _ in range(cfg.dashboard.login_attempts):
        assert users.authenticate("w9", "wrong", "10.0.0.9") is None
    assert users.failures("w9", "10.0.0.9") == cfg.dashboard.login_attempts
    assert users.authenticate("w9", "warden nine password", "10.0.0.9") is None


def test_traffic_updates_round_trip(db: DashboardDB) -> None:
    cfg = load_config()
    up = updates.save(cfg, db, None, "op", updates.UpdateDraft("GT Road", "slow", "جی ٹی روڈ", "سست", "gt-rd", False))
    assert updates.list_updates(db, published_only=True) == []
    again = updates.save(
        cfg,
        db,
        None,
        "op",
        updates.UpdateDraft("GT Road", "slow again", "جی ٹی روڈ", "سست", "gt-rd", True),
        up.update_id,
    )
    assert again.update_id == up.update_id and again.published
    listed = updates.list_updates(db, published_only=True)
    assert [u.update_id for u in listed] == [up.update_id] and listed[0].title_ur == "جی ٹی روڈ"
    with pytest.raises(updates.UpdateError, match="no update"):
        updates.save(cfg, db, None, "op", updates.UpdateDraft("x"), "tu-missing")
