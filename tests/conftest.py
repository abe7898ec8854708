"""Shared fixtures: a real redis-server for integration tests, and the shared data dir.

``redis_server`` never uses ``$REDIS_URL``: tests FLUSHALL, so they always get
their own throw-away server.

Tests write nothing into the repository's ``var/``: their archives, evidence and spools are in
temp dirs, and :func:`media_signing_key` gives every dashboard (in-process or a child process)
a download-link key through ``$SAFECITY_MEDIA_KEY``, so none creates ``var/media.key``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bus.embedded import EmbeddedRedisError, start_embedded_redis
from config.blobstore import StorageConfig
from tests.paths import SHARED_DATA

#: The download-link key of the tests' disk blob stores (never a secret: test links only).
TEST_MEDIA_KEY = "tests-media-signing-key-not-a-secret"


@pytest.fixture(scope="session", autouse=True)
def media_signing_key() -> Iterator[str]:
    """``$SAFECITY_MEDIA_KEY`` for the whole session (kept when already set), inherited by child processes:
    without it the first dashboard would write a random key to ``var/media.key`` in the repository."""
    env = StorageConfig().signing_key_env
    with pytest.MonkeyPatch.context() as mp:
        if not os.environ.get(env, "").strip():
            mp.setenv(env, TEST_MEDIA_KEY)
        yield os.environ[env]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL (``redis://127.0.0.1:<port>/0``) of a real redis-server started for this test session."""
    try:
        server = start_embedded_redis(tmp_path_factory.mktemp("redis"))
    except EmbeddedRedisError as e:
        pytest.fail(f"cannot start the test redis-server: {e}")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_client(redis_server: str) -> Iterator[redis.Redis]:
    """A ``redis.Redis`` (bytes responses) on the session server; FLUSHALL after the test."""
    client = redis.Redis.from_url(redis_server)
    try:
        yield client
    finally:
        try:
            client.flushall()
        finally:
            client.close()


@pytest.fixture
def shared_data() -> Path:
    """Path of the real third-party test media (../shared/data); skips when it is missing."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not available: {SHARED_DATA}")
    return SHARED_DATA
