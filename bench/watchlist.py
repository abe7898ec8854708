"""Watchlist matching benchmark: the indexed rapidfuzz lookup vs the old pure-Python scan, 100,000 entries.

``python -m bench.watchlist [--entries 100000] [--reads 5000] [--old-reads 200] [--seed 7] [--json]``

Builds a random watchlist of realistic plates (Pakistani layouts from
:func:`core.plate_formats.random_plate`, plus Punjab plates with a year, ``LEA-19-1234``,
and foreign ``AB12CDE`` ones), a tenth of them expiring, then times
:meth:`core.anpr.Watchlist.match` on ``--reads`` readings: a quarter each exact reads of
listed plates, one edit off (substitution, insertion or deletion), OCR twins
(``0``/``O``, ``8``/``B`` ...) and plates not on the list. The same readings (the first
``--old-reads`` of them: the scan takes tens of ms each) go through the old O(n)
pure-Python scan (:func:`core.anpr.watch_scan.scan_match`), which must give the same hits.
Printed: ms per read (p50, p95, mean, max) for both, index build time and size, hits found.
Bar (issue 14): <= 1 ms per read. No plate is printed.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from dataclasses import asdict, dataclass

from core.anpr import Watchlist, WatchlistEntry
from core.anpr.watch_scan import scan_match
from core.plate_formats import random_plate
from core.types import Priority

T = 1_800_000_000_000
TWINS = {"0": "O", "O": "0", "1": "I", "I": "1", "8": "B", "B": "8", "5": "S", "S": "5", "2": "Z", "Z": "2"}
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
KINDS = ("exact", "one_off", "twins", "miss")


def realistic_plate(rng: random.Random) -> str:
    """A plate as printed: mostly Pakistani layouts, some with a year, some foreign."""
    r = rng.random()
    if r < 0.8:
        return random_plate(rng)
    if r < 0.92:  # Punjab series with the registration year
        return f"{rng.choice(('LEA', 'LEB', 'RIA', 'FDA', 'MNA'))}-{rng.randint(10, 25)}-{rng.randint(1, 9999)}"
    return f"{rng.choice(LETTERS)}{rng.choice(LETTERS)}{rng.randint(10, 99)} {''.join(rng.choices(LETTERS, k=3))}"


def build_entries(n: int, rng: random.Random) -> list[WatchlistEntry]:
    """``n`` distinct random entries (a tenth with an expiry, half of those already expired at T)."""
    seen: dict[str, WatchlistEntry] = {}
    prios = list(Priority)
    while len(seen) < n:
        expiry = T + rng.choice((-1, 1)) * rng.randint(1, 10**9) if rng.random() < 0.1 else None
        e = WatchlistEntry.create(realistic_plate(rng), "bench", rng.choice(prios), expiry=expiry)
        seen.setdefault(e.plate, e)
    return list(seen.values())


def make_reads(plates: list[str], n: int, rng: random.Random) -> list[tuple[str, str]]:
    """``(kind, reading)`` pairs, the kinds in equal shares."""
    out = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        p = rng.choice(plates)
        chars = list(p)
        j = rng.randrange(len(chars))
        if kind == "one_off":
            op = rng.randrange(3)
            if op == 0:
                chars[j] = rng.choice(LETTERS + "0123456789")
            elif op == 1:
                chars.insert(j, rng.choice("0123456789"))
            else:
                del chars[j]
        elif kind == "twins":
            idx = [k for k, c in enumerate(chars) if c in TWINS] or [j]
            for k in rng.sample(idx, min(len(idx), 2)):
                chars[k] = TWINS.get(chars[k], chars[k])
        elif kind == "miss":
            chars = list("".join(rng.choices(LETTERS, k=3)) + str(rng.randint(10000, 99999)))
        out.append((kind, "".join(chars)))
    rng.shuffle(out)
    return out


@dataclass(frozen=True)
class Timing:
    """ms per read."""

    reads: int
    p50_ms: float
    p95_ms: float
    mean_ms: float
    max_ms: float


def _timing(samples: list[float]) -> Timing:
    s = sorted(samples)
    return Timing(
        len(s),
        round(s[len(s) // 2] * 1000, 4),
        round(s[min(len(s) - 1, int(len(s) * 0.95))] * 1000, 4),
        round(statistics.fmean(s) * 1000, 4),
        round(s[-1] * 1000, 4),
    )


def run(entries: int, reads: int, old_reads: int, seed: int, progress: bool = True) -> dict[str, object]:
    rng = random.Random(seed)
    say = (lambda m: print(m, file=sys.stderr, flush=True)) if progress else (lambda m: None)
    say(f"building {entries} entries ...")
    listed = build_entries(entries, rng)
    t0 = time.perf_counter()
    wl = Watchlist(listed, clock=lambda: T)
    build_s = time.perf_counter() - t0
    say(f"index built in {build_s:.2f} s ({wl.index_keys} keys); {reads} reads ...")
    batch = make_reads([e.plate for e in listed], reads, rng)
    new_times, hits = [], {k: {"exact": 0, "possible": 0, "none": 0} for k in KINDS}
    results = []
    for kind, text in batch:
        t = time.perf_counter()
        hit = wl.match(text, T)
        new_times.append(time.perf_counter() - t)
        results.append(hit)
        hits[kind]["none" if hit is None else "exact" if hit.exact else "possible"] += 1
    by_plate = {e.plate: e for e in listed}
    n_old = min(old_reads, len(batch))
    say(f"old pure-Python scan on {n_old} of the reads ...")
    old_times, disagree = [], 0
    for i, (_, text) in enumerate(batch[:n_old]):
        t = time.perf_counter()
        old_hit = scan_match(by_plate, text, T)
        old_times.append(time.perf_counter() - t)
        disagree += old_hit != results[i]
        if progress and i % 20 == 19:
            print(f"\r  {i + 1}/{n_old}", end="", file=sys.stderr, flush=True)
    if progress and n_old:
        print(file=sys.stderr)
    new = _timing(new_times)
    old = _timing(old_times) if old_times else None
    return {
        "entries": len(listed),
        "index_keys": wl.index_keys,
        "build_s": round(build_s, 3),
        "indexed": asdict(new),
        "old_scan": asdict(old) if old else None,
        "speedup_mean": round(old.mean_ms / new.mean_ms, 1) if old and new.mean_ms else None,
        "disagreements_with_old": disagree,
        "hits_by_read_kind": hits,
        "bar_ms": 1.0,
        "meets_bar": new.p95_ms <= 1.0 and new.mean_ms <= 1.0,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.watchlist", description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=100_000, help="listed plates (default 100000)")
    ap.add_argument("--reads", type=int, default=5000, help="readings timed on the index (default 5000)")
    ap.add_argument("--old-reads", type=int, default=200, help="of those, readings timed on the old scan (default 200)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="one JSON line instead of the text table")
    args = ap.parse_args(argv)
    if args.entries < 1 or args.reads < 1 or args.old_reads < 0:
        ap.error("--entries and --reads must be >= 1, --old-reads >= 0")
    res = run(args.entries, args.reads, args.old_reads, args.seed)
    if args.json:
        print(json.dumps(res))
        return 0 if res["disagreements_with_old"] == 0 else 1
    new, old = res["indexed"], res["old_scan"]
    assert isinstance(new, dict)
    print(f"entries {res['entries']}, index keys {res['index_keys']}, build {res['build_s']} s")
    print(f"{'':18s} {'reads':>6s} {'p50 ms':>9s} {'p95 ms':>9s} {'mean ms':>9s} {'max ms':>9s}")
    for name, t in (("indexed rapidfuzz", new), ("old Python scan", old)):
        if isinstance(t, dict):
            print(
                f"{name:18s} {t['reads']:6d} {t['p50_ms']:9.4f} {t['p95_ms']:9.4f} {t['mean_ms']:9.4f} {t['max_ms']:9.4f}"
            )
    print(f"speed-up (mean) x{res['speedup_mean']}; disagreements with the old scan: {res['disagreements_with_old']}")
    print(f"hits by read kind: {json.dumps(res['hits_by_read_kind'])}")
    print(f"bar <= 1 ms per read: {'met' if res['meets_bar'] else 'NOT met'}")
    return 0 if res["disagreements_with_old"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
