"""The notifier's integration tests' setup: the real notifier service (``services.notify.main.run``)
in a thread of this process, on the session's real Redis and a SQLite archive; test configs and alerts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import redis

from archive import Archive
from bus.streams import EventBus
from config.notify import NotifyConfig
from config.settings import DEFAULT_CONFIG, AppConfig, load_config
from core.types import IncidentKind, Priority, WardenAlert
from services.notify.service import GROUP, STREAM
from tests.integration.services.notify.receivers import wait_for

DEMO = load_config(DEFAULT_CONFIG)
FAST_RETRY = {"max_attempts": 40, "first_delay_s": 0.2, "factor": 1.5, "max_delay_s": 0.6}


def config(tmp: Path, destinations: list[dict[str, Any]], **notify: Any) -> AppConfig:
    n = NotifyConfig.model_validate(
        {
            "destinations": destinations,
            "retry": notify.pop("retry", FAST_RETRY),
            "poll_s": 0.1,
            "vapid": {"private_key_file": str(tmp / "vapid.pem")},
            **notify,
        }
    )
    return AppConfig.model_validate({**DEMO.model_dump(), "notify": n.model_dump()})


def alert(n: int = 1, zone: str = "university-rd", kind: IncidentKind = IncidentKind.CONGESTION) -> WardenAlert:
    return WardenAlert(
        f"alert{n:015d}",
        f"incident-{n}",
        zone,
        ("warden1",),
        1_700_000_000_000 + n,
        False,
        kind,
        Priority.HIGH,
        f"Heavy traffic #{n}",
    )


@contextmanager
def running_notifier(cfg: AppConfig, redis_url: str, archive_url: str) -> Iterator[SimpleNamespace]:
    """The notifier service running in a thread until the block ends."""
    from services.notify.main import run

    client = redis.Redis.from_url(redis_url)
    bus = EventBus(client)
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run(cfg, EventBus(client), stop, SimpleNamespace(archive_url=archive_url, consumer="test-notifier"))
        except BaseException as e:  # noqa: BLE001 - shown by the test
            errors.append(e)

    t = threading.Thread(target=target, name="notifier-under-test", daemon=True)
    t.start()
    wait_for(lambda: errors or any(g["name"] in (GROUP, GROUP.encode()) for g in _groups(client)), 10)
    assert not errors, errors
    archive = Archive(archive_url)
    try:
        yield SimpleNamespace(bus=bus, repo=archive.notify, client=client, errors=errors)
    finally:
        stop.set()
        t.join(30)
        archive.close()
        client.close()
    assert not t.is_alive(), "the notifier did not stop"
    assert not errors, errors


def _groups(client: redis.Redis) -> list[dict[str, Any]]:
    try:
        return list(client.xinfo_groups(STREAM))
    except redis.ResponseError:
        return []
