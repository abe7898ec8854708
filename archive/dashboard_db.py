"""The dashboard's own SQL tables: users, login sessions, failed logins, traffic updates.

They are storage, so they live here (the incidents service reads the users table for the
wardens' run-time zones, see :mod:`archive.users`), in the archive database (``archive.url``, else ``$ARCHIVE_URL``, else
``sqlite:///var/archive.db`` under the repository root), next to the incidents and
tickets tables, with a ``dash_`` prefix and their own metadata, so SQLite and PostgreSQL
both work and the two schemas never collide. The migrations (:mod:`archive.migrate`) create
both on first use.

Login state is kept in SQL, not Redis, so operators stay signed in (and see "Redis
unreachable") while Redis is down, and so the websocket server can check the same
sessions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import BigInteger, Boolean, Integer, String, Text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from archive.db import make_engine
from archive.migrate import upgrade


class Base(DeclarativeBase):
    """Metadata of the dashboard's tables (separate from the archive's)."""


class UserRow(Base):
    """A user created or edited by an admin; overrides the config entry of the same name."""

    __tablename__ = "dash_users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(128), default="")
    zones_json: Mapped[str] = mapped_column(Text, default="[]")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_by: Mapped[str] = mapped_column(String(64), default="")

    @property
    def zones(self) -> tuple[str, ...]:
        return tuple(str(z) for z in json.loads(self.zones_json or "[]"))


class SessionRow(Base):
    """A login session; the browser holds the token, the table holds its SHA-256."""

    __tablename__ = "dash_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    zones_json: Mapped[str] = mapped_column(Text, default="[]")
    csrf: Mapped[str] = mapped_column(String(64))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    address: Mapped[str] = mapped_column(String(64), default="")


class LoginFailureRow(Base):
    """One failed login (kept for the per-user-and-address limit, then purged)."""

    __tablename__ = "dash_login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64))
    ts_ms: Mapped[int] = mapped_column(BigInteger, index=True)


class TrafficUpdateRow(Base):
    """A public traffic update written by an operator (published or draft)."""

    __tablename__ = "dash_traffic_updates"

    update_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    title_ur: Mapped[str] = mapped_column(String(200), default="")
    body_ur: Mapped[str] = mapped_column(Text, default="")
    segment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    ts_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    author: Mapped[str] = mapped_column(String(64))


class DashboardDB:
    """Engine and sessions for the dashboard tables.

    Args:
        url: SQLAlchemy URL (see :func:`archive.db.archive_url`).
        create: Migrate the database to the newest schema now (archive and dashboard tables).
    """

    def __init__(self, url: str, create: bool = True) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if create:
            upgrade(self.engine)  # the dashboard and its live server start together: locked, see archive.migrate

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A SQL session committed on success, rolled back on error."""
        with self._sessions() as s, s.begin():
            yield s

    def dispose(self) -> None:
        self.engine.dispose()
