"""Start the whole system: Redis (embedded unless ``REDIS_URL`` is set), ingest workers,
the segment aggregator, the ticketing, incidents, sightings and notifier services and the
dashboard; restart any that die; stop all on Ctrl-C.

This is what ``make run`` calls. In production run the same pieces under your process
manager instead (see README, "Scaling out").
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bus.embedded import REDIS_ERRORS, EmbeddedRedis, client_for_url, start_embedded_redis
from bus.watchlist import RedisWatchlist
from config.cli import start_cli
from config.settings import resolve_path

log = logging.getLogger("launch")


@dataclass
class Child:
    """A supervised child process, restarted with exponential backoff when it dies."""

    name: str
    argv: list[str]
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    backoff_s: float = 1.0
    started_at: float = field(default=0.0)

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, env=self.env)
        self.started_at = time.monotonic()
        log.info("started %s (pid %d)", self.name, self.proc.pid)

    def poll(self, now: float) -> None:
        if self.proc is None:
            if now >= self.next_start:
                self.start()
            return
        rc = self.proc.poll()
        if rc is None:
            if now - self.started_at > 60:
                self.backoff_s = 1.0  # ran fine for a minute: reset the backoff
            return
        self.restarts += 1
        log.error("%s exited with code %s; restarting in %.0f s", self.name, rc, self.backoff_s)
        self.proc = None
        self.next_start = now + self.backoff_s
        self.backoff_s = min(self.backoff_s * 2, 30.0)

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s; killing", self.name, timeout)
            self.proc.kill()
            self.proc.wait()


def split_cameras(camera_ids: Sequence[str], workers: int) -> list[list[str]]:
    """Spread cameras round-robin over ``workers`` groups (empty groups dropped)."""
    groups: list[list[str]] = [[] for _ in range(max(1, workers))]
    for i, cam in enumerate(camera_ids):
        groups[i % len(groups)].append(cam)
    return [g for g in groups if g]


def seed_watchlist(url: str, path: Path) -> bool:
    """Load the watchlist file into Redis on first start only (later edits live in Redis).

    Returns:
        False when the file is malformed (the error is printed); an unreachable Redis is
        only logged: the workers keep the file's list until Redis answers.
    """
    client = client_for_url(url, socket_timeout=5.0, retries=1)
    try:
        if RedisWatchlist(client).seed(path):
            log.info("watchlist seeded from %s", path)
        else:
            log.info("watchlist already in Redis (version kept); %s not reloaded", path)
    except ValueError as e:
        print(f"watchlist: {e}", file=sys.stderr)
        return False
    except REDIS_ERRORS as e:
        log.warning("watchlist not seeded (Redis unreachable: %s)", e)
    finally:
        client.close()
    return True


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ingest.launch", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", help="YAML config (default: $SAFECITY_CONFIG or config/default.yaml)")
    ap.add_argument("--workers", type=int, default=1, help="ingest worker processes to spread cameras over")
    ap.add_argument("--no-dashboard", action="store_true", help="run Redis, workers and aggregator only")
    ap.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    args = ap.parse_args(argv)
    cfg = start_cli(args.config, args.log_level)
    if cfg is None:
        return 2

    env = dict(os.environ)
    if args.config:
        env["SAFECITY_CONFIG"] = os.path.abspath(args.config)
    embedded: EmbeddedRedis | None = None
    url = cfg.redis.url or env.get("REDIS_URL")
    if not url:
        embedded = start_embedded_redis(resolve_path(cfg.redis.data_dir))
        url = embedded.url
        log.info("embedded redis-server at %s (data in %s)", url, resolve_path(cfg.redis.data_dir))
    env["REDIS_URL"] = url
    if cfg.watchlist_file is not None and not seed_watchlist(url, resolve_path(cfg.watchlist_file)):
        if embedded is not None:
            embedded.stop()
        return 2
    py = sys.executable
    common = ["--redis-url", url]
    # Every worker is given every camera: they share them through Redis leases (bus/leases.py),
    # so a worker that dies has its cameras taken over by the others until it is restarted.
    # Stable ids: a restarted worker resumes its own cameras and spool at once.
    host = socket.gethostname()
    children = [
        Child(f"worker-{i + 1}", [py, "-m", "ingest.worker", *common, "--worker-id", f"{host}-w{i + 1}"], env)
        for i in range(max(1, args.workers))
    ]
    children.append(Child("aggregator", [py, "-m", "services.aggregate", *common], env))
    children.append(Child("ticketing", [py, "-m", "services.ticketing", *common], env))
    children.append(Child("incidents", [py, "-m", "services.incidents", *common], env))
    children.append(Child("sightings", [py, "-m", "services.sightings", *common], env))
    if cfg.notices.enabled:  # owner lookup, ticket notices, overdue fines (demo: e-mail/SMS to var/notices/)
        children.append(Child("notices", [py, "-m", "services.notices", *common], env))
    if cfg.notify.enabled:
        children.append(Child("notify", [py, "-m", "services.notify", *common], env))
    children.append(Child("clips", [py, "-m", "services.clips", *common], env))
    if not args.no_dashboard:
        children.append(Child("dashboard", [py, "-m", "dashboard"], env))
        children.append(Child("live", [py, "-m", "dashboard.live", "--redis-url", url], env))

    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    if not args.no_dashboard:
        log.info("control room: http://%s:%d", cfg.dashboard.host, cfg.dashboard.port)
    try:
        while not stopping:
            now = time.monotonic()
            for ch in children:
                ch.poll(now)
            time.sleep(0.5)
    finally:
        log.info("stopping %d process(es)", len(children))
        for ch in children:
            ch.terminate()
        for ch in children:
            ch.wait(10.0)
        if embedded is not None:
            embedded.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
