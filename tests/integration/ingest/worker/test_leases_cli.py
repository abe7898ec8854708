"""python -m ingest.worker.leases_cli on a real Redis: status shows who holds which demo camera; drain/undrain."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import redis

from bus.keys import WORKERS_DRAIN_KEY
from bus.leases import LeaseBoard, LeaseKeeper
from config.settings import load_config
from ingest.worker.leases_cli import main
from tests.paths import REPO_ROOT


def _cameras() -> list[str]:
    return [c.id for c in load_config().cameras if c.enabled]


def test_status_lists_the_worker_and_the_cameras_it_holds(
    redis_server: str, redis_client: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    cams = _cameras()
    keeper = LeaseKeeper(LeaseBoard(redis_client, "w-a", ttl_s=5.0), cams[:2], lambda c: None, lambda c: None)
    for _ in range(3):  # a free camera is taken on the tick after it is seen free
        keeper.tick()
    assert set(keeper.held) == set(cams[:2])
    assert main(["--redis-url", redis_server, "status"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [w["worker_id"] for w in doc["workers"]] == ["w-a"]
    assert doc["workers"][0]["alive"] is True and doc["workers"][0]["draining"] is False
    assert doc["owners"] == {c: ("w-a" if c in cams[:2] else None) for c in cams}
    assert doc["unowned"] == sorted(cams[2:])


def test_drain_and_undrain_a_worker(
    redis_server: str, redis_client: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    LeaseKeeper(LeaseBoard(redis_client, "w-b", ttl_s=5.0), _cameras(), lambda c: None, lambda c: None).tick()
    assert main(["--redis-url", redis_server, "drain", "w-b"]) == 0
    assert redis_client.hexists(WORKERS_DRAIN_KEY, "w-b")
    assert "drain: w-b" in capsys.readouterr().err
    assert main(["--redis-url", redis_server, "undrain", "w-b"]) == 0
    assert not redis_client.hexists(WORKERS_DRAIN_KEY, "w-b")


def test_unknown_worker_is_drained_with_a_warning(
    redis_server: str, redis_client: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--redis-url", redis_server, "drain", "nobody"]) == 0
    assert "no registered worker 'nobody'" in capsys.readouterr().err


def test_help_names_the_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ingest.worker.leases_cli", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "python -m ingest.worker.leases_cli" in out and "drain" in out
