"""The per-process handles a request needs: configuration, Redis, SQL, users, frames.

They are created once when the server starts (:func:`dashboard.app.create_app`), are never
mutated afterwards, and are attached to the Flask app so callbacks and routes find them
through :func:`current` instead of module globals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import flask

from bus.alerts import AlertStore
from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import AppConfig

if TYPE_CHECKING:
    from archive.dashboard_db import DashboardDB
    from dashboard.frames import FrameHub
    from dashboard.users import UserDirectory

EXTENSION_KEY = "safecity"


@dataclass(frozen=True)
class DashboardContext:
    """Read-only handles shared by the requests of one server process.

    Attributes:
        cfg: The validated configuration.
        store: Live state (camera statuses, densities, segments, latest frames).
        bus: Event streams (recent crossings and status changes).
        roads_geojson: The map's road GeoJSON file.
        db: The dashboard's SQL tables (users, sessions, traffic updates).
        users: Users and login sessions.
        frames: MJPEG fan-out of this process.
        archive: The incidents/tickets archive (``archive.Archive``), or None when
            that package is not installed.
    """

    cfg: AppConfig
    store: LiveStore
    bus: EventBus
    roads_geojson: Path
    db: DashboardDB
    users: UserDirectory
    frames: FrameHub
    archive: Any = None

    @property
    def alerts(self) -> AlertStore:
        """The open warden alerts (Redis) and their push channels."""
        return AlertStore(self.store.client, self.cfg.alerts.control_room)


def install(server: flask.Flask, ctx: DashboardContext) -> None:
    """Attach ``ctx`` to a Flask app."""
    server.extensions[EXTENSION_KEY] = ctx


def current() -> DashboardContext:
    """The context of the Flask app handling the current request."""
    ctx = flask.current_app.extensions.get(EXTENSION_KEY)
    if not isinstance(ctx, DashboardContext):
        raise RuntimeError("dashboard context missing: build the app with dashboard.app.create_app()")
    return ctx
