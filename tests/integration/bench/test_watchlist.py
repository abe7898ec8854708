"""``python -m bench.watchlist`` on a smaller list: same hits as the old scan, well under the 1 ms bar."""

from __future__ import annotations

import json
import subprocess
import sys

from bench.watchlist import run
from tests.paths import REPO_ROOT


def test_bench_agrees_with_the_old_scan_and_meets_the_bar() -> None:
    res = run(entries=20_000, reads=2000, old_reads=40, seed=3, progress=False)
    assert res["entries"] == 20_000 and res["disagreements_with_old"] == 0
    assert res["meets_bar"] is True
    hits = res["hits_by_read_kind"]
    assert isinstance(hits, dict)
    assert hits["exact"]["exact"] > 400 and hits["one_off"]["possible"] > 400 and hits["twins"]["possible"] > 400
    assert hits["miss"]["exact"] == 0


def test_cli_prints_one_json_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.watchlist", "--entries", "2000", "--reads", "200", "--old-reads", "10", "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["old_scan"]["reads"] == 10 and res["indexed"]["reads"] == 200
    assert "building 2000 entries" in proc.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "bench.watchlist", "--entries", "0"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "--entries" in bad.stderr
