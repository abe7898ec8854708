"""Tiled inference: tile grids, merging of whole boxes and edge fragments, and the tiled detector end to end."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from core.types import Detection
from vision.tiling import Tile, TiledDetector, merge_tiled, parse_tiles, tile_grid, touches_inner_edge


def det(label: str, conf: float, x: float, y: float, w: float, h: float) -> Detection:
    return Detection(label, conf, (x, y, w, h))


@pytest.mark.parametrize(
    ("hw", "grid", "overlap", "expected"),
    [
        ((100, 200), (1, 1), 0.2, [Tile(0, 0, 200, 100)]),
        ((100, 200), (2, 1), 0.0, [Tile(0, 0, 100, 100), Tile(100, 0, 100, 100)]),
        ((100, 200), (2, 1), 0.2, [Tile(0, 0, 112, 100), Tile(88, 0, 112, 100)]),
        ((90, 90), (3, 3), 0.0, [Tile(x, y, 30, 30) for y in (0, 30, 60) for x in (0, 30, 60)]),
    ],
)
def test_tile_grid(hw: tuple[int, int], grid: tuple[int, int], overlap: float, expected: list[Tile]) -> None:
    assert tile_grid(hw, grid, overlap) == expected


@pytest.mark.parametrize(("hw", "grid", "overlap"), [((540, 960), (3, 2), 0.25), ((1080, 1920), (4, 3), 0.2)])
def test_tile_grid_covers_the_frame_with_the_asked_overlap(
    hw: tuple[int, int], grid: tuple[int, int], overlap: float
) -> None:
    tiles = tile_grid(hw, grid, overlap)
    assert len(tiles) == grid[0] * grid[1]
    assert min(t.x for t in tiles) == 0 and max(t.x + t.w for t in tiles) == hw[1]
    assert min(t.y for t in tiles) == 0 and max(t.y + t.h for t in tiles) == hw[0]
    a, b = tiles[0], tiles[1]
    assert (a.x + a.w - b.x) / a.w == pytest.approx(overlap, abs=0.02)


@pytest.mark.parametrize(("grid", "overlap"), [((0, 1), 0.2), ((2, 2), 1.0), ((2, 2), -0.1)])
def test_tile_grid_rejects_bad_settings(grid: tuple[int, int], overlap: float) -> None:
    with pytest.raises(ValueError):
        tile_grid((100, 100), grid, overlap)


@pytest.mark.parametrize(
    ("box", "tile", "expected"),
    [
        ((0, 0, 10, 10), Tile(0, 0, 60, 60), False),  # frame edge, not an inner tile edge
        ((50, 10, 10, 10), Tile(0, 0, 60, 60), True),  # right edge of the tile, inside the frame
        ((45, 10, 10, 10), Tile(0, 0, 60, 60), False),
        ((40, 40, 10, 10), Tile(40, 40, 60, 60), True),  # top-left edges of an inner tile
        ((90, 90, 10, 10), Tile(40, 40, 60, 60), False),  # bottom-right = frame edge
    ],
)
def test_touches_inner_edge(box: tuple[float, float, float, float], tile: Tile, expected: bool) -> None:
    assert touches_inner_edge(box, tile, (100, 100), margin=2.0) is expected


def test_merge_suppresses_duplicates_and_fragments() -> None:
    whole = [det("car", 0.9, 10, 10, 40, 20), det("car", 0.8, 12, 11, 40, 20), det("truck", 0.7, 11, 10, 40, 21)]
    fragments = [det("car", 0.95, 30, 10, 20, 20)]  # the right half of the same car, cut by a tile edge
    merged = merge_tiled(whole, fragments, iou=0.5)
    assert merged == [whole[0]]


def test_merge_joins_fragments_of_one_object_from_two_tiles() -> None:
    left = det("bus", 0.8, 0, 0, 60, 40)
    right = det("bus", 0.7, 50, 0, 50, 40)
    merged = merge_tiled([], [left, right], iou=0.5)
    assert len(merged) == 1
    assert merged[0].box == (0.0, 0.0, 100.0, 40.0)
    assert merged[0].confidence == 0.8


def test_merge_keeps_a_rider_apart_from_the_motorcycle() -> None:
    moto = det("motorcycle", 0.9, 10, 10, 20, 30)
    rider = det("person", 0.8, 11, 5, 18, 28)
    assert len(merge_tiled([moto, rider], [], iou=0.5)) == 2
    assert len(merge_tiled([moto, det("bicycle", 0.5, 11, 10, 20, 30)], [], iou=0.5)) == 1


def test_merge_per_class_keeps_overlapping_boxes_of_other_classes() -> None:
    a, b = det("car", 0.9, 10, 10, 40, 20), det("truck", 0.7, 11, 10, 40, 21)
    assert len(merge_tiled([a, b], [], iou=0.5, agnostic=False)) == 2
    assert len(merge_tiled([a, b], [], iou=0.5, agnostic=True)) == 1


class ResolutionLimitedDetector:
    """Finds white rectangles, as a network of input size ``size`` would: only those >= ``min_px`` there.

    A stand-in with the one property tiling is for: what it sees depends on how much an image
    is shrunk to the input size. Counts its calls and images.
    """

    def __init__(self, size: int = 512, min_px: float = 14.0) -> None:
        self.size = size
        self.min_px = min_px
        self.calls = 0
        self.images = 0

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        self.calls += 1
        self.images += len(images)
        out = []
        for im in images:
            scale = self.size / max(im.shape[:2])
            mask = (im[:, :, 0] > 200).astype(np.uint8)
            n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
            found = []
            for x, y, w, h, _ in stats[1:n]:
                if w * scale >= self.min_px and h * scale >= self.min_px:
                    found.append(det("car", 0.9, float(x), float(y), float(w), float(h)))
            out.append(found)
        return out


def scene() -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    img = np.zeros((540, 960, 3), np.uint8)
    small = [(100, 60, 12, 11), (700, 80, 14, 12), (200, 450, 12, 12)]  # far vehicles: 12-14 px
    big = [(380, 200, 300, 200)]  # a bus across the tile seams
    for x, y, w, h in small + big:
        img[y : y + h, x : x + w] = 255
    return img, small + big


def test_tiled_detector_finds_small_objects_and_keeps_big_ones_whole() -> None:
    img, truth = scene()
    inner = ResolutionLimitedDetector()
    assert len(inner.detect_batch([img])[0]) == 1  # whole frame alone: only the bus
    tiled = TiledDetector(inner, grid=(3, 2), overlap=0.25)
    found = sorted(tuple(int(v) for v in d.box) for d in tiled.detect(img))
    assert found == sorted(truth)
    assert tiled.passes == 7
    assert inner.calls == 1 + 2  # the plain call above, then tiles as one batch + the whole frame
    assert inner.images == 1 + 7


def test_tiled_detector_without_the_whole_frame_loses_nothing_small() -> None:
    img, truth = scene()
    tiled = TiledDetector(ResolutionLimitedDetector(), grid=(3, 2), overlap=0.25, full_frame=False)
    boxes = [d.box for d in tiled.detect(img)]
    for t in truth[:3]:
        assert tuple(float(v) for v in t) in boxes
    assert len(boxes) == 4  # the bus: its fragments from the tiles joined into one box


def test_tiled_detector_one_tile_is_the_plain_detector() -> None:
    img, _ = scene()
    inner = ResolutionLimitedDetector()
    assert TiledDetector(inner, grid=(1, 1)).detect(img) == inner.detect_batch([img])[0]
    assert TiledDetector(inner, grid=(2, 2)).detect_batch([np.zeros((0, 0, 3), np.uint8)]) == [[]]


@pytest.mark.parametrize(("text", "grid"), [("2x2", (2, 2)), ("3X2", (3, 2)), ("1*1", (1, 1)), ("8x8", (8, 8))])
def test_parse_tiles(text: str, grid: tuple[int, int]) -> None:
    assert parse_tiles(text) == grid


@pytest.mark.parametrize("text", ["2", "2x", "x2", "0x2", "9x1", "2x2x2", "ax2"])
def test_parse_tiles_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="tile"):
        parse_tiles(text)
