"""Pending violations: waiting for their last evidence frame and their plate (kept in Redis)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.types import Box, Violation


@dataclass
class Pending:
    """A violation waiting for its last evidence frame and its plate."""

    violation: Violation
    vehicle_key: str
    evidence: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    after_done: bool = False
    best_box: Box = (0.0, 0.0, 0.0, 0.0)
    plate_key: str | None = None
    last_seen_ms: int = 0

    def to_dict(self) -> dict[str, Any]:
        from bus.schema import dumps

        return {
            "violation": dumps(self.violation),
            "vehicle_key": self.vehicle_key,
            "evidence": self.evidence,
            "roles": self.roles,
            "after_done": self.after_done,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Pending | None:
        from bus.schema import SchemaError, loads

        try:
            v = loads(d["violation"]).obj
        except (KeyError, SchemaError):
            return None
        if not isinstance(v, Violation):
            return None
        return cls(
            v,
            str(d.get("vehicle_key", "")),
            list(d.get("evidence") or []),
            list(d.get("roles") or []),
            bool(d.get("after_done")),
        )
