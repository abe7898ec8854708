"""Fixtures of the dashboard integration tests: ``make_app`` builds the test Flask apps of
:mod:`tests.integration.dashboard.apps` on the session Redis and the test's temp dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import flask
import pytest
import redis

from config.settings import AppConfig
from tests.integration.dashboard.apps import ApiApp, MakeApp, api_app


@pytest.fixture
def make_app(redis_client: redis.Redis, tmp_path: Path) -> Iterator[MakeApp]:
    """``make_app(cfg, *blueprints, with_portal=False)``: an :class:`ApiApp` of ``cfg`` on ``redis_client``
    (emptied after the test), its archive in ``tmp_path`` (a second app's in ``tmp_path/app1`` ...);
    the archives are closed after the test."""
    made: list[ApiApp] = []

    def make(cfg: AppConfig, *blueprints: flask.Blueprint, with_portal: bool = False) -> ApiApp:
        tmp = tmp_path if not made else tmp_path / f"app{len(made)}"
        tmp.mkdir(exist_ok=True)
        app = api_app(cfg, redis_client, tmp, *blueprints, with_portal=with_portal)
        made.append(app)
        return app

    yield make
    for app in made:
        app.arc.close()
