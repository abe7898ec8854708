"""People: dashboard logins, traffic wardens and how their alerts escalate."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from config.base import ConfigModel


class UserConfig(ConfigModel):
    """A person who logs in to the dashboard. Admin edits in SQL override these entries.

    ``password_hash`` is an argon2id (or bcrypt) hash, never a password:
    ``python -m dashboard.users hash`` makes one.
    """

    username: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    role: Literal["operator", "warden", "admin"]
    password_hash: str = Field(description="argon2id or bcrypt hash; plain passwords are refused.")
    name: str = ""
    zones: tuple[str, ...] = Field((), description="Warden: road segment ids they answer for.")

    @field_validator("password_hash")
    @classmethod
    def _hashed(cls, v: str) -> str:
        if not v.startswith(("$argon2id$", "$argon2i$", "$2b$", "$2a$", "$2y$")):
            raise ValueError(
                "must be an argon2id or bcrypt hash (python -m dashboard.users hash), never a plain password"
            )
        return v


class WardenConfig(ConfigModel):
    """A traffic warden and the road segments (zones) they answer for."""

    username: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    name: str
    segments: tuple[str, ...] = ()


class AlertsConfig(ConfigModel):
    escalate_after_s: float = Field(
        120.0, gt=0, le=86_400, description="Unacknowledged alerts go to the control room after this."
    )
    control_room: str = Field("control-room", description="Name of the control-room push channel/role.")


__all__ = [
    "AlertsConfig",
    "UserConfig",
    "WardenConfig",
]
