"""WSGI entry point for running the control room under a multi-worker server.

Example (any WSGI server; gunicorn shown)::

    REDIS_URL=redis://127.0.0.1:6379/0 gunicorn -w 4 --threads 8 'dashboard.wsgi:create_server()'

Every worker process builds its own app from the configuration; they share nothing but
Redis, so there is no per-process state to keep in step. Unlike ``python -m dashboard``
this never starts an embedded redis-server (one per worker would be wrong): the URL must
come from ``redis.url`` in the config or ``$REDIS_URL``.
"""

from __future__ import annotations

import flask

from config.settings import load_config
from dashboard.app import connect_redis, create_app


def create_server(config: str | None = None) -> flask.Flask:
    """Build the dashboard's Flask server (one per worker process).

    Args:
        config: YAML config path; None uses ``$SAFECITY_CONFIG`` or the default.

    Raises:
        RuntimeError: when no Redis URL is configured.
    """
    cfg = load_config(config)
    client, _ = connect_redis(cfg, allow_embedded=False)
    return create_app(cfg, client).server
