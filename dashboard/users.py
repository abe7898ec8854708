"""Users, roles, password hashes and login sessions.

Users come from the config (``users:``: username, role, password_hash, zones) and from
SQL (``dash_users``), where admin edits are kept; a SQL row overrides the config entry of
the same name, so an admin can change a demo user's password, role or zones, or disable
it (the merge is :class:`archive.users.UserStore`, which the incidents service reads too). Passwords are hashed with argon2id (``argon2-cffi``); bcrypt hashes in the config are
accepted too. A warden's zones are road segment ids: ``zones`` of the user, else the
``segments`` of the matching ``wardens:`` entry (the alert routing's list).

Sessions are random tokens (256 bits) held by the browser in an HttpOnly cookie; the
table keeps only their SHA-256 with the user's role and zones as of login and a CSRF
token. Changing or disabling a user ends their sessions.

``python -m dashboard.users hash`` prints a hash for a password read from stdin.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import hmac
import json
import re
import secrets
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select

from archive.dashboard_db import DashboardDB, LoginFailureRow, SessionRow, UserRow
from archive.users import ROLES, Role, User, UserStore
from config.settings import AppConfig
from core.clock import now_ms

MIN_PASSWORD_CHARS = 10
#: Failed logins are counted over this window.
FAILURE_WINDOW_MS = 15 * 60 * 1000

DEFAULT_HASHER = PasswordHasher()  # argon2id, library defaults (RFC 9106 low-memory profile); stateless
_dummy_hashes: dict[tuple[int, int, int], str] = {}


class UserError(ValueError):
    """A user edit that cannot be applied (the message says why)."""


def hash_password(password: str, hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    """argon2id hash of a password.

    Raises:
        UserError: shorter than :data:`MIN_PASSWORD_CHARS`.
    """
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"password too short: at least {MIN_PASSWORD_CHARS} characters")
    return hasher.hash(password)


def dummy_hash(hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    """A hash of nothing with ``hasher``'s cost, verified for unknown users (same time as a wrong password)."""
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash(secrets.token_hex(16))
    return _dummy_hashes[key]


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches the argon2 or bcrypt ``password_hash`` (never raises)."""
    if password_hash.startswith("$argon2"):
        try:
            return DEFAULT_HASHER.verify(password_hash, password)  # the cost comes from the hash itself
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    if password_hash.startswith(("$2a$", "$2b$", "$2y$")):
        try:
            import bcrypt  # optional: only for bcrypt hashes written by other tools
        except ImportError:
            return False
        try:
            return bool(bcrypt.checkpw(password.encode(), password_hash.encode()))
        except ValueError:
            return False
    return False


def token_hash(token: str) -> str:
    """SHA-256 hex of a session token (what the table stores)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class LoginSession:
    """A valid login session, as looked up from its token.

    Attributes:
        username: Who.
        role: Their role at login.
        zones: Their zones at login (wardens).
        csrf: The session's CSRF token (sent back in the ``X-CSRF-Token`` header or a form field).
        expires_ms: When it ends.
        token_hash: SHA-256 of the token (its key).
    """

    username: str
    role: Role
    zones: tuple[str, ...]
    csrf: str
    expires_ms: int
    token_hash: str

    def allowed(self, roles: Sequence[str]) -> bool:
        return self.role in roles


