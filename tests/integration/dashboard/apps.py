"""The dashboard's request handlers on a bare Flask app, for the API and portal tests: a real Redis,
a SQLite archive in a temp dir, and an ``X-Test-User: <name>:<role>`` header in place of a session.

Auth itself is the dashboard's (tests/integration/dashboard/test_routes.py, test_auth_http.py and
tests/browser); here the header stands in for a logged-in user so the endpoints' own checks are what
is tested. A plain module (no fixtures): ``make_app`` in this folder's conftest builds and closes them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import flask
import redis
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from archive import Archive
from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import AppConfig
from dashboard import context, portal


@dataclass(frozen=True, slots=True)
class ApiApp:
    """One test app and its handles.

    Attributes:
        app: The Flask app.
        client: Its test client.
        arc: The SQLite archive (``<tmp>/a.db``, evidence in ``<tmp>/ev``).
        ctx: The dashboard context installed on the app.
        cfg: The configuration.
        redis: The Redis client the context uses.
    """

    app: flask.Flask
    client: FlaskClient
    arc: Archive
    ctx: context.DashboardContext
    cfg: AppConfig
    redis: redis.Redis

    @property
    def bus(self) -> EventBus:
        """The context's event bus."""
        return self.ctx.bus


#: The ``make_app`` fixture's type: ``make_app(cfg, *blueprints, with_portal=False) -> ApiApp``.
MakeApp = Callable[..., ApiApp]


def _test_login() -> None:
    """``flask.g.login`` from the ``X-Test-User: <name>:<role>`` header (None without one)."""
    who = flask.request.headers.get("X-Test-User")
    flask.g.login = None
    if who:
        name, role = who.split(":")
        flask.g.login = SimpleNamespace(username=name, role=role)


def api_app(
    cfg: AppConfig, client: redis.Redis, tmp: Path, *blueprints: flask.Blueprint, with_portal: bool = False
) -> ApiApp:
    """A Flask app with the dashboard context (Redis ``client``, a SQLite archive in ``tmp``), the
    ``blueprints``, the citizen portal when ``with_portal``, and the test login header."""
    app = flask.Flask("test")
    arc = Archive(f"sqlite:///{tmp / 'a.db'}", tmp / "ev")
    ctx = context.DashboardContext(
        cfg=cfg,
        store=LiveStore(client),
        bus=EventBus(client),
        roads_geojson=tmp,
        db=None,  # type: ignore[arg-type]
        users=None,  # type: ignore[arg-type]
        frames=None,  # type: ignore[arg-type]
        archive=arc,
    )
    context.install(app, ctx)
    for bp in blueprints:
        app.register_blueprint(bp)
    app.before_request(_test_login)
    if with_portal:
        portal.install(app, cfg)
    return ApiApp(app, app.test_client(), arc, ctx, cfg, client)


@contextmanager
def served(app: object) -> Iterator[str]:
    """The Flask app on a real HTTP server (a thread); its base URL."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)  # type: ignore[arg-type]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()


__all__ = ["ApiApp", "MakeApp", "api_app", "served"]
