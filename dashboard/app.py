"""Build the control-room Dash app (multi-page, offline-first, with logins and roles).

:func:`create_app` takes the configuration and a Redis client and returns the Dash app;
its Flask server (``app.server``) also carries the JSON/MJPEG/metrics routes of
:mod:`dashboard.routes` and the login, role and CSRF checks of :mod:`dashboard.auth`. Everything the browser loads is served by this server: Dash's and
dash-leaflet's own JavaScript (``serve_locally``), Bootstrap from ``dashboard/assets``, and
the roads from a local GeoJSON file; no CDN, no tile server unless ``dashboard.map.tile_url``
is set.
"""

from __future__ import annotations

import os
from pathlib import Path

import dash

from archive.dashboard_db import DashboardDB
from archive.db import archive_url
from bus.embedded import EmbeddedRedis, RedisClient, connect
from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import AppConfig, resolve_path
from dashboard import auth, context, portal, routes
from dashboard.archive_link import open_archive
from dashboard.frames import FrameHub
from dashboard.users import UserDirectory

PACKAGE_DIR = Path(__file__).resolve().parent
#: Seconds before a Redis call gives up, so a dead server degrades the page instead of hanging it.
REDIS_TIMEOUT_S = 2.0


def connect_redis(cfg: AppConfig, allow_embedded: bool = True) -> tuple[RedisClient, EmbeddedRedis | None]:
    """Connect the dashboard to Redis.

    ``redis.url`` from the config, else ``$REDIS_URL`` (set by the system launcher), else -
    when ``allow_embedded`` - a server already running on ``redis.data_dir`` or a new embedded
    one. Connections are lazy: a URL where Redis is down still gives a client (the page then
    shows "degraded"). Calls time out after :data:`REDIS_TIMEOUT_S` unless the URL says otherwise.

    Returns:
        ``(client, server)``; ``server`` is the embedded redis-server started here (the caller
        stops it), else None.

    Raises:
        RuntimeError: no URL and ``allow_embedded`` is False.
        bus.embedded.EmbeddedRedisError: the embedded server cannot start.
    """
    url = cfg.redis.url or os.environ.get("REDIS_URL") or None
    if url is None and not allow_embedded:
        raise RuntimeError("no Redis URL: set REDIS_URL or redis.url in the config")
    client, server = connect(url, resolve_path(cfg.redis.data_dir))
    kwargs = client.connection_pool.connection_kwargs
    for key in ("socket_timeout", "socket_connect_timeout"):
        if kwargs.get(key) is None:
            kwargs[key] = REDIS_TIMEOUT_S
    return client, server


def media_origin(cfg: AppConfig) -> str:
    """Origin of the S3 endpoint that presigned clip links point at (allowed as a media source), else ""."""
    s3 = cfg.storage.s3
    if cfg.storage.backend != "s3" or s3 is None:
        return ""
    if s3.endpoint_url:
        from urllib.parse import urlparse

        u = urlparse(s3.endpoint_url)
        return f"{u.scheme}://{u.netloc}"
    return "https://*.amazonaws.com"


def create_app(cfg: AppConfig, client: RedisClient, db_url: str | None = None) -> dash.Dash:
    """Create the Dash app.

    Only one app per process: Dash pages register their callbacks globally.

    Args:
        cfg: Validated configuration.
        client: Redis client (connections are made lazily; Redis may be down at start).
        db_url: SQL database of users, sessions and traffic updates (default: the
            archive database, :func:`archive.db.archive_url`).

    Returns:
        The app; serve ``app.server`` (a Flask WSGI app) or call ``app.run``.
    """
    app = dash.Dash(
        "dashboard",  # the package: pages import as dashboard.pages.<name>, assets from dashboard/assets
        use_pages=True,
        pages_folder="pages",
        assets_folder=str(PACKAGE_DIR / "assets"),
        assets_ignore=r"notify-sw\.js$",  # the Web Push service worker: served, never loaded into pages
        external_stylesheets=[],
        external_scripts=[],
        serve_locally=True,
        title=f"Safe City {cfg.city} - control room",
        update_title="",
        suppress_callback_exceptions=True,
        csrf_token_name=auth.CSRF_COOKIE,  # Dash sends this cookie back as the X-CSRF-Token header
        csrf_header_name=auth.CSRF_HEADER,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.scripts.config.serve_locally = True
    app.css.config.serve_locally = True
    db = DashboardDB(db_url or archive_url(cfg))
    users = UserDirectory(cfg, db)
    store = LiveStore(client)
    context.install(
        app.server,
        context.DashboardContext(
            cfg=cfg,
            store=store,
            bus=EventBus(client, maxlen=cfg.redis.stream_maxlen),
            roads_geojson=resolve_path(cfg.dashboard.map.roads_geojson),
            db=db,
            users=users,
            frames=FrameHub(store, poll_hz=min(30.0, 2.0 * cfg.worker.frame_publish_fps)),
            archive=open_archive(cfg, db_url),
        ),
    )
    portal.install(app.server, cfg)  # before auth: its upload guard runs first
    auth.install(
        app.server,
        users,
        cfg.dashboard.secure_cookies,
        cfg.dashboard.session_ttl_s,
        cfg.dashboard.map.tile_url,
        media_origin=media_origin(cfg),
    )
    routes.register(app.server)
    app.layout = dash.html.Div([dash.page_container], className="container-fluid p-0")
    return app
