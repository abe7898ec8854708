"""Traffic signals: a fixed phase schedule or phases reported on a stream."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from config.base import ConfigModel


class SignalPhaseSpan(ConfigModel):
    phase: Literal["green", "amber", "red"]
    duration_s: float = Field(gt=0, le=600)


class SignalConfig(ConfigModel):
    """A traffic signal (one junction approach).

    ``source: schedule``: the phase follows ``cycle``; at UTC time ``t`` (seconds since
    1970) the cycle position is ``(t - offset_s) mod cycle length``.
    ``source: stream``: the phase comes from ``signal.state`` events a controller
    integration writes; unknown (no red-light tickets) when none is newer than ``stale_s``.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = ""
    source: Literal["schedule", "stream"] = "schedule"
    cycle: tuple[SignalPhaseSpan, ...] = Field(
        (
            SignalPhaseSpan(phase="green", duration_s=30),
            SignalPhaseSpan(phase="amber", duration_s=3),
            SignalPhaseSpan(phase="red", duration_s=27),
        ),
        min_length=1,
    )
    offset_s: float = 0.0
    stale_s: float = Field(300.0, gt=0, description="Stream source: a state older than this is no longer trusted.")


__all__ = [
    "SignalConfig",
    "SignalPhaseSpan",
]
