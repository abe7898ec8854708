"""Traffic-signal phase at a given time: from a fixed schedule or from controller events.

Pure logic. A :class:`SignalBoard` answers "what was signal S showing at time t,
and since when?" for the red-light rule. Two kinds of signal:

* :class:`ScheduledSignal`: a fixed cycle (e.g. green 30 s, amber 3 s, red 27 s);
  at UTC time ``t`` (seconds since 1970) the cycle position is ``(t - offset_s) mod
  cycle length``.
* :class:`StreamSignal`: phases reported by a controller integration as
  :class:`core.types.SignalState` events (stream ``signal.state``); the phase at ``t``
  is that of the newest state at or before ``t``, unknown when that state is older
  than ``stale_s`` (a silent controller proves nothing).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from core.types import SignalPhase, SignalState


@dataclass(frozen=True, slots=True)
class PhaseInfo:
    """A signal's phase at a moment.

    Attributes:
        phase: The phase.
        since_ms: When this phase began (UTC ms).
    """

    phase: SignalPhase
    since_ms: int


class SignalClock(Protocol):
    def at(self, ts_ms: int) -> PhaseInfo | None: ...


class ScheduledSignal:
    """A signal that follows a fixed cycle.

    Args:
        cycle: ``(phase, duration_s)`` in order, e.g. ``[("green", 30), ("amber", 3), ("red", 27)]``.
        offset_s: Shift of the cycle start (seconds).

    Raises:
        ValueError: empty cycle or a non-positive duration.
    """

    def __init__(self, cycle: Sequence[tuple[SignalPhase | str, float]], offset_s: float = 0.0) -> None:
        if not cycle:
            raise ValueError("a signal cycle needs at least one phase")
        self.cycle = [(SignalPhase(p), float(d)) for p, d in cycle]
        if any(d <= 0 for _, d in self.cycle):
            raise ValueError("signal phase durations must be > 0")
        self.offset_ms = int(round(offset_s * 1000))
        self._ends_ms: list[int] = []
        acc = 0.0
        for _, d in self.cycle:
            acc += d
            self._ends_ms.append(int(round(acc * 1000)))
        self.period_ms = self._ends_ms[-1]

    def at(self, ts_ms: int) -> PhaseInfo:
        """Phase at ``ts_ms`` and when it began."""
        pos = (ts_ms - self.offset_ms) % self.period_ms
        i = bisect.bisect_right(self._ends_ms, pos)
        start = self._ends_ms[i - 1] if i > 0 else 0
        return PhaseInfo(self.cycle[i][0], ts_ms - (pos - start))


class StreamSignal:
    """A signal whose phases come from controller events.

    Args:
        stale_s: A state older than this (with no newer one) no longer tells the phase.
        max_states: States remembered (oldest dropped).
    """

    def __init__(self, stale_s: float = 300.0, max_states: int = 1000) -> None:
        self.stale_ms = int(stale_s * 1000)
        self.max_states = max_states
        self._ts: list[int] = []
        self._phase: list[SignalPhase] = []

    def add(self, state: SignalState) -> None:
        """Record a state (out-of-order and repeated states are fine)."""
        i = bisect.bisect_right(self._ts, state.ts_ms)
        if i > 0 and self._ts[i - 1] == state.ts_ms:
            self._phase[i - 1] = state.phase
            return
        self._ts.insert(i, state.ts_ms)
        self._phase.insert(i, state.phase)
        if len(self._ts) > self.max_states:
            del self._ts[0], self._phase[0]

    def at(self, ts_ms: int) -> PhaseInfo | None:
        """Phase at ``ts_ms``, or None when unknown (no state yet, or stale)."""
        i = bisect.bisect_right(self._ts, ts_ms)
        if i == 0 or ts_ms - self._ts[i - 1] > self.stale_ms:
            return None
        # The phase began at the first of a run of equal states.
        j = i - 1
        while j > 0 and self._phase[j - 1] == self._phase[i - 1]:
            j -= 1
        return PhaseInfo(self._phase[i - 1], self._ts[j])


class SignalBoard:
    """All signals of a deployment, by id."""

    def __init__(self, signals: Mapping[str, ScheduledSignal | StreamSignal] | None = None) -> None:
        self.signals: dict[str, ScheduledSignal | StreamSignal] = dict(signals or {})

    def at(self, signal_id: str, ts_ms: int) -> PhaseInfo | None:
        """Phase of a signal at a time; None for an unknown signal or unknown phase."""
        sig = self.signals.get(signal_id)
        return None if sig is None else sig.at(ts_ms)

    def add_states(self, states: Iterable[SignalState]) -> int:
        """Feed controller states to the stream signals they name; returns how many were used."""
        used = 0
        for st in states:
            sig = self.signals.get(st.signal_id)
            if isinstance(sig, StreamSignal):
                sig.add(st)
                used += 1
        return used

    @property
    def stream_ids(self) -> tuple[str, ...]:
        """Ids of the signals fed by controller events."""
        return tuple(k for k, v in self.signals.items() if isinstance(v, StreamSignal))


__all__ = ["PhaseInfo", "ScheduledSignal", "SignalBoard", "SignalClock", "StreamSignal"]
