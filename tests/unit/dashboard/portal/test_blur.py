"""dashboard.portal.blur: which frame is the moment, the vehicle's box, blurring around it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dashboard.portal.blur import moment_index, parse_box, redact_frame


@pytest.mark.parametrize(
    ("roles", "idx"),
    [
        (["frame", "frame", "frame", "plate"], 1),
        (["frame", "frame", "plate"], 0),
        (["frame", "frame", "vehicle"], 0),
        (["before", "at", "after", "plate"], 1),
        (["at", "after"], 0),
        (["frame"], 0),
        (["plate"], None),
        ([], None),
    ],
)
def test_moment_index(roles: list[str], idx: int | None) -> None:
    assert moment_index(roles) == idx


def test_parse_box() -> None:
    assert parse_box((("box", "10,20,30,40"),)) == (10.0, 20.0, 30.0, 40.0)
    assert parse_box((("box", "10,20,0,40"),)) is None
    assert parse_box((("box", "a,b"),)) is None and parse_box(()) is None


def test_redact_keeps_the_box_and_blurs_the_rest() -> None:
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)
    cv2.putText(img, "ABC-123", (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
    out = redact_frame(img, (200.0, 150.0, 100.0, 80.0))
    diff = np.abs(out.astype(int) - img.astype(int))
    assert diff[150:230, 200:300].mean() < 1.0  # the vehicle untouched (no face in noise)
    assert diff[0:100, 0:180].mean() > 40  # the other plate unreadable
    assert np.abs(redact_frame(img, None).astype(int) - img.astype(int)).mean() > 40  # no box: all blurred
