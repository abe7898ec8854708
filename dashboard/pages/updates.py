"""Public traffic updates: operators write, edit and publish them (English, optional Urdu).

Published updates appear on ``/public``, in ``GET /api/v1/updates`` and on the public
websocket at once; unpublishing removes them there.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import auth
from dashboard import updates as U
from dashboard.context import current
from dashboard.data import clock_utc
from dashboard.layout import navbar, page_guard

dash.register_page(__name__, path="/updates", name="Public updates", title="Safe City - public updates")
ROLES = auth.OPERATORS


def _field(label: str, component: Any) -> html.Div:
    return html.Div([html.Label(label, className="form-label small mb-0"), component], className="mb-2")


def layout(**_query: str) -> html.Div:
    denied = page_guard(ROLES)
    if denied is not None:
        return denied
    cfg = current().cfg
    form = html.Div(
        [
            html.H6("Write an update", id="up-form-title"),
            dcc.Store(id="up-editing", data=None),
            _field("Title", dcc.Input(id="up-title", maxLength=U.MAX_TITLE, className="form-control", debounce=False)),
            _field(
                "Text",
                dcc.Textarea(id="up-body", maxLength=U.MAX_BODY, className="form-control", style={"height": "6rem"}),
            ),
            _field(
                "Title (Urdu, optional)",
                dcc.Input(
                    id="up-title-ur", maxLength=U.MAX_TITLE, className="form-control urdu", style={"direction": "rtl"}
                ),
            ),
            _field(
                "Text (Urdu, optional)",
                dcc.Textarea(
                    id="up-body-ur",
                    maxLength=U.MAX_BODY,
                    className="form-control urdu",
                    style={"height": "6rem", "direction": "rtl"},
                ),
            ),
            _field(
                "Road",
                dcc.Dropdown(
                    id="up-segment",
                    options=[{"label": s.name, "value": s.id} for s in cfg.segments],
                    placeholder="(whole city)",
                ),
            ),
            dcc.Checklist(
                id="up-published", options=[{"label": " publish now", "value": "yes"}], value=[], className="mb-2"
            ),
            html.Button("Save", id="up-save", n_clicks=0, className="btn btn-primary me-2"),
            html.Button("New", id="up-new", n_clicks=0, className="btn btn-outline-secondary"),
            html.Div("", id="up-result", className="small mt-2", role="status"),
        ],
        className="col-lg-5 p-3",
    )
    return html.Div(
        [
            navbar("/updates"),
            html.Div(
                [form, html.Div([html.H6("Updates"), html.Div(id="up-list")], className="col-lg-7 p-3")],
                className="row g-0",
            ),
        ]
    )


def _list_items() -> list[Any]:
    ctx = current()
    try:
        ups = U.list_updates(ctx.db, published_only=False)
    except Exception as e:  # noqa: BLE001
        return [html.Div(f"database unavailable: {e}", className="text-danger")]
    if not ups:
        return [html.Div("no updates yet", className="text-muted")]
    out = []
    for u in ups:
        out.append(
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(
                                "published" if u.published else "draft",
                                className="badge me-2 " + ("text-bg-success" if u.published else "text-bg-secondary"),
                            ),
                            html.Strong(u.title),
                            html.Span(f"  {clock_utc(u.ts_ms)} UTC by {u.author}", className="text-muted small ms-2"),
                        ]
                    ),
                    html.Div(u.body, className="small"),
                    html.Div(u.body_ur, className="small urdu", dir="rtl") if u.body_ur else None,
                    html.Div(
                        [
                            html.Button(
                                "Edit",
                                id={"type": "up-edit", "id": u.update_id},
                                n_clicks=0,
                                className="btn btn-sm btn-outline-primary me-1",
                            ),
                            html.Button(
                                "Unpublish" if u.published else "Publish",
                                id={"type": "up-toggle", "id": u.update_id},
                                n_clicks=0,
                                className="btn btn-sm "
                                + ("btn-outline-danger" if u.published else "btn-outline-success"),
                            ),
                        ],
                        className="mt-1",
                    ),
                ],
                className="border rounded p-2 mb-2 update-item",
                id=f"up-item-{u.update_id}",
            )
        )
    return out


@callback(Output("up-list", "children"), Input("up-result", "children"))
def show_list(_result: Any) -> list[Any]:
    return _list_items()


@callback(
    Output("up-editing", "data"),
    Output("up-title", "value"),
    Output("up-body", "value"),
    Output("up-title-ur", "value"),
    Output("up-body-ur", "value"),
    Output("up-segment", "value"),
    Output("up-published", "value"),
    Output("up-form-title", "children"),
    Input({"type": "up-edit", "id": ALL}, "n_clicks"),
    Input("up-new", "n_clicks"),
    prevent_initial_call=True,
)
def edit(_clicks: list[int | None], _new: int | None) -> tuple[Any, ...]:
    """Load an update into the form (or clear the form for a new one)."""
    trig = dash.ctx.triggered_id
    if trig == "up-new":
        return None, "", "", "", "", None, [], "Write an update"
    if not isinstance(trig, dict) or not any(t.get("value") for t in dash.ctx.triggered):
        raise PreventUpdate
    up = U.get(current().db, str(trig["id"]))
    if up is None:
        raise PreventUpdate
    return (
        up.update_id,
        up.title,
        up.body,
        up.title_ur,
        up.body_ur,
        up.segment_id,
        ["yes"] if up.published else [],
        f"Edit update {up.update_id}",
    )


@callback(
    Output("up-result", "children"),
    Input("up-save", "n_clicks"),
    Input({"type": "up-toggle", "id": ALL}, "n_clicks"),
    State("up-editing", "data"),
    State("up-title", "value"),
    State("up-body", "value"),
    State("up-title-ur", "value"),
    State("up-body-ur", "value"),
    State("up-segment", "value"),
    State("up-published", "value"),
    prevent_initial_call=True,
)
def save(
    _save: int | None,
    _toggles: list[int | None],
    editing: str | None,
    title: str | None,
    body: str | None,
    title_ur: str | None,
    body_ur: str | None,
    segment: str | None,
    published: list[str] | None,
) -> str:
    """Save the form, or flip an update between published and draft."""
    login = auth.require(ROLES)
    ctx = current()
    trig = dash.ctx.triggered_id
    try:
        if isinstance(trig, dict):
            if not any(t.get("value") for t in dash.ctx.triggered):
                raise PreventUpdate
            cur = U.get(ctx.db, str(trig["id"]))
            if cur is None:
                return "Not saved: the update no longer exists"
            draft = U.UpdateDraft(cur.title, cur.body, cur.title_ur, cur.body_ur, cur.segment_id, not cur.published)
            up = U.save(ctx.cfg, ctx.db, ctx.bus, login.username, draft, cur.update_id)
        else:
            draft = U.UpdateDraft(
                title or "", body or "", title_ur or "", body_ur or "", segment, "yes" in (published or [])
            )
            up = U.save(ctx.cfg, ctx.db, ctx.bus, login.username, draft, editing)
    except U.UpdateError as e:
        return f"Not saved: {e}"
    return f"Saved {up.update_id} ({'published' if up.published else 'draft'})"
