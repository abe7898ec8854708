"""The channels and login checks of the websocket push server's handshake.

Operator and warden channels need the dashboard's login cookie (``sc_session``), checked
against the same SQL session table as the pages; the handshake is refused with 401/403
otherwise, and with 403 when the page's ``Origin`` is another host. The public channel
is open to anyone.
"""

from __future__ import annotations

import asyncio
import http
import logging
from collections.abc import Sequence
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlparse

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from dashboard import feeds
from dashboard.auth import SESSION_COOKIE
from dashboard.users import UserDirectory

log = logging.getLogger("dashboard.live")


def _origin_ok(origin: str | None, host_header: str | None, allowed: Sequence[str]) -> bool:
    """The page's Origin must be on the websocket's own host (any port) or explicitly allowed."""
    if origin is None:
        return True  # not a browser (bench, curl): the cookie is what protects the channels
    if origin in allowed:
        return True
    o = urlparse(origin)
    host = (host_header or "").rsplit(":", 1)[0].strip("[]")
    return bool(o.hostname) and o.hostname == host


def _cookie_token(headers: Headers) -> str | None:
    raw = "; ".join(headers.get_all("Cookie"))
    if not raw:
        return None
    jar = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # noqa: BLE001 - a malformed cookie header is "no cookie"
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel else None


async def admit(
    conn: ServerConnection, request: Request, query: str, allowed_origins: Sequence[str], users: UserDirectory
) -> Response | None:
    """Check a ``/ws`` handshake: channel, origin and, for ops/warden, the login session.

    On success the viewer and session token are kept on the connection (``conn.safecity``).

    Args:
        conn: The connection being opened.
        request: Its HTTP request.
        query: The request's query string (``channel=ops|warden|public``).
        allowed_origins: Origins accepted besides the websocket's own host.
        users: Session lookups (SQL).

    Returns:
        The refusal to send, or None to accept the connection.
    """
    channel = (parse_qs(query).get("channel") or [feeds.PUBLIC])[0]
    if channel not in feeds.CHANNELS:
        return conn.respond(http.HTTPStatus.BAD_REQUEST, "channel must be ops, warden or public\n")
    if not _origin_ok(request.headers.get("Origin"), request.headers.get("Host"), allowed_origins):
        return conn.respond(http.HTTPStatus.FORBIDDEN, "origin not allowed\n")
    roles = feeds.CHANNEL_ROLES[channel]
    token = _cookie_token(request.headers)
    viewer = feeds.Viewer(channel)
    if roles is not None:
        try:
            login = await asyncio.to_thread(users.session, token)
        except Exception as e:  # noqa: BLE001 - user database down
            log.warning("session lookup failed: %s", e)
            return conn.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "user database unavailable\n")
        if login is None:
            return conn.respond(http.HTTPStatus.UNAUTHORIZED, "login required\n")
        if login.role not in roles:
            return conn.respond(http.HTTPStatus.FORBIDDEN, f"role {login.role} may not open the {channel} channel\n")
        viewer = feeds.Viewer(channel, login.username, frozenset(login.zones), all_zones=login.role == "admin")
    conn.safecity = (viewer, token)  # type: ignore[attr-defined]
    return None
