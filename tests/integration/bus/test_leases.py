"""Camera leases on a real Redis: spreading, take-over, drain, hand-over, Redis restart.

Keepers are ticked by hand (what their thread does every ``tick_s``), so each test is a
few hundred milliseconds and deterministic, while every lease operation is real Redis.
A global "running" map checks the invariant that matters: no camera ever runs in two
workers at once.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import redis

from bus.keys import WORKERS_INFO_KEY, lease_key, worker_alive_key
from bus.leases import LeaseBoard, LeaseKeeper, preference, set_drain, shares

CAMS = [f"cam-{i}" for i in range(7)]
TTL_S = 1.0
TICK_S = 0.2


class Fleet:
    """Keepers sharing CAMS; records which worker runs each camera."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.running: dict[str, str] = {}
        self.keepers: dict[str, LeaseKeeper] = {}
        self.starts: Counter[str] = Counter()

    def add(self, worker_id: str) -> LeaseKeeper:
        def on_acquire(cam: str) -> None:
            assert cam not in self.running, f"{cam} already runs in {self.running.get(cam)}; {worker_id} took it"
            self.running[cam] = worker_id
            self.starts[cam] += 1

        def on_release(cam: str) -> None:
            assert self.running.pop(cam) == worker_id

        k = LeaseKeeper(LeaseBoard(self.client, worker_id, ttl_s=TTL_S), CAMS, on_acquire, on_release, tick_s=TICK_S)
        self.keepers[worker_id] = k
        return k

    def kill(self, worker_id: str) -> None:
        """The process is gone: it stops ticking, its cameras stop, nothing is released."""
        k = self.keepers.pop(worker_id)
        for cam in list(k.held):
            self.running.pop(cam)

    def tick(self, rounds: int = 1) -> None:
        for _ in range(rounds):
            for k in list(self.keepers.values()):
                k.tick()

    def held(self) -> dict[str, int]:
        return {w: len(k.held) for w, k in self.keepers.items()}

    def settle(self, timeout: float = 5.0) -> None:
        """Tick (in real time, leases expire meanwhile) until every camera runs somewhere."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.tick()
            if len(self.running) == len(CAMS) and max(self.held().values()) - min(self.held().values()) <= 1:
                return
            time.sleep(TICK_S)
        raise AssertionError(f"not settled: held {self.held()}, running {self.running}")


def test_shares_are_even_and_deterministic() -> None:
    assert shares(7, ["b", "a", "c"]) == {"a": 3, "b": 2, "c": 2}
    assert shares(2, ["a", "b", "c"]) == {"a": 1, "b": 1, "c": 0}
    assert shares(5, []) == {}
    for n in range(0, 30):
        s = shares(n, [f"w{i}" for i in range(4)])
        assert sum(s.values()) == n and max(s.values()) - min(s.values()) <= 1
    assert sorted(preference("w1", CAMS)) == sorted(CAMS) and preference("w1", CAMS) != preference("w2", CAMS)


def test_cameras_are_spread_evenly_and_rebalanced_when_a_worker_joins(redis_client: redis.Redis) -> None:
    fleet = Fleet(redis_client)
    fleet.add("w1")
    fleet.add("w2")
    fleet.settle()
    assert sorted(fleet.held().values()) == [3, 4]
    for cam, w in fleet.running.items():
        assert redis_client.get(lease_key(cam)) == w.encode(), "the lease names the worker running the camera"
    fleet.add("w3")
    fleet.settle()
    assert sorted(fleet.held().values()) == [2, 2, 3]


def test_a_dead_workers_cameras_are_taken_over_within_the_lease_ttl(redis_client: redis.Redis) -> None:
    fleet = Fleet(redis_client)
    for w in ("w1", "w2", "w3"):
        fleet.add(w)
    fleet.settle()
    orphans = list(fleet.keepers["w2"].held)
    fleet.kill("w2")
    t0 = time.monotonic()
    while not all(c in fleet.running for c in orphans):
        assert time.monotonic() - t0 < TTL_S + 5 * TICK_S + 1.0, f"not taken over: {fleet.running}"
        fleet.tick()
        time.sleep(TICK_S)
    took = time.monotonic() - t0
    assert took >= TTL_S * 0.8, "nobody takes a camera while its lease is alive"
    fleet.settle()
    assert sorted(fleet.held().values()) == [3, 4]


def test_a_drained_worker_hands_its_cameras_over_and_takes_them_back_when_undrained(
    redis_client: redis.Redis,
) -> None:
    fleet = Fleet(redis_client)
    fleet.add("w1")
    fleet.add("w2")
    fleet.settle()
    set_drain(redis_client, "w1")
    fleet.tick()
    assert fleet.held()["w1"] == 0 and fleet.keepers["w1"].draining
    t0 = time.monotonic()
    fleet.tick(3)  # free -> confirmed free -> taken: no waiting for any ttl
    assert fleet.held()["w2"] == len(CAMS) and time.monotonic() - t0 < TTL_S
    set_drain(redis_client, "w1", on=False)
    fleet.settle()
    assert sorted(fleet.held().values()) == [3, 4]
    fleet.keepers["w1"].stop()  # clean stop: released and deregistered
    assert redis_client.hget(WORKERS_INFO_KEY, "w1") is None and not redis_client.exists(worker_alive_key("w1"))


def test_after_a_redis_restart_each_camera_stays_with_its_owner(redis_client: redis.Redis) -> None:
    fleet = Fleet(redis_client)
    for w in ("w1", "w2", "w3"):
        fleet.add(w)
    fleet.settle()
    before = dict(fleet.running)
    starts = sum(fleet.starts.values())
    # A restart longer than the ttl: every lease and heartbeat has expired when Redis is back.
    redis_client.delete(*[lease_key(c) for c in CAMS], *[worker_alive_key(w) for w in fleet.keepers])
    for order in (["w3", "w2", "w1"], ["w1", "w3", "w2"]):
        for w in order:
            fleet.keepers[w].tick()
    assert fleet.running == before, "no camera changed hands"
    assert sum(fleet.starts.values()) == starts, "no camera was restarted"
    for cam, w in before.items():
        assert redis_client.get(lease_key(cam)) == w.encode()


def test_a_worker_restarted_under_the_same_id_resumes_its_cameras_at_once(redis_client: redis.Redis) -> None:
    fleet = Fleet(redis_client)
    fleet.add("w1")
    fleet.add("w2")
    fleet.settle()
    mine = sorted(fleet.keepers["w1"].held)
    fleet.kill("w1")
    fleet.add("w1").tick()  # new process, same id, leases still alive
    assert sorted(fleet.keepers["w1"].held) == mine


def test_tick_must_be_well_below_the_ttl(redis_client: redis.Redis) -> None:
    with pytest.raises(ValueError, match="half the lease ttl"):
        LeaseKeeper(LeaseBoard(redis_client, "w", ttl_s=1.0), CAMS, print, print, tick_s=0.6)
