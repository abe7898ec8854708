"""Incidents: the incident aggregate (an incident and the actions taken on it) in SQL.

An incident is keyed by its id (writes are idempotent); operators acknowledge, assign,
close or reopen it and the escalation timer escalates it, each action recorded with who
and when. The rules are :mod:`core.incidents`'s, so the SQL view and the folded stream agree.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.database import Database
from archive.errors import IncidentNotFound
from archive.models import IncidentActionRecord, IncidentRecord
from archive.paging import page
from core.incidents import STATE_AFTER, IncidentView, next_state, validate_action
from core.types import Incident, IncidentKind, IncidentUpdate, Priority


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
        conds: list[ColumnElement[bool]] = []
        if states:
            conds.append(IncidentRecord.state.in_(list(states)))
        if kinds:
            conds.append(IncidentRecord.kind.in_([IncidentKind(k).value for k in kinds]))
        if segment_id:
            conds.append(IncidentRecord.segment_id == segment_id)
        if since_ms is not None:
            conds.append(IncidentRecord.ts_ms >= since_ms)
        order = (IncidentRecord.ts_ms.desc(), IncidentRecord.incident_id)
        with self._db.session() as s:
            rows, total = page(s, IncidentRecord, conds, order, offset, limit)
            return [_incident_view(s, r) for r in rows], total

    def incident_action(
        self, incident_id: str, action: str, actor: str, note: str = "", assignee: str | None = None
    ) -> IncidentView:
        """Acknowledge, assign, close, escalate or reopen an incident, recording who and when.

        The rules are :mod:`core.incidents` (:func:`~core.incidents.validate_action`,
        :func:`~core.incidents.next_state`).

        Raises:
            IncidentNotFound: no such incident.
            InvalidAction: unknown action, missing assignee/actor, a note or assignee too long;
                ``core.incidents.ActionNotAllowed`` (a subclass) when the current state does not allow it.
        """
        validate_action(action, actor, note, assignee)
        assignee = assignee.strip() if assignee else None
        with self._db.session() as s:
            r = s.scalars(
                select(IncidentRecord).where(IncidentRecord.incident_id == incident_id).with_for_update()
            ).first()
            if r is None:
                raise IncidentNotFound(incident_id)
            state = next_state(r.state, action)
            now = self._db.clock()
            r.state, r.updated_ts_ms = state, now
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
    history: tuple[IncidentUpdate, ...] = ()
    if with_actions:
        history = tuple(
            IncidentUpdate(r.incident_id, a.action, a.actor, a.ts_ms, a.note, a.assignee, STATE_AFTER[a.action])
            for a in s.scalars(
                select(IncidentActionRecord)
                .where(IncidentActionRecord.incident_id == r.incident_id)
                .order_by(IncidentActionRecord.id)
            )
        )
    incident = Incident(
        incident_id=r.incident_id,
        kind=IncidentKind(r.kind),
        priority=Priority(r.priority),
        ts_ms=r.ts_ms,
        camera_id=r.camera_id,
        segment_id=r.segment_id,
        location=(r.lat, r.lon) if r.lat is not None and r.lon is not None else None,
        track_id=r.track_id,
        plate=r.plate,
        summary=r.summary,
        evidence=tuple(json.loads(r.evidence_json or "[]")),
        details=tuple((str(k), str(v)) for k, v in json.loads(r.details_json or "[]")),
    )
    return IncidentView(incident, r.state, r.assignee, history, r.updated_ts_ms)


__all__ = ["IncidentRepository"]
