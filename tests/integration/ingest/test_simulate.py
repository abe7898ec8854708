"""The shipped scenarios through the real system: exactly the expected tickets and incidents,
no duplicates, also when the worker crashes in the middle (restart test).

Each run is ``python -m ingest.simulate --scenario FILE --json`` with its own embedded Redis
and SQLite archive; expectations come from the scenario's scripted vehicles and the scene's
ground truth (see ingest/simulate.py). The restart times fall where a violation is pending
(evidence stored, not yet published) or a stalled car is being timed, the hardest moments
to lose or duplicate something.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.paths import REPO_ROOT

SCENARIOS = REPO_ROOT / "config" / "scenarios"

#: scenario -> scene time (s) of the worker crash: during a pending violation or a stall.
RESTART_AT = {
    "speeders": 47.0,
    "wrong_way": 23.0,
    "junction": 29.5,
    "stalled_watchlist": 20.0,
    "jam": 100.0,
}


def simulate(name: str, restart_at: float | None = None, timeout: int = 900) -> dict[str, int]:
    cmd = [sys.executable, "-m", "ingest.simulate", "--scenario", str(SCENARIOS / f"{name}.yaml"), "--json"]
    if restart_at is not None:
        cmd += ["--restart-at", str(restart_at)]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert lines, f"no output; stderr:\n{proc.stderr[-3000:]}"
    return json.loads(lines[-1])


def test_every_scenario_is_tested() -> None:
    shipped = {p.stem for p in SCENARIOS.glob("*.yaml")}
    assert shipped == set(RESTART_AT), "add new scenarios to RESTART_AT"


def _check(s: dict[str, int]) -> None:
    assert set(s) == {
        "expected_tickets",
        "issued_tickets",
        "duplicate_tickets",
        "expected_incidents",
        "raised_incidents",
    }
    assert s["expected_tickets"] + s["expected_incidents"] > 0, "a scenario must expect something"
    assert s["issued_tickets"] == s["expected_tickets"], s
    assert s["duplicate_tickets"] == 0, s
    assert s["raised_incidents"] == s["expected_incidents"], s


def test_speeders_scenario() -> None:
    s = simulate("speeders")
    _check(s)
    assert s["expected_tickets"] == 3


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    sorted(RESTART_AT),
)
def test_scenario_with_worker_crash(name: str) -> None:
    _check(simulate(name, RESTART_AT[name]))
