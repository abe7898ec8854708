"""What a violation becomes: the fine schedule and the evidence captured for it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from config.base import ConfigModel


class FineTier(ConfigModel):
    over_kmh: float = Field(gt=0, description="Applies when the speed is this much above the limit or more.")
    amount_pkr: int = Field(gt=0)


class OverdueStep(ConfigModel):
    """An overdue surcharge: from ``after_days`` past the due date the fine is the original + percent + amount."""

    after_days: int = Field(ge=0, le=3650, description="Days past the due date from which this step applies.")
    percent: float = Field(0, ge=0, le=1000, description="Surcharge as a percentage of the original fine.")
    amount_pkr: int = Field(0, ge=0, description="Fixed surcharge in PKR (added to the percentage).")


class FinesConfig(ConfigModel):
    """Fine schedule in Pakistani rupees (PKR)."""

    overspeed_pkr: int = Field(1500, gt=0)
    overspeed_tiers: tuple[FineTier, ...] = (
        FineTier(over_kmh=20, amount_pkr=2500),
        FineTier(over_kmh=40, amount_pkr=5000),
    )
    wrong_way_pkr: int = Field(2000, gt=0)
    red_light_pkr: int = Field(1000, gt=0)
    no_stopping_pkr: int = Field(500, gt=0)
    due_days: int = Field(
        30, ge=1, le=365, description="Days to pay after the owner is notified (and again after an appeal is upheld)."
    )
    overdue_surcharge: tuple[OverdueStep, ...] = Field(
        (OverdueStep(after_days=0, percent=25), OverdueStep(after_days=30, percent=50)),
        description="Stepped surcharges once a ticket is past its due date: the step with the largest after_days "
        "reached applies (steps replace each other). Empty = the fine never grows.",
    )

    @field_validator("overdue_surcharge")
    @classmethod
    def _steps(cls, v: tuple[OverdueStep, ...]) -> tuple[OverdueStep, ...]:
        days = [s.after_days for s in v]
        if len(set(days)) != len(days):
            raise ValueError(f"two steps with the same after_days: {sorted(days)}")
        return v


class EvidenceConfig(ConfigModel):
    """Evidence captured by the worker for each violation."""

    frames: int = Field(3, ge=2, le=3, description="Frames around the moment (before, at, after).")
    spacing_s: float = Field(0.6, gt=0, le=5, description="Time between the evidence frames.")
    hold_s: float = Field(
        3.0, ge=0, le=30, description="Wait this long (or until the track ends) for a better plate read."
    )
    buffer_s: float = Field(3.0, gt=0, le=30, description="Recent frames kept per camera.")
    redis_ttl_s: int = Field(
        86_400, ge=60, description="Evidence blobs wait this long in Redis for the ticketing service."
    )
    jpeg_quality: int = Field(90, ge=50, le=100)
    read_plates: Literal["off", "violators", "all"] = Field(
        "all",
        description="Read plates (ANPR, when installed) of every vehicle (watch list, sightings), of violators "
        "only, or none.",
    )
    plate_reader: Literal["fast", "text"] = Field(
        "fast",
        description="fast: the plate detector finds the plate, text is read on the plate crop only (tens of ms); "
        "text: text detection over the whole vehicle crop (1-3 s per vehicle on a CPU).",
    )
    plate_fallback: Literal["off", "violators", "all"] = Field(
        "violators",
        description="fast reader: also run the full text detection when the plate detector finds no plate or reads "
        "below 0.5 confidence, for violators' plates (tickets), for every vehicle, or never.",
    )


__all__ = [
    "EvidenceConfig",
    "FineTier",
    "FinesConfig",
    "OverdueStep",
]
