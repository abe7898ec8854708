"""Owners in SQL: the register table ``vehicle_registrations`` and each ticket's looked-up owner (``ticket_owners``).

:class:`SqlOwnerRegister` is the SQL-table implementation of :class:`core.owners.OwnerRegister` (the demo
seeds it, :mod:`sim.registrations`); :class:`TicketOwners` keeps what a lookup found for a ticket, which
the notices use for their addresses. Lookups are audited in the plate-search audit log with
``source="owner"`` (:meth:`archive.sightings.SightingRepository.audit`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, exists, func, or_, select

from archive.database import Database
from archive.models import TicketRecord
from archive.models_backoffice import TicketOwnerRecord, VehicleRegistrationRecord
from core.anpr import normalise_plate_text
from core.owners import OwnerRecord

#: ``source`` of owner lookups in the audit log (``plate_search_audit``).
AUDIT_SOURCE = "owner"


class SqlOwnerRegister:
    """The register as a SQL table (``vehicle_registrations``).

    Args:
        db: The archive database.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def lookup(self, plate: str) -> OwnerRecord | None:
        """The owner of ``plate`` (normalised first), or None."""
        with self._db.session() as s:
            r = s.get(VehicleRegistrationRecord, normalise_plate_text(plate))
            if r is None:
                return None
            return OwnerRecord(r.plate, r.owner_name, r.cnic_masked, r.address, r.phone, r.email, r.make, r.colour)

    def upsert(self, records: Iterable[OwnerRecord]) -> int:
        """Insert or replace registrations; returns how many were written.

        ``records`` is read to the end before the transaction opens: a slow generator (the demo seed
        simulates minutes of traffic) must not hold the database's write lock while it runs.
        """
        records = list(records)
        n = 0
        now = self._db.clock()
        with self._db.session() as s:
            for o in records:
                plate = normalise_plate_text(o.plate)
                r = s.get(VehicleRegistrationRecord, plate) or VehicleRegistrationRecord(plate=plate)
                r.owner_name, r.cnic_masked, r.address = o.name, o.cnic_masked, o.address
                r.phone, r.email, r.make, r.colour, r.updated_ms = o.phone, o.email, o.make, o.colour, now
                s.add(r)
                n += 1
        return n

    def count(self) -> int:
        with self._db.session() as s:
            return int(s.scalar(select(func.count()).select_from(VehicleRegistrationRecord)) or 0)


class TicketOwners:
    """What the owner lookup found for each ticket.

    Args:
        db: The archive database.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, ticket_id: str, owner: OwnerRecord | None, source: str) -> None:
        """Record the lookup result of a ticket (None: nobody registered); replaces an earlier one."""
        with self._db.session() as s:
            r = s.get(TicketOwnerRecord, ticket_id) or TicketOwnerRecord(ticket_id=ticket_id)
            o = owner or OwnerRecord("", "")
            r.found, r.source, r.looked_up_ms = owner is not None, source, self._db.clock()
            r.owner_name, r.cnic_masked, r.address = o.name, o.cnic_masked, o.address
            r.phone, r.email, r.make, r.colour = o.phone, o.email, o.make, o.colour
            s.add(r)

    def get(self, ticket_id: str) -> tuple[bool, OwnerRecord | None, int] | None:
        """``(found, owner or None, looked-up time)`` of a ticket, or None when never looked up."""
        with self._db.session() as s:
            r = s.get(TicketOwnerRecord, ticket_id)
            if r is None:
                return None
            owner = (
                OwnerRecord("", r.owner_name, r.cnic_masked, r.address, r.phone, r.email, r.make, r.colour, r.source)
                if r.found
                else None
            )
            return r.found, owner, r.looked_up_ms

    def recheck_due(self, looked_up_before_ms: int, limit: int) -> list[tuple[str, str]]:
        """``(ticket_id, plate)`` of ``owner_unknown`` tickets to look up again, oldest lookup first.

        Due: the last lookup was before ``looked_up_before_ms`` (the periodic re-lookup), or the SQL
        register has gained (or changed) the plate's registration since that lookup, or the ticket was
        never looked up (moved to ``owner_unknown`` by hand).
        """
        gained = exists().where(
            and_(
                VehicleRegistrationRecord.plate == TicketRecord.plate,
                VehicleRegistrationRecord.updated_ms > TicketOwnerRecord.looked_up_ms,
            )
        )
        q = (
            select(TicketRecord.ticket_id, TicketRecord.plate)
            .outerjoin(TicketOwnerRecord, TicketOwnerRecord.ticket_id == TicketRecord.ticket_id)
            .where(TicketRecord.state == "owner_unknown")
            .where(
                or_(
                    TicketOwnerRecord.ticket_id.is_(None),
                    TicketOwnerRecord.looked_up_ms < looked_up_before_ms,
                    gained,
                )
            )
            .order_by(func.coalesce(TicketOwnerRecord.looked_up_ms, 0), TicketRecord.ticket_id)
            .limit(limit)
        )
        with self._db.session() as s:
            return [(str(t), str(p or "")) for t, p in s.execute(q).all()]


__all__ = ["AUDIT_SOURCE", "SqlOwnerRegister", "TicketOwners"]
