"""Scoring detections against ground truth: IoU, greedy one-to-one matching, per-image and per-set counts.

Matching is greedy by IoU (highest IoU pair first), one-to-one, at IoU >= 0.5 by default; counts are
kept for any class, per class (labels compared exactly) and for far-field boxes narrower than
:data:`SMALL_PX`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: One labelled box: (label, x, y, w, h) in pixels, x/y = top-left corner.
GtBox = tuple[str, float, float, float, float]
#: One predicted box with its confidence.
ScoredBox = tuple[float, GtBox]


@dataclass
class ClassCounts:
    """True positives, false positives and false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    def add(self, other: ClassCounts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn


@dataclass
class SetScore:
    """Scores of one evaluation set."""

    name: str
    images: int = 0
    any_class: ClassCounts = field(default_factory=ClassCounts)
    per_class: dict[str, ClassCounts] = field(default_factory=lambda: defaultdict(ClassCounts))
    #: Any-class counts of far-field boxes: ground truth (FN/TP) and predictions (FP) narrower than SMALL_PX.
    small: ClassCounts = field(default_factory=ClassCounts)
    extra: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        def cc(c: ClassCounts) -> dict[str, float | int | None]:
            return {"tp": c.tp, "fp": c.fp, "fn": c.fn, "precision": _r(c.precision), "recall": _r(c.recall)}

        return {
            "images": self.images,
            "any_class": cc(self.any_class),
            "per_class": {k: cc(v) for k, v in sorted(self.per_class.items())},
            f"small_lt{SMALL_PX}px": cc(self.small),
            **{k: _r(v) for k, v in self.extra.items()},
        }


#: Boxes narrower than this (pixels of the image as stored) are "far field" in the small-box row.
SMALL_PX = 20


def _r(v: float) -> float | None:
    return None if v != v else round(float(v), 4)  # NaN -> None (valid JSON)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (N, 4 xywh) with every box in ``b`` (M, 4 xywh)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, 0][:, None], b[:, 0][None]), 0, None)
    ih = np.clip(np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, 1][:, None], b[:, 1][None]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def greedy_match(pred: np.ndarray, gt: np.ndarray, iou_thr: float = 0.5) -> int:
    """Number of one-to-one matches with IoU >= ``iou_thr``, taking the highest-IoU pair first."""
    return len(greedy_pairs(pred, gt, iou_thr))


def greedy_pairs(pred: np.ndarray, gt: np.ndarray, iou_thr: float = 0.5) -> list[tuple[int, int]]:
    """One-to-one (prediction, ground truth) index pairs with IoU >= ``iou_thr``, highest-IoU pair first."""
    iou = iou_matrix(pred, gt)
    if iou.size == 0:
        return []
    pi, gi = np.nonzero(iou >= iou_thr)
    order = np.argsort(-iou[pi, gi], kind="stable")
    used_p: set[int] = set()
    used_g: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for k in order:
        p, g = int(pi[k]), int(gi[k])
        if p not in used_p and g not in used_g:
            used_p.add(p)
            used_g.add(g)
            pairs.append((p, g))
    return pairs


def score_image(preds: Sequence[GtBox], gts: Sequence[GtBox], iou_thr: float = 0.5) -> SetScore:
    """Score one image: any-class and per-class counts (labels compared exactly)."""
    s = SetScore("image", images=1)
    pb = np.array([p[1:] for p in preds], dtype=np.float64).reshape(-1, 4)
    gb = np.array([g[1:] for g in gts], dtype=np.float64).reshape(-1, 4)
    pairs = greedy_pairs(pb, gb, iou_thr)
    tp = len(pairs)
    s.any_class = ClassCounts(tp, len(preds) - tp, len(gts) - tp)
    matched_p, matched_g = {p for p, _ in pairs}, {g for _, g in pairs}
    small_g = [i for i, g in enumerate(gts) if g[3] < SMALL_PX]
    small_tp = sum(1 for i in small_g if i in matched_g)
    small_fp = sum(1 for i, p in enumerate(preds) if p[3] < SMALL_PX and i not in matched_p)
    s.small = ClassCounts(small_tp, small_fp, len(small_g) - small_tp)
    for label in {p[0] for p in preds} | {g[0] for g in gts}:
        pl = np.array([p[1:] for p in preds if p[0] == label], dtype=np.float64).reshape(-1, 4)
        gl = np.array([g[1:] for g in gts if g[0] == label], dtype=np.float64).reshape(-1, 4)
        t = greedy_match(pl, gl, iou_thr)
        s.per_class[label] = ClassCounts(t, len(pl) - t, len(gl) - t)
    return s


def accumulate(name: str, parts: Iterable[SetScore]) -> SetScore:
    """Sum per-image scores into one set score."""
    total = SetScore(name)
    for p in parts:
        total.images += p.images
        total.any_class.add(p.any_class)
        total.small.add(p.small)
        for k, v in p.per_class.items():
            total.per_class[k].add(v)
    return total


#: Predictions and ground truth of one image.
ImagePair = tuple[list[ScoredBox], list[GtBox]]


def score_pairs(name: str, pairs: Sequence[ImagePair], conf: float, iou_thr: float = 0.5) -> SetScore:
    """Score collected predictions, keeping those with confidence >= ``conf``."""
    return accumulate(name, (score_image([b for c, b in p if c >= conf], g, iou_thr) for p, g in pairs))
