"""Public traffic updates: operators write, edit and publish them; everyone reads the published ones.

Kept in SQL (``dash_traffic_updates``); every save is also published on the
``traffic.update`` stream, which the websocket server pushes to the public (published
ones) and the control room (drafts too). Texts are checked for length; Urdu fields are
optional (the public page falls back to English).
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from archive.dashboard_db import DashboardDB, TrafficUpdateRow
from bus.streams import EventBus
from config.settings import AppConfig
from core.clock import now_ms
from core.types import TrafficUpdate

MAX_TITLE = 120
MAX_BODY = 1000


class UpdateError(ValueError):
    """An update that cannot be saved (the message says why)."""


@dataclass(frozen=True, slots=True)
class UpdateDraft:
    """What an operator typed."""

    title: str
    body: str = ""
    title_ur: str = ""
    body_ur: str = ""
    segment_id: str | None = None
    published: bool = False


def _row_to_update(row: TrafficUpdateRow) -> TrafficUpdate:
    return TrafficUpdate(
        update_id=row.update_id,
        title=row.title,
        body=row.body,
        ts_ms=row.ts_ms,
        author=row.author,
        body_ur=row.body_ur,
        segment_id=row.segment_id,
        published=bool(row.published),
        title_ur=row.title_ur,
    )


def validate(cfg: AppConfig, draft: UpdateDraft) -> UpdateDraft:
    """Trimmed draft, or :class:`UpdateError`."""
    title = (draft.title or "").strip()
    if not title:
        raise UpdateError("title is required")
    if len(title) > MAX_TITLE or len(draft.title_ur or "") > MAX_TITLE:
        raise UpdateError(f"title too long (max {MAX_TITLE} characters)")
    if len(draft.body or "") > MAX_BODY or len(draft.body_ur or "") > MAX_BODY:
        raise UpdateError(f"text too long (max {MAX_BODY} characters)")
    seg = draft.segment_id or None
    if seg is not None and seg not in {s.id for s in cfg.segments}:
        raise UpdateError(f"unknown road segment {seg!r}")
    return UpdateDraft(
        title,
        (draft.body or "").strip(),
        (draft.title_ur or "").strip(),
        (draft.body_ur or "").strip(),
        seg,
        bool(draft.published),
    )


def save(
    cfg: AppConfig, db: DashboardDB, bus: EventBus | None, actor: str, draft: UpdateDraft, update_id: str | None = None
) -> TrafficUpdate:
    """Create (``update_id`` None) or edit an update, then announce it on ``traffic.update``.

    Raises:
        UpdateError: invalid text or segment, or an unknown ``update_id``.
    """
    d = validate(cfg, draft)
    now = now_ms()
    with db.session() as s:
        if update_id is None:
            row = TrafficUpdateRow(update_id="tu-" + secrets.token_hex(6), created_ms=now)
            s.add(row)
        else:
            found = s.get(TrafficUpdateRow, update_id)
            if found is None:
                raise UpdateError(f"no update {update_id!r}")
            row = found
        row.title, row.body, row.title_ur, row.body_ur = d.title, d.body, d.title_ur, d.body_ur
        row.segment_id, row.published, row.ts_ms, row.author = d.segment_id, d.published, now, actor
        up = _row_to_update(row)
    if bus is not None:
        # Redis down: saved anyway; the pages read SQL and the push resumes with the next save.
        with contextlib.suppress(Exception):
            bus.publish(up)
    return up


def get(db: DashboardDB, update_id: str) -> TrafficUpdate | None:
    with db.session() as s:
        row = s.get(TrafficUpdateRow, update_id)
        return None if row is None else _row_to_update(row)


def list_updates(db: DashboardDB, published_only: bool, limit: int = 50) -> list[TrafficUpdate]:
    """Updates, newest change first (only published ones when ``published_only``)."""
    q = select(TrafficUpdateRow).order_by(TrafficUpdateRow.ts_ms.desc()).limit(limit)
    if published_only:
        q = q.where(TrafficUpdateRow.published.is_(True))
    with db.session() as s:
        return [_row_to_update(r) for r in s.scalars(q)]
