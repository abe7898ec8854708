"""What every detector that wraps another reports about it: its runtime and whether its scores are calibrated.

The motion gate, the tiled detector, the shared (batching) detector and the one-by-one adapter
each hold a ``detector`` and add work around it; the System page and the tracker ask any of
them what runs underneath (``runtime``) and whether confidences are the model's own scores
(``calibrated_scores``: ByteTrack fuses them only then).
"""

from __future__ import annotations

from typing import Any


class WrappedDetector:
    """Base of detectors that wrap another one (``self.detector``)."""

    detector: Any

    @property
    def calibrated_scores(self) -> bool:
        """The wrapped detector's (a wrapper adds no scores of its own)."""
        return bool(getattr(self.detector, "calibrated_scores", True))

    @property
    def runtime(self) -> str:
        """The wrapped detector's runtime."""
        return str(getattr(self.detector, "runtime", type(self.detector).__name__))


__all__ = ["WrappedDetector"]
