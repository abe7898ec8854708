"""Who the users are: the config's ``users:`` with an admin's SQL edits (``dash_users``) on top.

A SQL row overrides the config entry of the same name (role, zones, disabled, password
hash), so an admin can change a demo user or disable it. A warden's zones are road segment
ids: ``zones`` of the user, else the ``segments`` of the matching ``wardens:`` entry.

Read by the dashboard (:class:`dashboard.users.UserDirectory` adds logins, sessions and
edits) and by the incidents service, which routes alerts with :meth:`UserStore.warden_roster`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select

from archive.dashboard_db import DashboardDB, UserRow
from config.settings import AppConfig

Role = Literal["operator", "warden", "admin"]
ROLES: tuple[Role, ...] = ("operator", "warden", "admin")


@dataclass(frozen=True, slots=True)
class User:
    """A dashboard user.

    Attributes:
        username: Login name.
        role: ``operator``, ``warden`` or ``admin``.
        name: Display name.
        zones: Road segment ids a warden answers for.
        disabled: Cannot log in.
        source: ``config`` (as in the YAML) or ``sql`` (edited by an admin).
    """

    username: str
    role: Role
    name: str = ""
    zones: tuple[str, ...] = ()
    disabled: bool = False
    source: str = "config"
    password_hash: str = field(default="", repr=False, compare=False)

    @property
    def display(self) -> str:
        return self.name or self.username

    @property
    def on_duty_zones(self) -> tuple[str, ...]:
        """The segments this user gets warden alerts for: an enabled warden's zones, else none."""
        return self.zones if self.role == "warden" and not self.disabled else ()


class UserStore:
    """Users from the config and SQL (read side).

    Args:
        cfg: Configuration (``users``, ``wardens``).
        db: The dashboard tables.
    """

    def __init__(self, cfg: AppConfig, db: DashboardDB) -> None:
        self.cfg = cfg
        self.db = db

    def _warden_zones(self, username: str) -> tuple[str, ...]:
        for w in self.cfg.wardens:
            if w.username == username:
                return tuple(w.segments)
        return ()

    def _from_config(self, username: str) -> User | None:
        for u in self.cfg.users:
            if u.username == username:
                zones = tuple(u.zones) or (self._warden_zones(u.username) if u.role == "warden" else ())
                return User(u.username, u.role, u.name, zones, False, "config", u.password_hash)
        return None

    def _from_row(self, row: UserRow) -> User:
        role: Role = row.role if row.role in ROLES else "operator"  # type: ignore[assignment]
        zones = row.zones if role == "warden" else ()  # an admin's edit is the whole truth, empty included
        return User(row.username, role, row.name, zones, bool(row.disabled), "sql", row.password_hash)

    def get(self, username: str) -> User | None:
        """A user by name (the SQL row when there is one, else the config entry), or None."""
        with self.db.session() as s:
            row = s.get(UserRow, username)
            if row is not None:
                return self._from_row(row)
        return self._from_config(username)

    def all(self) -> list[User]:
        """Every user, sorted by role then name."""
        with self.db.session() as s:
            rows = {r.username: self._from_row(r) for r in s.scalars(select(UserRow))}
        for u in self.cfg.users:
            if u.username not in rows:
                cu = self._from_config(u.username)
                assert cu is not None
                rows[u.username] = cu
        return sorted(rows.values(), key=lambda u: (ROLES.index(u.role), u.username))

    def warden_roster(self) -> dict[str, tuple[str, ...]]:
        """Every user -> the segments they get warden alerts for (empty unless an enabled warden).

        Users who are not (or no longer) enabled wardens map to ``()``, so with
        :meth:`core.alerts.Roster.build` a disabled or re-roled user also loses the
        assignment a ``wardens:`` entry of the config gives them.
        """
        return {u.username: u.on_duty_zones for u in self.all()}

    def wardens_for(self, segment_id: str) -> list[str]:
        """Usernames of the enabled wardens whose zones include ``segment_id``."""
        return [name for name, zones in self.warden_roster().items() if segment_id in zones]


__all__ = ["ROLES", "Role", "User", "UserStore"]
