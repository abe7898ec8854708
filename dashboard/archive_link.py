"""Open the incidents/e-tickets archive (the ``archive`` package) when it is installed.

The dashboard reads tickets and incident history through the archive's repository
(``list_tickets``, ``get_ticket``, ``transition``, ``list_incidents``,
``incident_action``, ``evidence_path``, ``export_csv``). Without the package the
ticket pages say so, and the incident feed falls back to the Redis streams.
"""

from __future__ import annotations

import logging
from typing import Any

from archive.db import archive_url
from config.settings import AppConfig, resolve_path

log = logging.getLogger("dashboard.archive")


def open_archive(cfg: AppConfig, db_url: str | None = None) -> Any:
    """An ``archive.Archive`` on the configured database, or None when unavailable."""
    try:
        from archive import Archive
    except ImportError:
        log.info("archive package not installed: ticket review and incident history are unavailable")
        return None
    url = db_url or archive_url(cfg)
    try:
        from storage import open_store

        return Archive(url, resolve_path(cfg.archive.evidence_dir), store=open_store(cfg))
    except Exception as e:  # noqa: BLE001 - a broken database must not stop the live pages
        log.error("cannot open the archive at %s: %s", url.split("@")[-1], e)
        return None
