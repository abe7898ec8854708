"""What the archive raises: unknown tickets and incidents, bad evidence, refused changes.

:class:`InvalidTransition` (tickets) and :class:`InvalidAction` (incidents) are the
domain's own, from :mod:`core.tickets` and :mod:`core.incidents`; re-exported here.
"""

from __future__ import annotations

from core.incidents import InvalidAction
from core.tickets import InvalidTransition


class TicketNotFound(KeyError):
    """No ticket with that number."""


class IncidentNotFound(KeyError):
    """No incident with that id."""


class EvidenceError(ValueError):
    """Evidence bytes that do not match their SHA-256, or a malformed id."""


__all__ = ["EvidenceError", "IncidentNotFound", "InvalidAction", "InvalidTransition", "TicketNotFound"]
