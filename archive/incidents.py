"""Incidents: the incident aggregate (incident and the actions taken on it) in SQL.

An incident is keyed by its id (writes are idempotent); operators acknowledge, assign,
close, escalate or reopen it, each action recorded with who and when.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.database import Database
from archive.errors import IncidentNotFound, InvalidAction
from archive.models import IncidentActionRecord, IncidentRecord
from archive.views import IncidentView
from core.types import Incident, IncidentKind

INCIDENT_STATES = ("open", "acknowledged", "assigned", "escalated", "closed")

IncidentAction = Literal["ack", "assign", "close", "escalate", "reopen"]

_ACTION_STATE = {
    "ack": "acknowledged",
    "assign": "assigned",
    "close": "closed",
    "escalate": "escalated",
    "reopen": "open",
}

_ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "ack": ("open", "escalated", "assigned"),
    "assign": ("open", "acknowledged", "escalated", "assigned"),
    "close": ("open", "acknowledged", "assigned", "escalated"),
    "escalate": ("open",),
    "reopen": ("closed",),
}


class IncidentRepository:
    """Incidents in the archive database.

    Args:
        db: The archive database.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_incident(self, incident: Incident) -> bool:
        """Archive an incident; False when it is already there (idempotent)."""
        now = self._db.clock()
        lat, lon = incident.location if incident.location else (None, None)
        try:
            with self._db.session() as s:
                if s.get(IncidentRecord, incident.incident_id) is not None:
                    return False
                s.add(
                    IncidentRecord(
                        incident_id=incident.incident_id,
                        kind=incident.kind.value,
                        priority=incident.priority.value,
                        state="open",
                        ts_ms=incident.ts_ms,
                        updated_ts_ms=now,
                        camera_id=incident.camera_id,
                        segment_id=incident.segment_id,
                        lat=lat,
                        lon=lon,
                        track_id=incident.track_id,
                        plate=incident.plate,
                        summary=incident.summary,
                        details_json=json.dumps([list(d) for d in incident.details]),
                        evidence_json=json.dumps(list(incident.evidence)),
                    )
                )
        except IntegrityError:
            return False
        return True

    def get_incident(self, incident_id: str) -> IncidentView | None:
        """An incident with its action history, or None."""
        with self._db.session() as s:
            r = s.get(IncidentRecord, incident_id)
            return None if r is None else _incident_view(s, r, with_actions=True)

    def list_incidents(
        self,
        states: Sequence[str] = (),
        kinds: Sequence[str] = (),
        segment_id: str | None = None,
        since_ms: int | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[IncidentView], int]:
        """A page of incidents, newest first (critical ones first at equal time), and the total."""
        q = select(IncidentRecord)
        c = select(func.count()).select_from(IncidentRecord)
        conds: list[ColumnElement[bool]] = []
        if states:
            conds.append(IncidentRecord.state.in_(list(states)))
        if kinds:
            conds.append(IncidentRecord.kind.in_([IncidentKind(k).value for k in kinds]))
        if segment_id:
            conds.append(IncidentRecord.segment_id == segment_id)
        if since_ms is not None:
            conds.append(IncidentRecord.ts_ms >= since_ms)
        for cond in conds:
            q, c = q.where(cond), c.where(cond)
        with self._db.session() as s:
            total = int(s.scalar(c) or 0)
            rows = s.scalars(
                q.order_by(IncidentRecord.ts_ms.desc(), IncidentRecord.incident_id).offset(offset).limit(limit)
            ).all()
            return [_incident_view(s, r) for r in rows], total

    def incident_action(
        self, incident_id: str, action: str, actor: str, note: str = "", assignee: str | None = None
    ) -> IncidentView:
        """Acknowledge, assign, close, escalate or reopen an incident, recording who and when.

        Raises:
            IncidentNotFound: no such incident.
            InvalidAction: unknown action, missing assignee/actor, or not allowed in the current state.
        """
        if action not in _ACTION_STATE:
            raise InvalidAction(f"unknown action {action!r}; use one of {', '.join(_ACTION_STATE)}")
        if not actor or not actor.strip():
            raise InvalidAction("an action needs an actor")
        if action == "assign" and not (assignee and assignee.strip()):
            raise InvalidAction("assign needs an assignee")
        with self._db.session() as s:
            r = s.scalars(
                select(IncidentRecord).where(IncidentRecord.incident_id == incident_id).with_for_update()
            ).first()
            if r is None:
                raise IncidentNotFound(incident_id)
            if r.state not in _ALLOWED_FROM[action]:
                raise InvalidAction(f"incident is {r.state}; cannot {action} it")
            now = self._db.clock()
            r.state, r.updated_ts_ms = _ACTION_STATE[action], now
            if action == "assign":
                r.assignee = assignee
            s.add(
                IncidentActionRecord(
                    incident_id=incident_id, action=action, actor=actor.strip(), ts_ms=now, note=note, assignee=assignee
                )
            )
            s.flush()
            return _incident_view(s, r, with_actions=True)

    def count_incidents(self, kind: str | None = None) -> int:
        """Number of archived incidents (of one kind when given)."""
        with self._db.session() as s:
            q = select(func.count()).select_from(IncidentRecord)
            if kind:
                q = q.where(IncidentRecord.kind == kind)
            return int(s.scalar(q) or 0)


def _incident_view(s: Session, r: IncidentRecord, with_actions: bool = False) -> IncidentView:
    """An incident row as a view; with its action history when ``with_actions``."""
    actions: tuple[dict[str, Any], ...] = ()
    if with_actions:
        actions = tuple(
            {"action": a.action, "actor": a.actor, "ts_ms": a.ts_ms, "note": a.note, "assignee": a.assignee}
            for a in s.scalars(
                select(IncidentActionRecord)
                .where(IncidentActionRecord.incident_id == r.incident_id)
                .order_by(IncidentActionRecord.id)
            )
        )
    return IncidentView(
        incident_id=r.incident_id,
        kind=r.kind,
        priority=r.priority,
        state=r.state,
        ts_ms=r.ts_ms,
        updated_ts_ms=r.updated_ts_ms,
        camera_id=r.camera_id,
        segment_id=r.segment_id,
        location=(r.lat, r.lon) if r.lat is not None and r.lon is not None else None,
        track_id=r.track_id,
        plate=r.plate,
        summary=r.summary,
        details=tuple((str(k), str(v)) for k, v in json.loads(r.details_json or "[]")),
        evidence=tuple(json.loads(r.evidence_json or "[]")),
        assignee=r.assignee,
        actions=actions,
    )


__all__ = ["INCIDENT_STATES", "IncidentAction", "IncidentRepository"]
