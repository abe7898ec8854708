"""``ticket.updated``: announce a ticket's latest state change on the bus (best effort: SQL has it).

Everything that moves a ticket (the tickets page and API, the citizen portal, the notices service)
announces the change the same way, so the live feed shows every transition, whoever made it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bus.streams import EventBus
from core.types import ETicket, TicketTransition, TicketUpdate

log = logging.getLogger("bus.ticket_updates")


def update_of(ticket: ETicket, last: TicketTransition, reason: str | None = None) -> TicketUpdate:
    """The ``ticket.updated`` event of one recorded transition of ``ticket`` (``reason``: a shorter one to show)."""
    why = last.reason if reason is None else reason
    return TicketUpdate(ticket.ticket_id, last.from_state, last.to_state, last.actor, last.ts_ms, why, ticket.camera_id)


def announce_last(
    bus: EventBus | None, ticket: ETicket, transitions: Sequence[TicketTransition], reason: str | None = None
) -> bool:
    """Publish the last of ``transitions`` on ``ticket.updated`` (``reason`` replaces the recorded one).

    Returns:
        True when published; False (logged) with no bus, no transition, or Redis unreachable: the
        archive has the change, only the live feed misses it.
    """
    if bus is None or not transitions:
        return False
    try:
        bus.publish(update_of(ticket, transitions[-1], reason))
    except Exception as e:  # noqa: BLE001 - SQL has it; the live feed is best effort
        log.warning("ticket %s: update not announced: %s", ticket.ticket_id, e)
        return False
    return True


__all__ = ["announce_last", "update_of"]
