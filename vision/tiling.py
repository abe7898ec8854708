"""Tiled inference for wide views: overlapping slices of the frame, merged back into one list.

A pole camera over a highway sees far vehicles 10-20 px wide. One pass over the whole
frame at the model's size (512 px) shrinks a 1920 px frame by 3.75x, and those
vehicles shrink to a few pixels, below what the network can find. Slicing the frame
into a grid of overlapping tiles, each run at the model's size, shows them at (up to)
their full resolution, in the spirit of SAHI (Akyon et al., 2022, "Slicing Aided Hyper
Inference"). A whole-frame pass runs beside the tiles (SAHI's "standard prediction")
so that a bus filling half the frame, cut by every tile, is still seen whole.

Merging: each tile's boxes are moved back to frame pixels; a box touching a tile edge
that lies inside the frame is a possible *fragment* of an object cut by that edge.
Whole boxes (touching no inner tile edge, or from the whole-frame pass) go through
greedy NMS first; a fragment is then kept only if it is not mostly inside an already
kept box (intersection over the fragment's area, ``fragment_ios``), and fragments of one
object from neighbouring tiles (overlapping in the tiles' shared strip and lined up across
the seam) are joined into their union box. Tiles are run as one
batch (they share a shape) through the wrapped detector.

Pure numpy over :class:`core.types.Detection`; the network stays behind the wrapped
detector's ``detect_batch``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from core.types import Detection, nms_group
from vision.wrapper import WrappedDetector


class BatchDetector(Protocol):
    """A detector that takes several images at once (:class:`vision.detectors.exported.ExportedYoloDetector`, ...)."""

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        """One detection list per image, in pixels of that image."""
        ...


@dataclass(frozen=True, slots=True)
class Tile:
    """One slice of a frame: top-left corner and size in frame pixels."""

    x: int
    y: int
    w: int
    h: int


def parse_tiles(text: str) -> tuple[int, int]:
    """``"3x2"`` -> (3, 2): columns x rows of tiles.

    Raises:
        ValueError: not of that form, or a count outside 1..8.
    """
    parts = text.lower().replace("*", "x").split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"tiles must look like 2x2 (columns x rows), got {text!r}")
    cols, rows = (int(p) for p in parts)
    if not (1 <= cols <= 8 and 1 <= rows <= 8):
        raise ValueError(f"tile columns and rows must be 1..8, got {text!r}")
    return cols, rows


def tile_grid(frame_hw: tuple[int, int], grid: tuple[int, int], overlap: float) -> list[Tile]:
    """Overlapping tiles covering a frame: ``grid`` = (columns, rows), all tiles of one size.

    Neighbouring tiles share ``overlap`` of a tile's width (height); tiles are spread
    evenly so the first starts at 0 and the last ends at the frame edge.

    Args:
        frame_hw: Frame height and width.
        grid: Columns and rows (each >= 1).
        overlap: Fraction of a tile shared with its neighbour, 0 <= overlap < 1.

    Returns:
        Tiles, row by row.

    Raises:
        ValueError: a bad grid or overlap.
    """
    cols, rows = int(grid[0]), int(grid[1])
    if cols < 1 or rows < 1:
        raise ValueError(f"tile grid must be at least 1x1, got {cols}x{rows}")
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"tile overlap must be in [0, 1), got {overlap}")
    h, w = int(frame_hw[0]), int(frame_hw[1])

    def spans(length: int, n: int) -> list[tuple[int, int]]:
        if n == 1:
            return [(0, length)]
        size = min(length, int(np.ceil(length / (n - (n - 1) * overlap))))
        step = (length - size) / (n - 1)
        return [(int(round(i * step)), size) for i in range(n)]

    return [Tile(x, y, tw, th) for y, th in spans(h, rows) for x, tw in spans(w, cols)]


def _xyxy(dets: Sequence[Detection]) -> np.ndarray:
    if not dets:
        return np.zeros((0, 4), np.float64)
    b = np.array([d.box for d in dets], dtype=np.float64)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)


def _inter(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection areas of every box in ``a`` (n, 4) with every box in ``b`` (m, 4), xyxy."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    return np.asarray(wh[..., 0] * wh[..., 1])


def _area(a: np.ndarray) -> np.ndarray:
    return np.asarray((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]))


def touches_inner_edge(
    box: tuple[float, float, float, float], tile: Tile, frame_hw: tuple[int, int], margin: float
) -> bool:
    """Whether a box (x, y, w, h, frame pixels) touches an edge of ``tile`` that lies inside the frame."""
    x, y, w, h = box
    fh, fw = frame_hw
    return bool(
        (tile.x > 0 and x <= tile.x + margin)
        or (tile.y > 0 and y <= tile.y + margin)
        or (tile.x + tile.w < fw and x + w >= tile.x + tile.w - margin)
        or (tile.y + tile.h < fh and y + h >= tile.y + tile.h - margin)
    )


def _nms_keep(boxes: np.ndarray, scores: np.ndarray, groups: np.ndarray, iou: float) -> list[int]:
    """Greedy NMS (highest score first) within each group; indices kept, best first."""
    order = np.argsort(-scores, kind="stable")
    inter = _inter(boxes, boxes)
    area = _area(boxes)
    union = area[:, None] + area[None, :] - inter
    ious = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    kept: list[int] = []
    for i in order:
        if any(groups[i] == groups[k] and ious[i, k] > iou for k in kept):
            continue
        kept.append(int(i))
    return kept


def same_object_across_seam(a: np.ndarray, b: np.ndarray, extent: float) -> bool:
    """Whether two xyxy fragments look like one object cut by a tile seam.

    They must overlap (in the tiles' shared strip) and line up across the seam: along one
    axis their extents agree to ``extent`` of the shorter one (a car cut by a vertical seam
    has its two halves at the same height).
    """
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return False
    wa, wb, ha, hb = a[2] - a[0], b[2] - b[0], a[3] - a[1], b[3] - b[1]
    return bool(iy / min(ha, hb) > extent or ix / min(wa, wb) > extent)


def merge_tiled(
    whole: Sequence[Detection],
    fragments: Sequence[Detection],
    iou: float = 0.5,
    fragment_ios: float = 0.6,
    agnostic: bool = True,
) -> list[Detection]:
    """Merge whole boxes and edge fragments into one detection per object (see the module docstring).

    Args:
        whole: Boxes that no inner tile edge cuts (and the whole-frame pass's boxes), frame pixels.
        fragments: Boxes touching an inner tile edge.
        iou: NMS IoU threshold between whole boxes.
        fragment_ios: A fragment whose area lies this much inside a kept box is dropped;
            two fragments that overlap and line up this much across a seam
            (:func:`same_object_across_seam`) are joined into their union.
        agnostic: Suppress across classes (one box per vehicle; people apart, see
            :func:`core.types.nms_group`); False: within a class only.

    Returns:
        Detections, highest confidence first.
    """
    labels = sorted({d.label for d in (*whole, *fragments)})
    gid = {lab: (nms_group(lab) if agnostic else i) for i, lab in enumerate(labels)}
    out: list[Detection] = []
    if whole:
        boxes = _xyxy(whole)
        scores = np.array([d.confidence for d in whole])
        groups = np.array([gid[d.label] for d in whole])
        out = [whole[i] for i in _nms_keep(boxes, scores, groups, iou)]
    frags = sorted(fragments, key=lambda d: -d.confidence)
    if out and frags:  # each fragment's overlap with every kept box, in one go
        kept_groups = np.array([gid[d.label] for d in out])
        frag_boxes = _xyxy(frags)
        inside = _inter(frag_boxes, _xyxy(out)) / np.maximum(_area(frag_boxes), 1e-9)[:, None]
    joined: list[Detection] = []
    for i, f in enumerate(frags):
        fb = _xyxy([f])
        if float(_area(fb)[0]) <= 0:
            continue
        if out and float(inside[i][kept_groups == gid[f.label]].max(initial=0.0)) > fragment_ios:
            continue
        for j, g in enumerate(joined):
            if gid[g.label] != gid[f.label]:
                continue
            gb = _xyxy([g])
            if same_object_across_seam(fb[0], gb[0], fragment_ios):
                x1, y1 = min(fb[0, 0], gb[0, 0]), min(fb[0, 1], gb[0, 1])
                x2, y2 = max(fb[0, 2], gb[0, 2]), max(fb[0, 3], gb[0, 3])
                joined[j] = Detection(g.label, g.confidence, (float(x1), float(y1), float(x2 - x1), float(y2 - y1)))
                break
        else:
            joined.append(f)
    return sorted([*out, *joined], key=lambda d: -d.confidence)


class TiledDetector(WrappedDetector):
    """Runs a batch detector on overlapping tiles of each frame (plus, optionally, the whole frame).

    Thread-safe when the wrapped detector is (it keeps only counters of its own).

    Attributes:
        detector: The wrapped detector (needs ``detect_batch``).
        grid: Columns and rows of tiles.
        overlap: Fraction of a tile shared with its neighbour.
        full_frame: Also run the whole frame (finds objects larger than a tile).
        iou: NMS IoU threshold of the merge.
        agnostic: Merge across classes.
        seconds: Time spent detecting (all passes).
        frames: Frames detected.
    """

    def __init__(
        self,
        detector: BatchDetector,
        grid: tuple[int, int],
        overlap: float = 0.2,
        full_frame: bool = True,
        iou: float = 0.5,
        agnostic: bool = True,
        edge_margin: float = 2.0,
    ) -> None:
        """Wrap a detector.

        Args:
            detector: Any detector with ``detect_batch``.
            grid: (columns, rows) of tiles; (1, 1) is the whole frame alone.
            overlap: Fraction of a tile shared with its neighbour (0 <= overlap < 1).
            full_frame: Also run the whole frame at the model's size.
            iou: NMS IoU threshold when merging.
            agnostic: One box per object across classes.
            edge_margin: Pixels from an inner tile edge within which a box counts as cut by it.

        Raises:
            ValueError: a bad grid or overlap.
        """
        tile_grid((100, 100), grid, overlap)  # validates
        self.detector = detector
        self.grid = (int(grid[0]), int(grid[1]))
        self.overlap = float(overlap)
        self.full_frame = bool(full_frame)
        self.iou = float(iou)
        self.agnostic = bool(agnostic)
        self.edge_margin = float(edge_margin)
        self.seconds = 0.0
        self.frames = 0

    @property
    def passes(self) -> int:
        """Network passes per frame (tiles, plus the whole frame)."""
        return self.grid[0] * self.grid[1] + (1 if self.full_frame else 0)

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Detections of one BGR frame, in its pixels."""
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        """Tiles of every frame (and the whole frames) through the wrapped detector, merged per frame."""
        t0 = time.perf_counter()
        out: list[list[Detection]] = []
        for image in images:
            if image is None or image.size == 0:
                out.append([])
                continue
            out.append(self._detect_one(image))
        self.seconds += time.perf_counter() - t0
        self.frames += len(images)
        return out

    def _detect_one(self, image: np.ndarray) -> list[Detection]:
        hw = (int(image.shape[0]), int(image.shape[1]))
        tiles = tile_grid(hw, self.grid, self.overlap)
        if len(tiles) == 1 and tiles[0] == Tile(0, 0, hw[1], hw[0]):
            return list(self.detector.detect_batch([image])[0])
        crops = [np.ascontiguousarray(image[t.y : t.y + t.h, t.x : t.x + t.w]) for t in tiles]
        per_tile = self.detector.detect_batch(crops)
        whole: list[Detection] = list(self.detector.detect_batch([image])[0]) if self.full_frame else []
        fragments: list[Detection] = []
        for tile, dets in zip(tiles, per_tile, strict=True):
            for d in dets:
                x, y, w, h = d.box
                moved = Detection(d.label, d.confidence, (x + tile.x, y + tile.y, w, h))
                if touches_inner_edge(moved.box, tile, hw, self.edge_margin):
                    fragments.append(moved)
                else:
                    whole.append(moved)
        return merge_tiled(whole, fragments, iou=self.iou, agnostic=self.agnostic)


__all__ = [
    "BatchDetector",
    "Tile",
    "TiledDetector",
    "merge_tiled",
    "parse_tiles",
    "same_object_across_seam",
    "tile_grid",
    "touches_inner_edge",
]
