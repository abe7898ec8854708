"""Greedy IoU matching used by models/evaluate.py."""

from __future__ import annotations

import numpy as np
import pytest

from models.evaluate import accumulate, greedy_match, iou_matrix, score_image


def test_iou_matrix_values() -> None:
    a = np.array([[0, 0, 10, 10]], dtype=float)
    b = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5]], dtype=float)
    assert iou_matrix(a, b)[0] == pytest.approx([1.0, 50 / 150, 0.0])


def test_greedy_match_is_one_to_one_and_prefers_best_iou() -> None:
    gt = np.array([[0, 0, 10, 10], [8, 0, 10, 10]], dtype=float)
    pred = np.array([[7, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], dtype=float)
    assert greedy_match(pred, gt, 0.5) == 2
    assert greedy_match(pred[:1], gt, 0.95) == 0
    assert greedy_match(np.zeros((0, 4)), gt) == 0


def test_score_image_any_class_vs_per_class() -> None:
    gts = [("car", 0, 0, 10, 10), ("truck", 50, 50, 20, 20)]
    preds = [("car", 0, 0, 10, 10), ("bus", 50, 50, 20, 20), ("car", 100, 100, 5, 5)]
    s = score_image(preds, gts)
    assert (s.any_class.tp, s.any_class.fp, s.any_class.fn) == (2, 1, 0)
    assert (s.per_class["truck"].tp, s.per_class["truck"].fn) == (0, 1)
    assert (s.per_class["bus"].fp, s.per_class["car"].tp, s.per_class["car"].fp) == (1, 1, 1)
    total = accumulate("x", [s, s])
    assert total.images == 2 and total.any_class.precision == pytest.approx(2 / 3) and total.any_class.recall == 1.0


def test_the_committed_label_audit_is_well_formed() -> None:
    """models/road_images_missing_labels.csv: known visibilities, boxes inside the 640x640 frames."""
    import csv

    from models.evaluate import AUDITED_LABELS, read_audited_labels

    with AUDITED_LABELS.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    assert {r["visibility"] for r in rows} <= {"full", "cut_by_frame_edge"}
    for r in rows:
        assert r["image"].startswith("images/rf100_km39_aditganteng_") and r["coarse_class"] in {"car", "bus", "truck"}
        x, y, w, h = (float(r[k]) for k in "xywh")
        assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= 640.5 and y + h <= 640.5
    full = read_audited_labels(AUDITED_LABELS)
    assert sum(len(v) for v in full.values()) == sum(r["visibility"] == "full" for r in rows)
