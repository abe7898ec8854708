"""Table creation that several processes may run at the same moment (SQLite or PostgreSQL)."""

from __future__ import annotations

import time

from sqlalchemy import MetaData
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError


def create_tables(metadata: MetaData, engine: Engine, attempts: int = 5) -> None:
    """Create the missing tables of ``metadata``.

    ``create_all`` checks for each table and then creates it; when two processes start on a new
    database together (the dashboard and its live server, two workers), the second one's CREATE
    can land after the first one's and fail with "table ... already exists". The check is then
    simply run again: the tables are there.

    Raises:
        OperationalError / ProgrammingError / IntegrityError: still failing after ``attempts`` tries.
    """
    for i in range(attempts):
        try:
            metadata.create_all(engine)
            return
        except (OperationalError, ProgrammingError, IntegrityError):
            if i == attempts - 1:
                raise
            time.sleep(0.2 * (i + 1))
