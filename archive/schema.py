"""Every SQL table of the one database, as the migrations must produce them.

The archive's tables (:mod:`archive.models`, :mod:`archive.models_backoffice`) and the dashboard's
``dash_`` tables (:mod:`archive.dashboard_db`) have separate metadata; the migrations
(``archive/migrations``) create both, and a test checks that they agree with these models.
"""

from __future__ import annotations

from sqlalchemy import MetaData

import archive.models_backoffice  # noqa: F401 - registers the back-office tables on archive.models.Base
from archive.dashboard_db import Base as DashboardBase
from archive.models import Base as ArchiveBase

TARGET_METADATA: tuple[MetaData, ...] = (ArchiveBase.metadata, DashboardBase.metadata)

__all__ = ["TARGET_METADATA"]
