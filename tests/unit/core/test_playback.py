"""core.playback: the moment typed, the window, which segment plays a moment and from which second."""

from __future__ import annotations

import pytest

from core.playback import Window, locate, parse_when
from core.types import RecordingSegment

T0 = 1_777_600_000_000  # 2026-05-01T01:46:40Z


def seg(start_s: float, length_s: float = 5.0) -> RecordingSegment:
    start = T0 + int(start_s * 1000)
    # frames at 5 fps: the last one is one period before the segment's end
    return RecordingSegment("cam", start, start + int(length_s * 1000) - 200, f"k{start}", "0" * 64, 1, length_s, 25)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("", T0),
        (None, T0),
        ("  ", T0),
        ("2026-05-01T01:46:40", T0),
        ("2026-05-01T01:46:40Z", T0),
        ("2026-05-01 01:46:40", T0),
        ("2026-05-01T01:46", T0 - 40_000),
        ("2026-05-01", T0 - (1 * 3600 + 46 * 60 + 40) * 1000),
        (str(T0 + 5), T0 + 5),
    ],
)
def test_parse_when(text: str | None, want: int) -> None:
    assert parse_when(text, T0) == want


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "12345", "2026-05-01T25:00"])
def test_parse_when_refuses_with_the_formats(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD|too small"):
        parse_when(text, T0)


def test_window_places_moments_in_percent_and_clamps() -> None:
    w = Window.around(T0, 60)
    assert (w.start_ms, w.end_ms) == (T0 - 60_000, T0 + 60_000)
    assert w.pct(T0) == 50.0 and w.pct(T0 - 30_000) == 25.0
    assert w.pct(T0 - 10**9) == 0.0 and w.pct(T0 + 10**9) == 100.0


@pytest.mark.parametrize(
    ("at_s", "want_start_s", "offset", "exact"),
    [
        (0.0, 0.0, 0.0, True),
        (3.25, 0.0, 3.25, True),
        (4.9, 0.0, 4.9, True),  # after the last frame, still within the segment's playing time
        (5.0, 5.0, 0.0, True),  # next segment begins
        (7.5, 5.0, 2.5, True),
        (12.0, 20.0, 0.0, False),  # a gap: the next recording, from its start
        (-3.0, 0.0, 0.0, False),  # before any recording
    ],
)
def test_locate(at_s: float, want_start_s: float, offset: float, exact: bool) -> None:
    segs = [seg(20), seg(0), seg(5)]  # any order
    found = locate(segs, T0 + int(at_s * 1000))
    assert found is not None
    assert found.segment.ts_ms == T0 + int(want_start_s * 1000)
    assert found.offset_s == pytest.approx(offset) and found.exact is exact


def test_locate_after_the_last_recording_is_none() -> None:
    assert locate([seg(0)], T0 + 60_000) is None
    assert locate([], T0) is None
