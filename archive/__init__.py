"""Durable archive of incidents, e-tickets, warden alerts and evidence (SQLAlchemy: SQLite or PostgreSQL)."""

from archive.repository import (
    Archive,
    EvidenceError,
    EvidenceItem,
    IncidentNotFound,
    IncidentView,
    InvalidAction,
    InvalidTransition,
    TicketDetail,
    TicketFilter,
    TicketNotFound,
    TicketRow,
    archive_url,
)

__all__ = [
    "Archive",
    "EvidenceError",
    "EvidenceItem",
    "IncidentNotFound",
    "IncidentView",
    "InvalidAction",
    "InvalidTransition",
    "TicketDetail",
    "TicketFilter",
    "TicketNotFound",
    "TicketRow",
    "archive_url",
]
