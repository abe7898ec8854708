"""Alembic environment: one connection handed in by :mod:`archive.migrate` (or a URL from the ``alembic`` command)."""

from __future__ import annotations

from alembic import context

from archive.db import make_engine
from archive.schema import TARGET_METADATA

config = context.config


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=list(TARGET_METADATA),
        render_as_batch=True,  # SQLite cannot ALTER most things: batch mode copies the table
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


conn = config.attributes.get("connection")
if conn is not None:
    _run(conn)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as c:
        _run(c)
    engine.dispose()
