"""The multi-camera worker process: its cameras, their leases, and the spools of dead workers it adopts."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from bus.leases import LeaseBoard, LeaseKeeper, default_worker_id
from bus.publisher import SpoolPublisher, adopt
from bus.spool import Spool, SpoolLocked, orphaned_spools
from bus.store import LiveStore
from bus.streams import EventBus
from config.settings import AppConfig, ConfigError
from ingest.clips.factory import MediaFactory
from ingest.enforce import enforcer_factory, watchlist_cache
from ingest.worker.runner import CameraRunner

log = logging.getLogger("ingest.worker")


class Worker:
    """The cameras of one ingest process, sharing one Redis connection and one event spool.

    With ``leases`` (the default for ``python -m ingest.worker``) the worker runs only its
    share of ``camera_ids`` (all enabled cameras when empty), negotiated with the other
    workers through Redis leases (:class:`bus.leases.LeaseKeeper`): a dead worker's
    cameras are taken over within the lease ttl, a new worker gets its share handed
    over, a drained worker hands all of them over. Without leases it runs exactly the
    given cameras.

    Args:
        cfg: The configuration.
        camera_ids: Cameras to run or share; None/empty = every enabled camera.
        bus: Event bus (its client also holds the leases).
        store: Live state.
        publisher: Durable event publisher shared by the cameras (None: one in-memory per camera).
        worker_id: This worker's id (default ``<host>-<pid>``).
        leases: Share the cameras with other workers through Redis leases.
        spool_dir: Where orphaned spools of dead workers on this machine are looked for (adopted).
    """

    ADOPT_EVERY_S = 10.0

    def __init__(
        self,
        cfg: AppConfig,
        camera_ids: Sequence[str] | None,
        bus: EventBus,
        store: LiveStore,
        *,
        publisher: SpoolPublisher | None = None,
        worker_id: str | None = None,
        leases: bool = False,
        spool_dir: Path | None = None,
    ) -> None:
        cams = [c for c in cfg.cameras if c.enabled and (not camera_ids or c.id in camera_ids)]
        unknown = set(camera_ids or ()) - {c.id for c in cfg.cameras}
        if unknown:
            raise ConfigError(f"unknown camera id(s): {', '.join(sorted(unknown))}")
        self.cfg = cfg
        self.bus = bus
        self.store = store
        self.publisher = publisher
        self.worker_id = worker_id or default_worker_id()
        self.spool_dir = spool_dir
        self.cameras = {c.id: c for c in cams}
        #: The Redis watchlist (seeded at launch from ``cfg.watchlist_file``), shared by the cameras.
        self.watchlist = watchlist_cache(cfg, bus.client)
        self._enforcer = enforcer_factory(cfg, bus.client, self.watchlist.get)
        self.media = MediaFactory(cfg)
        self._runners: dict[str, CameraRunner] = {}
        self._lock = threading.Lock()
        self._adopting: threading.Thread | None = None
        self._next_adopt = 0.0
        self.keeper: LeaseKeeper | None = None
        if leases:
            w = cfg.worker
            self.keeper = LeaseKeeper(
                LeaseBoard(bus.client, self.worker_id, ttl_s=w.lease_ttl_s),
                list(self.cameras),
                self._start_camera,
                self._stop_camera,
                tick_s=w.lease_tick_s,
                info=self._info,
            )
        else:
            for cid in self.cameras:
                self._runners[cid] = self._runner(cid)

    @property
    def runners(self) -> list[CameraRunner]:
        """The cameras running here now."""
        with self._lock:
            return list(self._runners.values())

    def _runner(self, camera_id: str) -> CameraRunner:
        cam = self.cameras[camera_id]
        runner = CameraRunner(
            cam,
            self.cfg.worker,
            self.bus,
            self.store,
            self.worker_id,
            publisher=self.publisher,
            enforcer=self._enforcer(cam),
        )
        # Clips/segments are announced through the runner's publisher (the shared spool, or its own).
        clips = self.media.clips(cam, runner.publisher.publish)
        recording = self.media.recording(cam, runner.publisher.publish)
        runner.attach_media(clips, recording)
        return runner

    def _start_camera(self, camera_id: str) -> None:
        runner = self._runner(camera_id)
        runner.start()
        with self._lock:
            self._runners[camera_id] = runner
        log.info("camera %s started (%s)", camera_id, runner.camera.source.kind)

    def _stop_camera(self, camera_id: str) -> None:
        with self._lock:
            runner = self._runners.pop(camera_id, None)
        if runner is not None:
            runner.stop()
            log.info("camera %s stopped", camera_id)

    def _info(self) -> dict[str, object]:
        if self.publisher is None:
            return {}
        st = self.publisher.stats()
        return {"spool_backlog": st.backlog, "spool_dropped": st.dropped, "redis_ok": st.redis_ok}

    def start(self) -> None:
        if self.keeper is not None:
            self.keeper.start()
            return
        for r in self.runners:
            r.start()
            log.info("camera %s started (%s)", r.camera.id, r.camera.source.kind)

    def stop(self, flush_timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM): stop the cameras, forward the spool, release the leases.

        Order matters: every camera's last events are queued before the spool is
        flushed, and the leases are released only after that, so the next owner's
        events follow this worker's in the streams. Whatever cannot reach Redis in
        ``flush_timeout`` stays in the spool file for the next start.
        """
        if self.keeper is not None:
            self.keeper.halt()
        runners = self.runners
        threads = [threading.Thread(target=r.stop, daemon=True) for r in runners]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with self._lock:
            self._runners.clear()
        if self.publisher is not None:
            self.publisher.flush(flush_timeout)
        if self.keeper is not None:
            self.keeper.stop()  # releases the leases and leaves the registry
        if self._adopting is not None:
            self._adopting.join(flush_timeout)

    def wait(self, stop: threading.Event) -> None:
        """Block until ``stop`` is set (or, without leases, every camera has ended)."""
        while not stop.wait(0.5):
            self._maybe_adopt()
            if self.keeper is None and self.runners and not any(r.alive for r in self.runners):
                return

    def _maybe_adopt(self) -> None:
        """Now and then, forward spools left on this machine by workers that died."""
        if self.spool_dir is None or time.monotonic() < self._next_adopt:
            return
        self._next_adopt = time.monotonic() + self.ADOPT_EVERY_S
        if self._adopting is not None and self._adopting.is_alive():
            return
        own = self.publisher.spool.path if self.publisher is not None else None
        orphans = orphaned_spools(self.spool_dir, exclude=own)
        if orphans:
            self._adopting = threading.Thread(target=self._adopt, args=(orphans,), name="adopt-spools", daemon=True)
            self._adopting.start()

    def _adopt(self, paths: Sequence[Path]) -> None:
        for path in paths:
            try:
                spool = Spool.open(path)
            except (SpoolLocked, OSError) as e:
                log.debug("spool %s not adopted: %s", path, e)
                continue
            n = len(spool)
            left = adopt(self.bus.client, spool, self.bus.maxlen, timeout=30.0)
            log.warning("adopted spool %s of a dead worker: %d event(s) forwarded, %d left", path.name, n - left, left)
