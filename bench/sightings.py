"""Plate search speed: N sightings of D distinct plates in a throw-away SQLite archive, then searches.

``python -m bench.sightings [--sightings 200000] [--plates 50000] [--searches 50]`` prints one
JSON line: rows, distinct plates, insert time, and the median / 95th percentile of a search
(SQL: the distinct plates of the length band -> rapidfuzz over them -> SQL: rows of the matches), for an
exact plate that exists and for one two characters off.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import insert

from archive import Archive
from archive.models import PlateIndexRecord, SightingRecord
from core.sightings import PlateQuery

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def plates(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct Pakistani-style plates: 2-3 letters and 3-4 digits (``LEA1234``)."""
    out: set[str] = set()
    while len(out) < n:
        k = int(rng.integers(2, 4))
        letters = "".join(LETTERS[i] for i in rng.integers(0, 26, k))
        digits = "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(3, 5))))
        out.add(letters + digits)
    return sorted(out)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.sightings", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sightings", type=int, default=200_000)
    ap.add_argument("--plates", type=int, default=50_000)
    ap.add_argument("--searches", type=int, default=50)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(7)
    names = plates(args.plates, rng)
    t_end = 1_800_000_000_000
    with tempfile.TemporaryDirectory() as tmp:
        arc = Archive(f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp) / "ev")
        t0 = time.perf_counter()
        batch = []
        for i in range(args.sightings):
            p = names[int(rng.integers(0, len(names)))]
            batch.append(
                {
                    "event_id": f"e{i}",
                    "plate": p,
                    "plate_len": len(p),
                    "camera_id": f"cam-{i % 4}",
                    "ts_ms": t_end - int(rng.integers(0, 30 * 86_400_000)),
                    "confidence": 0.9,
                    "votes": 2,
                    "track_id": i,
                    "box_json": "[]",
                }
            )
            if len(batch) == 10_000:
                with arc.session() as s:
                    s.execute(insert(SightingRecord), batch)
                batch = []
        if batch:
            with arc.session() as s:
                s.execute(insert(SightingRecord), batch)
        with arc.session() as s:  # what SightingRepository.add keeps: one index row per distinct plate
            s.execute(insert(PlateIndexRecord), [{"plate": p, "plate_len": len(p)} for p in names])
        insert_s = time.perf_counter() - t0
        timings: dict[str, list[float]] = {"exact": [], "two_off": []}
        hits: dict[str, list[int]] = {"exact": [], "two_off": []}
        for _ in range(args.searches):
            p = names[int(rng.integers(0, len(names)))]
            off = p[:-2] + ("0" if p[-2] != "0" else "1") + ("0" if p[-1] != "0" else "1")
            for kind, q in (("exact", p), ("two_off", off)):
                t = time.perf_counter()
                found = arc.sightings.search(PlateQuery(q))
                timings[kind].append((time.perf_counter() - t) * 1000)
                hits[kind].append(len(found))
        arc.close()
    out = {
        "sightings": args.sightings,
        "distinct_plates": len(names),
        "insert_s": round(insert_s, 2),
    }
    for kind, ts in timings.items():
        ts.sort()
        out[f"search_{kind}_ms_p50"] = round(statistics.median(ts), 1)
        out[f"search_{kind}_ms_p95"] = round(ts[int(0.95 * (len(ts) - 1))], 1)
        out[f"search_{kind}_results_mean"] = round(float(np.mean(hits[kind])), 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
