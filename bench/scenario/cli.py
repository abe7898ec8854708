"""Run a synthetic camera scenario through the real system and compare with its ground truth.

``python -m bench.scenario --scenario config/scenarios/speeders.yaml [--json]`` (also
``python -m ingest.simulate``); see :mod:`bench.scenario` for the scenario format and
what is compared. Exits 0 when exactly the expected tickets and incidents were produced,
without duplicates.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

from bench.scenario.expected import expectations
from bench.scenario.model import load_scenario
from bench.scenario.report import report
from bench.scenario.runner import Runner


def main(argv: list[str] | None = None, prog: str = "python -m bench.scenario") -> int:
    """Run the scenario, print the report and the summary line; 0 when the counts match."""
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", required=True, type=Path, help="scenario YAML (see config/scenarios/)")
    ap.add_argument("--json", action="store_true", help="print only the final JSON line on stdout")
    ap.add_argument("--redis-url", help="a scratch Redis (default: a private embedded redis-server)")
    ap.add_argument("--archive-url", help="SQLAlchemy URL of a scratch archive (default: a temporary SQLite file)")
    ap.add_argument("--restart-at", type=float, help="crash and restart the worker at this scene time (s)")
    ap.add_argument("--keep", type=Path, help="keep the run's files (archive, evidence, Redis data) in this directory")
    ap.add_argument("--log-level", default="WARNING")
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    sc = load_scenario(args.scenario)
    if args.restart_at is not None:
        sc = sc.model_copy(update={"restart_at_s": args.restart_at})

    def progress(msg: str) -> None:
        print(f"\r{msg:<100}", end="", file=sys.stderr, flush=True)

    def out(line: str) -> None:
        if not args.json:
            print(line, flush=True)

    tmp = None
    if args.keep:
        workdir = args.keep
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="safecity-sim-")
        workdir = Path(tmp.name)
    runner = Runner(sc, args.redis_url, args.archive_url, workdir, progress)
    try:
        res = runner.run()
        print(file=sys.stderr)
        exp = expectations(sc, runner.sources)
        summary = report(sc, runner, res, exp, out)
    finally:
        runner.close()
        if tmp is not None:
            tmp.cleanup()
    print(json.dumps(summary, separators=(", ", ": ")), flush=True)
    ok = (
        summary["expected_tickets"] == summary["issued_tickets"]
        and summary["duplicate_tickets"] == 0
        and summary["expected_incidents"] == summary["raised_incidents"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
