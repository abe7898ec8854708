"""A scenario file: the scene clock, its duration, an optional worker crash and a full configuration."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config.settings import AppConfig, SyntheticSource


class Scenario(BaseModel):
    """A scenario file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    start: datetime = Field(description="UTC time of the first frame.")
    duration_s: float = Field(gt=0, le=3600)
    restart_at_s: float | None = Field(None, gt=0)
    restart_gap_s: float = Field(2.0, ge=0, le=60)
    config: AppConfig

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)


def load_scenario(path: Path) -> Scenario:
    """Parse and validate a scenario; errors name the file and field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise SystemExit(f"{path}: cannot read scenario: {e}") from None
    try:
        sc = Scenario.model_validate(raw)
    except ValidationError as e:
        lines = [f"{path}: invalid scenario ({e.error_count()} error(s)):"]
        lines += [f"  {'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()]
        raise SystemExit("\n".join(lines)) from None
    for cam in sc.config.cameras:
        if not isinstance(cam.source, SyntheticSource):
            raise SystemExit(f"{path}: camera {cam.id} must have a synthetic source")
    return sc