class UserDirectory(UserStore):
    """Users from the config and SQL (see :class:`archive.users.UserStore`), their edits and sessions.

    Args:
        cfg: Configuration (``users``, ``wardens``, ``segments``, ``dashboard.session_ttl_s``).
        db: The dashboard tables.
        clock: Wall clock, epoch ms (tests).
        hasher: argon2 parameters for new passwords (tests use cheap ones).
    """

    def __init__(
        self,
        cfg: AppConfig,
        db: DashboardDB,
        clock: Callable[[], int] = now_ms,
        hasher: PasswordHasher = DEFAULT_HASHER,
    ) -> None:
        super().__init__(cfg, db)
        self.clock = clock
        self.hasher = hasher
        self._segments = {s.id for s in cfg.segments}

    # ------------------------------------------------------------------ users

    def save(
        self,
        actor: str,
        username: str,
        role: str,
        name: str = "",
        zones: Sequence[str] = (),
        password: str | None = None,
        disabled: bool = False,
    ) -> User:
        """Create or change a user (an admin action); ends the user's sessions.

        Args:
            actor: Admin making the change.
            username: Login name (lowercase letters, digits, ``._-``).
            role: ``operator``, ``warden`` or ``admin``.
            name: Display name.
            zones: Segment ids (wardens).
            password: New password; None keeps the current one (required for a new user).
            disabled: Refuse logins.

        Raises:
            UserError: with the reason (unknown role/zone, bad name, short password, the
                last enabled admin removed ...).
        """
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,63}", username or ""):
            raise UserError("username: use 1-64 lowercase letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise UserError(f"role must be one of {', '.join(ROLES)}")
        bad = [z for z in zones if z not in self._segments]
        if bad:
            raise UserError(f"unknown zone(s): {', '.join(bad)}")
        if role != "warden" and zones:
            raise UserError("only wardens have zones")
        current = self.get(username)
        if password:
            pw_hash = hash_password(password, self.hasher)
        elif current is not None:
            pw_hash = current.password_hash
        else:
            raise UserError("a new user needs a password")
        if current is not None and current.role == "admin" and (role != "admin" or disabled):
            admins = [u for u in self.all() if u.role == "admin" and not u.disabled and u.username != username]
            if not admins:
                raise UserError("cannot remove the last enabled admin")
        with self.db.session() as s:
            row = s.get(UserRow, username)
            if row is None:
                row = UserRow(username=username)
                s.add(row)
            row.role = role
            row.name = name.strip()
            row.zones_json = json.dumps(list(dict.fromkeys(zones)))
            row.password_hash = pw_hash
            row.disabled = disabled
            row.updated_ms = self.clock()
            row.updated_by = actor
        self.end_sessions(username)
        user = self.get(username)
        assert user is not None
        return user

    # ------------------------------------------------------------------ login

    def failures(self, username: str, address: str) -> int:
        """Failed logins of ``username`` from ``address`` in the last 15 minutes."""
        since = self.clock() - FAILURE_WINDOW_MS
        with self.db.session() as s:
            n = s.scalar(
                select(func.count())
                .select_from(LoginFailureRow)
                .where(LoginFailureRow.username == username)
                .where(LoginFailureRow.address == address)
                .where(LoginFailureRow.ts_ms >= since)
            )
        return int(n or 0)

    def authenticate(self, username: str, password: str, address: str = "") -> User | None:
        """The user when the password is right and the user enabled and not locked out, else None.

        Takes about as long for an unknown user as for a wrong password. Failed attempts
        are recorded; after ``dashboard.login_attempts`` failures in 15 minutes from one
        address, even the right password is refused until the window passes.
        """
        username = (username or "").strip().lower()[:64]
        if self.failures(username, address) >= self.cfg.dashboard.login_attempts:
            verify_password(dummy_hash(self.hasher), password)
            return None
        user = self.get(username) if username else None
        ok = verify_password(user.password_hash if user else dummy_hash(self.hasher), password)
        if user is None or not ok or user.disabled:
            with self.db.session() as s:
                s.add(LoginFailureRow(username=username, address=address[:64], ts_ms=self.clock()))
            return None
        if (
            user.source == "sql"
            and user.password_hash.startswith("$argon2")
            and self.hasher.check_needs_rehash(user.password_hash)
        ):
            with self.db.session() as s:  # hashed with weaker parameters than now: upgrade it
                row = s.get(UserRow, username)
                if row is not None:
                    row.password_hash = self.hasher.hash(password)
        with self.db.session() as s:
            s.execute(delete(LoginFailureRow).where(LoginFailureRow.username == username))
        return user

    def start_session(self, user: User, address: str = "") -> tuple[str, LoginSession]:
        """Open a session for ``user``.

        Returns:
            ``(token, session)``: the token goes in the cookie and is never stored.
        """
        token = secrets.token_urlsafe(32)
        now = self.clock()
        sess = LoginSession(
            username=user.username,
            role=user.role,
            zones=user.zones,
            csrf=secrets.token_urlsafe(24),
            expires_ms=now + self.cfg.dashboard.session_ttl_s * 1000,
            token_hash=token_hash(token),
        )
        with self.db.session() as s:
            s.execute(delete(SessionRow).where(SessionRow.expires_ms < now))
            s.execute(delete(LoginFailureRow).where(LoginFailureRow.ts_ms < now - FAILURE_WINDOW_MS))
            s.add(
                SessionRow(
                    token_hash=sess.token_hash,
                    username=sess.username,
                    role=sess.role,
                    zones_json=json.dumps(list(sess.zones)),
                    csrf=sess.csrf,
                    created_ms=now,
                    expires_ms=sess.expires_ms,
                    address=address[:64],
                )
            )
        return token, sess

    def session(self, token: str | None) -> LoginSession | None:
        """The live session of a token, or None (unknown, expired or malformed)."""
        if not token or len(token) > 128:
            return None
        key = token_hash(token)
        with self.db.session() as s:
            row = s.get(SessionRow, key)
            if row is None or row.expires_ms <= self.clock():
                return None
            role: Role = row.role if row.role in ROLES else "operator"  # type: ignore[assignment]
            return LoginSession(
                row.username, role, tuple(json.loads(row.zones_json or "[]")), row.csrf, row.expires_ms, key
            )

    def end_session(self, token: str | None) -> None:
        """Log out: forget the session of a token."""
        if token:
            with self.db.session() as s:
                s.execute(delete(SessionRow).where(SessionRow.token_hash == token_hash(token)))

    def end_sessions(self, username: str) -> int:
        """End every session of a user; returns how many."""
        with self.db.session() as s:
            res = s.execute(delete(SessionRow).where(SessionRow.username == username))
        return int(getattr(res, "rowcount", 0) or 0)


def csrf_ok(expected: str | None, got: str | None) -> bool:
    """Constant-time comparison of CSRF tokens (False when either is missing)."""
    return bool(expected) and bool(got) and hmac.compare_digest(str(expected), str(got))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m dashboard.users",
        description="Make an argon2id password hash for the `users:` section of the config.",
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("hash", help="read a password (prompt, or stdin when piped) and print its hash")
    h.add_argument("--stdin", action="store_true", help="read the password from stdin even on a terminal")
    args = ap.parse_args(argv)
    if args.cmd == "hash":
        pw = (
            sys.stdin.readline().rstrip("\n") if args.stdin or not sys.stdin.isatty() else getpass.getpass("password: ")
        )
        try:
            print(hash_password(pw))
        except UserError as e:
            print(e, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
