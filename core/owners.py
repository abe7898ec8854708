"""Vehicle owners from the registration register: the record, CNIC masking, the register interface. Pure.

An owner is personal data: it is looked up on the operator side only (the notices service), stored
with the ticket in the archive, and never published on a public feed or the citizen portal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

_CNIC_DIGITS = re.compile(r"\D")


class RegisterError(RuntimeError):
    """The register could not answer (down, timed out, refused): try again later, the ticket waits."""


def mask_cnic(cnic: str) -> str:
    """A CNIC (13 digits, ``12345-1234567-1``) with all but the last four digits hidden: ``*****-****567-1``.

    Anything that is not 13 digits is masked completely (``*``, same length), so a malformed number
    never leaks either.
    """
    digits = _CNIC_DIGITS.sub("", cnic)
    if len(digits) != 13:
        return "*" * len(cnic.strip())
    shown = "*" * 9 + digits[9:]
    return f"{shown[:5]}-{shown[5:12]}-{shown[12]}"


@dataclass(frozen=True, slots=True)
class OwnerRecord:
    """The registered owner of a vehicle, as a register returns it (CNIC already masked).

    Attributes:
        plate: Normalised plate text.
        name: Owner's name.
        cnic_masked: National identity card number, masked (:func:`mask_cnic`).
        address: Postal address.
        phone: Mobile number for SMS (E.164 or local), "" when none.
        email: E-mail address, "" when none.
        make: Vehicle make/model as registered.
        colour: Vehicle colour as registered.
        source: Which register answered (``sql``, ``http``).
    """

    plate: str
    name: str
    cnic_masked: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    make: str = ""
    colour: str = ""
    source: str = "sql"


class OwnerRegister(Protocol):
    """A vehicle registration register: plate -> owner."""

    def lookup(self, plate: str) -> OwnerRecord | None:
        """The owner of ``plate``, or None when the register has no such vehicle.

        Raises:
            RegisterError: the register could not answer now.
        """
        ...


__all__ = ["OwnerRecord", "OwnerRegister", "RegisterError", "mask_cnic"]
