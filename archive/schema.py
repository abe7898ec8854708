"""Every SQL table of the one database, as the migrations must produce them.

The archive's tables (:mod:`archive.models`, :mod:`archive.models_backoffice`) and the dashboard's
``dash_`` tables (:mod:`archive.dashboard_db`) have separate metadata; the migrations
(``archive/migrations``) create both, and :func:`schema_diff` says where a database and these
models disagree (``python -m archive.migrate_cli check``; a test checks that the migrations make them agree).
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine

import archive.models_backoffice  # noqa: F401 - registers the back-office tables on archive.models.Base
from archive.dashboard_db import Base as DashboardBase
from archive.models import Base as ArchiveBase

TARGET_METADATA: tuple[MetaData, ...] = (ArchiveBase.metadata, DashboardBase.metadata)


def schema_diff(engine: Engine) -> list[object]:
    """What differs between the models and the database (empty when the migrations made the models' schema)."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        # Alembic compares a sequence of MetaData (as env.py's target_metadata); its hint names only one.
        return list(compare_metadata(ctx, list(TARGET_METADATA)))  # type: ignore[arg-type]


__all__ = ["TARGET_METADATA", "schema_diff"]
