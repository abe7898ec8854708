"""What the archive raises: unknown tickets and incidents, refused actions, bad evidence."""

from __future__ import annotations

from core.tickets import InvalidTransition


class TicketNotFound(KeyError):
    """No ticket with that number."""


class IncidentNotFound(KeyError):
    """No incident with that id."""


class InvalidAction(ValueError):
    """An incident action that is not allowed (the message says why)."""


class EvidenceError(ValueError):
    """Evidence bytes that do not match their SHA-256, or a malformed id."""


__all__ = ["EvidenceError", "IncidentNotFound", "InvalidAction", "InvalidTransition", "TicketNotFound"]
