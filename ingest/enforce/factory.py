"""Per-process enforcement: one watchlist cache and one plate reader shared by the cameras' enforcers."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bus.embedded import RedisClient
from bus.watchlist import RedisWatchlist, WatchlistCache, load_watchlist_file
from config.settings import AppConfig, CameraConfig, resolve_path
from core.anpr import Watchlist
from core.rules import WatchlistSource
from ingest.enforce.camera import CameraEnforcer
from ingest.enforce.plates import PlateWorker

log = logging.getLogger("ingest.enforce")


def watchlist_cache(cfg: AppConfig, client: RedisClient, poll_s: float = 2.0) -> WatchlistCache:
    """The process's view of the Redis watchlist (see :mod:`bus.watchlist`).

    Redis is the one source at run time (seeded from ``cfg.watchlist_file`` at launch);
    the file's list is used only while Redis cannot be reached before the first load.
    """
    fallback = Watchlist()
    if cfg.watchlist_file is not None:
        try:
            fallback = Watchlist(load_watchlist_file(resolve_path(cfg.watchlist_file)))
        except ValueError as e:
            log.warning("watchlist file not usable as a fallback: %s", e)
    return WatchlistCache(RedisWatchlist(client), poll_s=poll_s, fallback=fallback)


def enforcer_factory(
    cfg: AppConfig, client: RedisClient, watchlist: WatchlistSource | None = None
) -> Callable[[CameraConfig], CameraEnforcer]:
    """Makes one :class:`CameraEnforcer` per camera, sharing one plate reader and one watchlist per process.

    Args:
        cfg: Whole configuration.
        client: Redis client.
        watchlist: Watchlist (or callable returning the current one); default: a
            :func:`watchlist_cache` on ``client``, so run-time edits in Redis apply within seconds.
    """
    plates: list[PlateWorker | None] = []
    wl = watchlist if watchlist is not None else watchlist_cache(cfg, client).get

    def make(camera: CameraConfig) -> CameraEnforcer:
        if not plates:
            off = cfg.evidence.read_plates == "off"
            ev = cfg.evidence
            plates.append(None if off else PlateWorker.try_create(ev.jpeg_quality, ev.plate_reader, ev.plate_fallback))
        return CameraEnforcer(cfg, camera, client, plates[0], watchlist=wl)

    return make
