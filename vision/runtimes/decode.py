"""Decoding of a YOLOv8/11 detection head into boxes in frame pixels.

The head output ``(batch, 4 + classes [+ mask coefficients], anchors)`` becomes, per
image, ``xyxy`` boxes in frame pixels, scores and class ids: confidence filter, class
filter, class-aware NMS (OpenCV), the same steps and order as ultralytics'
``non_max_suppression``, boxes mapped back with the resize ratio actually applied (as
``ultralytics.utils.ops.scale_boxes``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vision.runtimes.letterbox import LetterboxInfo

#: Class offset for class-aware NMS (boxes of different classes never overlap), as ultralytics.
_MAX_WH = 7680


@dataclass(frozen=True, slots=True)
class RawDetections:
    """Detections of one frame, in frame pixels, highest score first.

    Attributes:
        xyxy: ``(n, 4)`` float32 corners, clipped to the frame.
        scores: ``(n,)`` float32 confidences.
        classes: ``(n,)`` int model class ids.
    """

    xyxy: np.ndarray
    scores: np.ndarray
    classes: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)


def _empty() -> RawDetections:
    return RawDetections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))


def expected_anchors(input_hw: tuple[int, int]) -> tuple[int, int]:
    """Anchor counts of a YOLOv8/11 head for an input size: P3-P5 (strides 8-32) and P3-P6 (8-64) models."""
    h, w = input_hw
    p5 = sum(-(-h // s) * -(-w // s) for s in (8, 16, 32))
    return p5, p5 + -(-h // 64) * -(-w // 64)


def decode_yolo(
    output: np.ndarray,
    infos: list[LetterboxInfo],
    num_classes: int,
    conf: float,
    iou: float,
    classes: np.ndarray | None = None,
    max_det: int = 300,
    max_nms: int = 30000,
    input_hw: tuple[int, int] | None = None,
    agnostic: bool = False,
    groups: np.ndarray | None = None,
) -> list[RawDetections]:
    """Decode a YOLOv8/11 detection head and run NMS (class-aware, as ultralytics, or across classes).

    Args:
        output: ``(batch, 4 + num_classes [+ extra], anchors)``: centre x, centre y, width,
            height in input pixels, then per-class scores (extra rows, e.g. mask coefficients
            of a segmentation model, are ignored).
        infos: Letterbox placement of each image of the batch.
        num_classes: Number of classes of the model.
        conf: Minimum confidence.
        iou: NMS IoU threshold.
        classes: Model class ids to keep (None: all).
        max_det: Most detections kept per image.
        max_nms: Most candidates (by score) given to NMS.
        input_hw: Network input height and width; when given, the number of anchors is
            checked against the strides 8/16/32 (and 64 for P6 models).
        agnostic: Suppress overlapping boxes whatever their classes (one box per object, the
            best-scored class; ultralytics' ``agnostic_nms``); False: only within a class.
        groups: With ``agnostic``: model class id -> suppression group (``(num_classes,)`` ints);
            classes of one group suppress each other, other groups never (people are not
            suppressed by the vehicle they ride). None: one group.

    Returns:
        One :class:`RawDetections` per image.

    Raises:
        ValueError: the output does not have the expected shape.
    """
    _check_shape(output, len(infos), num_classes, input_hw)
    out: list[RawDetections] = []
    for b, info in enumerate(infos):
        found = _candidates(output[b, 4 : 4 + num_classes], conf, classes, max_nms)
        if found is None:
            out.append(_empty())
            continue
        cand, cls, score = found
        cx, cy, w, h = (output[b, k, cand] for k in range(4))
        xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1).astype(np.float32)
        idx = _nms(xyxy, cls, score, conf, iou, agnostic, groups)[:max_det]
        boxes = _to_frame(xyxy[idx], info)
        out.append(RawDetections(boxes, score[idx].astype(np.float32), cls[idx].astype(np.int64)))
    return out


def _check_shape(output: np.ndarray, batch: int, num_classes: int, input_hw: tuple[int, int] | None) -> None:
    """Raise ValueError unless ``output`` is a YOLOv8/11 head output for ``batch`` images (see :func:`decode_yolo`)."""
    if (
        output.ndim != 3
        or output.shape[0] != batch
        or output.shape[1] < 4 + num_classes
        or (input_hw is not None and output.shape[2] not in expected_anchors(input_hw))
    ):
        raise ValueError(
            f"unexpected model output shape {output.shape}; expected (batch={batch}, 4+{num_classes}[+extra], anchors) "
            "of a YOLOv8/YOLO11 detection or segmentation head"
        )


def _candidates(
    scores_all: np.ndarray, conf: float, classes: np.ndarray | None, max_nms: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Anchors worth NMS in one image: best class above ``conf``, of a kept class, the ``max_nms`` best.

    Args:
        scores_all: ``(num_classes, anchors)`` class scores of one image.
        conf: Minimum confidence.
        classes: Model class ids to keep (None: all).
        max_nms: Most candidates (by score) kept.

    Returns:
        ``(anchor indices, class ids, scores)``, or None when no anchor is left.
    """
    best = scores_all.max(axis=0)
    cand = np.flatnonzero(best > conf)
    if cand.size == 0:
        return None
    cls = scores_all[:, cand].argmax(axis=0)
    score = best[cand]
    if classes is not None:
        keep = np.isin(cls, classes)
        cand, cls, score = cand[keep], cls[keep], score[keep]
        if cand.size == 0:
            return None
    if cand.size > max_nms:
        top = np.argsort(-score, kind="stable")[:max_nms]
        cand, cls, score = cand[top], cls[top], score[top]
    return cand, cls, score


def _nms(
    xyxy: np.ndarray,
    cls: np.ndarray,
    score: np.ndarray,
    conf: float,
    iou: float,
    agnostic: bool,
    groups: np.ndarray | None,
) -> np.ndarray:
    """Indices of the boxes NMS keeps, highest score first (boxes of other classes/groups never suppress)."""
    if agnostic:
        offset = ((groups[cls] if groups is not None else np.zeros_like(cls)) * _MAX_WH).astype(np.float32)[:, None]
    else:
        offset = (cls * _MAX_WH).astype(np.float32)[:, None]
    shifted = xyxy + offset
    rects = np.concatenate([shifted[:, :2], shifted[:, 2:] - shifted[:, :2]], axis=1)
    picked = cv2.dnn.NMSBoxes(rects.tolist(), score.astype(float).tolist(), float(conf), float(iou))
    idx = np.asarray(picked, dtype=np.int64).reshape(-1)
    return idx[np.argsort(-score[idx], kind="stable")]


def _to_frame(boxes: np.ndarray, info: LetterboxInfo) -> np.ndarray:
    """Map ``xyxy`` boxes from network-input pixels back to frame pixels, clipped to the frame (in place)."""
    boxes[:, [0, 2]] = (boxes[:, [0, 2]] - info.pad_x) / info.gain_x
    boxes[:, [1, 3]] = (boxes[:, [1, 3]] - info.pad_y) / info.gain_y
    fh, fw = info.frame_hw
    np.clip(boxes, 0, np.array([fw, fh, fw, fh], dtype=np.float32), out=boxes)
    return boxes
