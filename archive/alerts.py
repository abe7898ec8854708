"""Warden alerts: who was alerted about an incident, by when, and who acknowledged it."""

from __future__ import annotations

import json
from typing import Any

from archive.database import Database
from archive.models import AlertRecord
from core.types import WardenAlert


class AlertRepository:
    """Warden alerts in the archive database.

    Args:
        db: The archive database.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def save_alert(self, alert: WardenAlert) -> None:
        """Insert or update a warden alert."""
        with self._db.session() as s:
            r = s.get(AlertRecord, alert.alert_id)
            if r is None:
                r = AlertRecord(alert_id=alert.alert_id)
                s.add(r)
            r.incident_id, r.segment_id = alert.incident_id, alert.segment_id
            r.wardens_json = json.dumps(list(alert.wardens))
            r.ts_ms, r.deadline_ms, r.escalated = alert.ts_ms, alert.deadline_ms, alert.escalated
            r.acked_by, r.acked_ts_ms = alert.acked_by, alert.acked_ts_ms
            r.kind, r.priority, r.summary = alert.kind.value, alert.priority.value, alert.summary

    def get_alert(self, alert_id: str) -> dict[str, Any] | None:
        """A warden alert as a dict, or None."""
        with self._db.session() as s:
            r = s.get(AlertRecord, alert_id)
            if r is None:
                return None
            return {
                "alert_id": r.alert_id,
                "incident_id": r.incident_id,
                "segment_id": r.segment_id,
                "wardens": json.loads(r.wardens_json),
                "ts_ms": r.ts_ms,
                "deadline_ms": r.deadline_ms,
                "escalated": r.escalated,
                "acked_by": r.acked_by,
                "acked_ts_ms": r.acked_ts_ms,
                "kind": r.kind,
                "priority": r.priority,
                "summary": r.summary,
            }


__all__ = ["AlertRepository"]
