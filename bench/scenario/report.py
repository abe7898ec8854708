"""The scenario report: expected and produced tickets and incidents, matched to the scene's vehicles."""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.scenario.expected import Expected
from bench.scenario.model import Scenario
from bench.scenario.runner import Runner, RunResult
from bench.scenario.source import ScenarioSource
from core.geometry import box_iou

log = logging.getLogger("bench.scenario.report")


def match_vehicle(src: ScenarioSource, ts_ms: int, box: list[float]) -> tuple[int | None, float]:
    truth = src.truth.get(ts_ms)
    if truth is None or len(box) != 4 or box[2] <= 0:
        return None, 0.0
    best = max(truth.vehicles, key=lambda v: box_iou(v.box, tuple(box)), default=None)  # type: ignore[arg-type]
    if best is None:
        return None, 0.0
    iou = box_iou(best.box, tuple(box))  # type: ignore[arg-type]
    return (best.vehicle_id, iou) if iou >= 0.2 else (None, iou)


def true_speed(src: ScenarioSource, vid: int, ts_ms: int, window_s: float) -> float | None:
    """Mean true speed of a vehicle over the window ending at ``ts_ms`` (what a smoothed speed measures)."""
    pts = [
        (ts, v.ground_xy_m)
        for ts, t in src.truth.items()
        if ts_ms - window_s * 1000 <= ts <= ts_ms
        for v in t.vehicles
        if v.vehicle_id == vid
    ]
    if len(pts) < 2:
        return None
    pts.sort()
    (t0, g0), (t1, g1) = pts[0], pts[-1]
    return math.hypot(g1[0] - g0[0], g1[1] - g0[1]) / ((t1 - t0) / 1000) * 3.6


#: Ticket details that are bookkeeping, not what the rule measured.
_BOOKKEEPING = frozenset({"evidence_roles", "box", "track_first_ts_ms"})


def ticket_facts(t: dict[str, Any], start_ms: int) -> str:
    """What the rule measured for a produced ticket: track, times, speed and the rule's details."""
    d: dict[str, str] = t.get("details") or {}
    parts = [f"track {t.get('track_id')}", f"at {(t['ts_ms'] - start_ms) / 1000:.1f} s"]
    if d.get("track_first_ts_ms", "").isdigit():
        parts.append(f"first seen {(int(d['track_first_ts_ms']) - start_ms) / 1000:.1f} s")
    if t.get("speed_kmh") is not None:
        limit = t.get("limit_kmh")
        parts.append(f"{t['speed_kmh']:.1f} km/h" + (f" (limit {limit:.0f})" if limit is not None else ""))
    parts += [f"{k}={v}" for k, v in d.items() if k not in _BOOKKEEPING]
    parts.append("box " + ",".join(f"{c:.0f}" for c in t["box"]))
    return ", ".join(parts)


def report(sc: Scenario, runner: Runner, res: RunResult, exp: Expected, out: Callable[[str], None]) -> dict[str, int]:
    """Print the comparison; returns the summary numbers."""
    out(
        f"Scenario: {sc.name}  ({sc.duration_s:.0f} s of scene time, {res.seconds:.0f} s to run, {res.restarts} worker restart(s))"
    )
    if sc.description:
        out("  " + sc.description.strip().replace("\n", "\n  "))
    out("")
    out("Expected (from the scripted vehicles and the scene's ground truth):")
    for cam, vid, kind in exp.tickets:
        out(f"  ticket    {kind:<10} {cam} vehicle {vid}")
    for where, subject, kind in exp.incidents:
        out(f"  incident  {kind:<10} {where} {subject}")
    for n in exp.notes:
        out(f"  note: {n}")
    out("")
    out("Produced:")
    seen: dict[tuple[str, int | None, str], int] = defaultdict(int)
    facts: dict[tuple[str, int | None, str], list[str]] = defaultdict(list)
    speed_errors = []
    window = {c.id: c.speed.window_s for c in sc.config.cameras}
    for t in res.tickets:
        src = runner.sources.get(t["camera_id"])
        vid, iou = match_vehicle(src, t["ts_ms"], t["box"]) if src else (None, 0.0)
        seen[(t["camera_id"], vid, t["kind"])] += 1
        facts[(t["camera_id"], vid, t["kind"])].append(ticket_facts(t, sc.start_ms))
        extra = ""
        if t["speed_kmh"] is not None and vid is not None and src is not None:
            tv = true_speed(src, vid, t["ts_ms"], window[t["camera_id"]])
            if tv:
                err = (t["speed_kmh"] - tv) / tv
                speed_errors.append(err)
                extra = f" measured {t['speed_kmh']:.1f} km/h, true {tv:.1f} km/h ({100 * err:+.1f}%)"
        ev = "evidence ok" if t["evidence_ok"] else "EVIDENCE HASH MISMATCH"
        out(
            f"  ticket    {t['kind']:<10} {t['camera_id']} vehicle {vid if vid is not None else '?'} at {(t['ts_ms'] - sc.start_ms) / 1000:.1f} s -> {t['ticket_id']} "
            f"[{t['state']}] plate {t['plate'] or '(manual review)'} PKR {t['fine_pkr']}, {t['evidence']} files, {ev}{extra}"
        )
    for i in res.incidents:
        out(
            f"  incident  {i['kind']:<10} {i['camera_id'] or i['segment_id']} at {(i['ts_ms'] - sc.start_ms) / 1000:.1f} s: {i['summary']}"
        )
    for seg, lv in res.levels.items():
        changes = [lv[0]] + [b for a, b in zip(lv, lv[1:], strict=False) if a[1] != b[1]] if lv else []
        path = " -> ".join(f"{level}@{(ts - sc.start_ms) / 1000:.0f}s" for ts, level in changes)
        out(f"  levels    {seg}: {path}")
    if speed_errors:
        e = np.abs(speed_errors)
        out(f"  speed on tickets vs ground truth: mean |error| {100 * e.mean():.1f}%, max {100 * e.max():.1f}%")
    expected_pairs = {(c, v, k) for c, v, k in exp.tickets}
    produced_pairs = {p for p in seen if p[1] is not None}
    duplicates = sum(n - 1 for n in seen.values() if n > 1)
    missing = expected_pairs - produced_pairs
    unexpected = [p for p in seen if p not in expected_pairs]
    for p in sorted(missing, key=str):
        out(f"  MISSING   ticket {p[2]} for {p[0]} vehicle {p[1]}")
    for p in sorted(unexpected, key=str):
        line = f"UNEXPECTED ticket {p[2]} for {p[0]} vehicle {p[1]}: " + "; ".join(facts[p])
        out("  " + line)
        log.warning("%s", line)  # also on stderr with --json: what the rule measured, to debug a flaky run
    summary = {
        "expected_tickets": len(exp.tickets),
        "issued_tickets": len(res.tickets),
        "duplicate_tickets": duplicates,
        "expected_incidents": len(exp.incidents),
        "raised_incidents": len(res.incidents),
    }
    return summary
