"""core.signals: scheduled cycles and controller streams."""

from __future__ import annotations

import pytest

from core.signals import ScheduledSignal, SignalBoard, StreamSignal
from core.types import SignalPhase, SignalState

CYCLE = [("green", 30), ("amber", 3), ("red", 27)]


@pytest.mark.parametrize(
    ("t_s", "phase", "since_s"),
    [
        (0, "green", 0),
        (29.999, "green", 0),
        (30, "amber", 30),
        (33, "red", 33),
        (59.9, "red", 33),
        (60, "green", 60),
        (125, "green", 120),
        (151.5, "amber", 150),
    ],
)
def test_schedule(t_s: float, phase: str, since_s: float) -> None:
    sig = ScheduledSignal(CYCLE)
    info = sig.at(int(t_s * 1000))
    assert info.phase is SignalPhase(phase)
    assert info.since_ms == int(since_s * 1000)


def test_schedule_offset_and_errors() -> None:
    assert ScheduledSignal(CYCLE, offset_s=10).at(10_000).phase is SignalPhase.GREEN
    assert ScheduledSignal(CYCLE, offset_s=10).at(5_000).phase is SignalPhase.RED
    with pytest.raises(ValueError):
        ScheduledSignal([])
    with pytest.raises(ValueError):
        ScheduledSignal([("red", 0)])


def test_stream_signal() -> None:
    sig = StreamSignal(stale_s=60)
    assert sig.at(1000) is None
    for ts, ph in [(1000, "green"), (5000, "red"), (3000, "amber"), (5000, "red"), (9000, "red")]:
        sig.add(SignalState("s", SignalPhase(ph), ts))
    assert sig.at(999) is None
    assert sig.at(2000).phase is SignalPhase.GREEN
    info = sig.at(9500)
    assert info.phase is SignalPhase.RED and info.since_ms == 5000
    assert sig.at(9000 + 60_001) is None  # stale


def test_board() -> None:
    st = StreamSignal()
    board = SignalBoard({"a": ScheduledSignal([("red", 10)]), "b": st})
    assert board.at("a", 0).phase is SignalPhase.RED
    assert board.at("zzz", 0) is None
    assert board.add_states([SignalState("b", SignalPhase.GREEN, 5), SignalState("a", SignalPhase.GREEN, 5)]) == 1
    assert board.at("b", 6).phase is SignalPhase.GREEN and board.stream_ids == ("b",)
