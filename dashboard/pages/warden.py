"""A warden's phone page: live alerts for their own zones only, with a cue and acknowledge.

Alerts arrive over the warden websocket channel, which the server already filters to
the warden's zones; the page re-reads the alert list (same filter) when one arrives,
flashes the screen, vibrates and - once the warden tapped "sound on" (browsers allow
audio only after a tap) - beeps. "Notify me on this device" subscribes the phone to Web Push
(``assets/notify.js``), so alerts reach it with the page closed (:mod:`services.notify`). Acknowledging records an ``ack`` on the incident, which
stops its escalation to the control room. Admins see every zone.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import auth
from dashboard import incident_ui as IU
from dashboard.context import current
from dashboard.incidents import ActionError, ack_alert, read_alerts
from dashboard.layout import live_badge, live_bridge, page_guard, register_live_bridge

dash.register_page(__name__, path="/warden", name="My alerts", title="Safe City - warden")
ROLES = auth.WARDENS
PREFIX = "wd"
ALERT_MESSAGES = frozenset({"alert", "incident_update"})
register_live_bridge(PREFIX)


def _zones_for_user() -> tuple[list[str] | None, str]:
    login = auth.current_user()
    assert login is not None
    if login.role == "admin":
        return None, login.username
    return list(login.zones), login.username


def layout(**_query: str) -> html.Div:
    denied = page_guard(ROLES)
    if denied is not None:
        return denied
    login = auth.current_user()
    assert login is not None
    cfg = current().cfg
    zones, _ = _zones_for_user()
    names = {s.id: s.name for s in cfg.segments}
    zone_text = "all zones" if zones is None else (", ".join(names.get(z, z) for z in zones) or "no zones assigned")
    header = html.Div(
        [
            html.Div(
                [
                    html.Strong(f"{login.username}", id="wd-user"),
                    live_badge(PREFIX),
                    html.Form(
                        [
                            dcc.Input(type="hidden", name=auth.CSRF_FIELD, value=login.csrf),
                            html.Button(
                                "Log out", type="submit", className="btn btn-sm btn-outline-light", id="nav-logout"
                            ),
                        ],
                        method="POST",
                        action="/logout",
                        className="ms-auto",
                    ),
                ],
                className="d-flex align-items-center gap-2",
            ),
            html.Div(zone_text, className="small", id="wd-zones"),
        ],
        className="bg-dark text-light p-2 sticky-top",
    )
    return html.Div(
        [
            header,
            html.Div(
                [
                    html.Button(
                        "Sound on", id="wd-sound", n_clicks=0, className="btn btn-outline-dark btn-sm mb-2 w-100"
                    ),
                    # assets/notify.js: service worker + Web Push subscription, alerts with the page closed
                    html.Button(
                        "Notify me on this device",
                        id="wd-notify",
                        type="button",
                        className="btn btn-outline-primary btn-sm mb-2 w-100",
                    ),
                    html.Div("", id="wd-notify-state", className="small mb-2", role="status"),
                    html.Div("", id="wd-result", className="small mb-2", role="status"),
                    html.Div(id="wd-alerts"),
                ],
                className="p-2 warden-page",
            ),
            *live_bridge("warden", PREFIX),
        ],
        className="warden",
    )


clientside_callback(
    ClientsideFunction(namespace="safecity", function_name="enable_sound"),
    Output("wd-sound", "children"),
    Input("wd-sound", "n_clicks"),
    prevent_initial_call=True,
)


@callback(
    Output("wd-alerts", "children"),
    Input("wd-live", "data"),
    Input("wd-tick", "n_intervals"),
    Input("wd-result", "children"),
)
def alerts(live: dict[str, Any] | None, _tick: int | None, _result: Any) -> list[Any]:
    """This warden's alerts, newest first, unacknowledged ones with a big button."""
    if (
        dash.ctx.triggered_id == "wd-live"
        and not {m.get("type") for m in (live or {}).get("messages", [])} & ALERT_MESSAGES
    ):
        raise PreventUpdate
    auth.require(ROLES)
    zones, username = _zones_for_user()
    ctx = current()
    try:
        views = read_alerts(ctx.bus, zones, username)
    except Exception:  # noqa: BLE001 - Redis down
        return [html.Div("No connection to the control room (Redis unreachable).", className="alert alert-danger")]
    if not views:
        return [html.Div("No alerts for your zones.", className="text-muted p-3 text-center", id="wd-none")]
    return [IU.alert_card(ctx.cfg, v) for v in views[:30]]


@callback(
    Output("wd-result", "children"),
    Input({"type": "wd-ack", "id": ALL}, "n_clicks"),
    State({"type": "wd-ack", "id": ALL}, "id"),
    prevent_initial_call=True,
)
def acknowledge(clicks: list[int | None], _ids: list[dict[str, str]]) -> str:
    """Acknowledge one of this warden's alerts."""
    trig = dash.ctx.triggered_id
    if not isinstance(trig, dict) or not any(t.get("value") for t in dash.ctx.triggered):
        raise PreventUpdate
    login = auth.require(ROLES)
    zones, username = _zones_for_user()
    ctx = current()
    mine = {v.alert.alert_id: v for v in read_alerts(ctx.bus, zones, username)}
    view = mine.get(str(trig["id"]))
    if view is None:
        return "Not acknowledged: this alert is not in your zones."
    try:
        ack_alert(
            ctx.alerts, ctx.bus, ctx.archive, view.alert.alert_id, login.username, any_alert=login.role == "admin"
        )
    except ActionError as e:
        return f"Not acknowledged: {e}"
    except Exception as e:  # noqa: BLE001 - Redis down
        return f"Not acknowledged: {type(e).__name__}: {e}"
    return f"Acknowledged: {view.alert.summary or view.alert.incident_id}"
