"""Page furniture shared by the pages: the role-aware navigation bar, the live-push bridge,
and the layout-level role check.

The live bridge is a ``dcc.Store`` holding the websocket settings; a clientside callback
hands them to ``assets/live.js``, which opens the websocket and writes each batch of
pushed messages into ``<prefix>-live`` (``{"seq", "messages"}``), the input of the page's
callbacks. While the socket is down the page's ``<prefix>-tick`` interval keeps it
refreshing every few seconds instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash
from dash import ClientsideFunction, Input, Output, dcc, html

from dashboard import auth
from dashboard.context import current

#: (path, label, roles) of the navigation links, in order.
NAV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/", "Live map", auth.OPERATORS),
    ("/cameras", "Cameras", auth.OPERATORS),
    ("/incidents", "Incidents", auth.OPERATORS),
    ("/charts", "Charts", auth.OPERATORS),
    ("/tickets", "E-tickets", auth.OPERATORS),
    ("/appeals", "Appeals", auth.OPERATORS),
    ("/plates", "Plates", auth.OPERATORS),
    ("/playback", "Playback", auth.OPERATORS),
    ("/updates", "Public updates", auth.OPERATORS),
    ("/system", "System", auth.OPERATORS),
    ("/warden", "My alerts", ("warden",)),
    ("/admin", "Users", auth.ADMINS),
    ("/admin/watchlist", "Watchlist", auth.ADMINS),
)


def page_guard(roles: Sequence[str]) -> html.Div | None:
    """None when the current user may see a page for ``roles``; else what to show instead.

    Anonymous visitors are sent to the login page; a wrong role gets a short refusal.
    (Direct page loads are already redirected by :mod:`dashboard.auth`; this covers
    navigation inside the app.)
    """
    login = auth.current_user()
    if login is None:
        return html.Div([dcc.Location(id="guard-redirect", href="/login", refresh=True), "Login required."])
    if login.role not in roles:
        return html.Div(
            [
                html.H4("Not allowed"),
                html.P(f"Your role ({login.role}) cannot open this page."),
                html.A("Go to your page", href=auth.HOME_OF.get(login.role, "/")),
            ],
            className="container py-4",
        )
    return None


def navbar(active: str, extra: Sequence[Any] = ()) -> html.Nav:
    """The top bar: brand, links this user may follow, ``extra`` items, user name and logout."""
    login = auth.current_user()
    cfg = current().cfg
    links = []
    if login is not None:
        for path, label, roles in NAV:
            if login.role in roles:
                cls = "nav-link px-2" + (" active fw-semibold" if path == active else "")
                links.append(
                    html.Li(
                        dcc.Link(label, href=path, className=cls, id=f"nav{path.replace('/', '-') or '-home'}"),
                        className="nav-item",
                    )
                )
    user_part: list[Any] = []
    if login is not None:
        user_part = [
            html.Span(f"{login.username} ({login.role})", className="text-light small me-2", id="nav-user"),
            html.Form(
                [
                    dcc.Input(type="hidden", name=auth.CSRF_FIELD, value=login.csrf),
                    html.Button("Log out", type="submit", className="btn btn-sm btn-outline-light", id="nav-logout"),
                ],
                method="POST",
                action="/logout",
                className="d-inline",
            ),
        ]
    return html.Nav(
        [
            html.Span(f"Safe City {cfg.city}", className="navbar-brand mb-0 h1 me-3"),
            html.Ul(links, className="navbar-nav flex-row flex-wrap me-auto"),
            html.Div([*extra, *user_part], className="d-flex align-items-center flex-wrap gap-1"),
        ],
        className="navbar navbar-expand navbar-dark bg-dark px-3 py-1 flex-wrap",
    )


def live_settings(channel: str, prefix: str) -> dict[str, Any]:
    """What ``live.js`` needs to open the websocket of a page."""
    live = current().cfg.dashboard.live
    return {
        "channel": channel,
        "url": live.url,
        "port": live.port,
        "store": f"{prefix}-live",
        "state": f"{prefix}-live-state",
        "tick": f"{prefix}-tick",
        "anchor": f"{prefix}-live-anchor",
    }


def live_bridge(channel: str, prefix: str, fallback_ms: int = 5000) -> list[Any]:
    """Components of the live bridge of a page (see the module docstring)."""
    return [
        dcc.Store(id=f"{prefix}-live-cfg", data=live_settings(channel, prefix)),
        dcc.Store(id=f"{prefix}-live", data={"seq": 0, "messages": []}),
        dcc.Interval(id=f"{prefix}-tick", interval=fallback_ms, n_intervals=0),
        html.Div(id=f"{prefix}-live-anchor", hidden=True),
    ]


def live_badge(prefix: str) -> html.Span:
    """The "live / reconnecting" badge that ``live.js`` keeps up to date."""
    return html.Span(
        "connecting", id=f"{prefix}-live-state", className="badge text-bg-secondary live-state", title="websocket push"
    )


def register_live_bridge(prefix: str) -> None:
    """Register the clientside callback that starts ``live.js`` for a page prefix (at import)."""
    dash.clientside_callback(
        ClientsideFunction(namespace="safecity", function_name="live_start"),
        Output(f"{prefix}-live-state", "title"),
        Input(f"{prefix}-live-cfg", "data"),
    )
