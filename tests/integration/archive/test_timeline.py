"""The playback timeline's markers: one camera's tickets and incidents in a window, in time order (SQLite)."""

from __future__ import annotations

from pathlib import Path

from archive import Archive
from config.settings import FinesConfig
from core.tickets import issue
from core.types import Incident, IncidentKind, Priority, Violation

T0 = 1_777_600_000_000


def _violation(n: int, camera: str, ts_ms: int, plate: str | None) -> Violation:
    return Violation(
        violation_id=f"v-{n}",
        kind=IncidentKind.RED_LIGHT,
        camera_id=camera,
        segment_id="seg-1",
        track_id=n,
        ts_ms=ts_ms,
        label="car",
        plate=plate,
        plate_confidence=0.9 if plate else 0.0,
        location=(34.0, 71.5),
        evidence=(),
    )


def test_markers_of_one_camera_in_a_window(tmp_path: Path) -> None:
    arc = Archive(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "ev")
    try:
        for n, (cam, dt_s, plate) in enumerate(
            [("cam-a", 10, "PRA-2201"), ("cam-a", 70, None), ("cam-b", 20, "LEA-1"), ("cam-a", 500, "KHI-2")]
        ):
            assert arc.add_ticket(issue(_violation(n, cam, T0 + dt_s * 1000, plate), FinesConfig(), T0))
        for i, (cam, dt_s) in enumerate([("cam-a", 40), ("cam-b", 41), ("cam-a", -5)]):
            inc = Incident(
                f"inc-{i}", IncidentKind.STALLED, Priority.HIGH, T0 + dt_s * 1000, camera_id=cam, summary="x"
            )
            assert arc.add_incident(inc)
        marks = arc.clips.markers("cam-a", T0, T0 + 120_000)
        assert [(m.kind, m.ts_ms - T0, m.what) for m in marks] == [
            ("ticket", 10_000, "red_light"),
            ("incident", 40_000, "stalled"),
            ("ticket", 70_000, "red_light"),
        ]
        assert marks[0].label.replace("-", "") == "PRA2201" and marks[2].label == "no plate" and marks[1].id == "inc-0"
        assert arc.clips.markers("cam-c", 0, 2**62) == []
    finally:
        arc.close()
