"""The training data goes through the project's one class table (vision.detector.CLASS_MAP)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.types import LABELS
from models.dataset import (
    SOURCES,
    DatasetError,
    build_dataset,
    id_table,
    read_source_names,
    remap_label_text,
    source_mapping,
)
from tests.paths import SHARED_DATA

TRAIN_ROOT = SHARED_DATA / "train"


def test_every_target_is_one_of_our_labels() -> None:
    mapping = source_mapping("trafficvision_km39_idn", ["car", "bus-l-", "truck-xl-", "small bus"])
    assert set(mapping.values()) <= set(LABELS)


@pytest.mark.parametrize(
    ("source", "name", "label"),
    [
        ("trafficvision_km39_idn", "truck-s-", "truck"),
        ("trafficvision_km39_idn", "small truck", "truck"),
        ("trafficvision_km39_idn", "bus-l-", "bus"),
        ("trafficvision_km39_idn", "small bus", "bus"),
        ("trafficvision_km39_idn", "car", "car"),
        ("modes_of_transport_ind", "bike", "motorcycle"),
        ("atl_cctv_highway", "bike", "motorcycle"),
        ("atl_cctv_highway", "truck", "truck"),
    ],
)
def test_known_mappings(source: str, name: str, label: str) -> None:
    assert source_mapping(source, [name]) == {name: label}


def test_id_table_uses_our_label_order() -> None:
    table = id_table("atl_cctv_highway", ["bike", "bus", "car", "truck"])
    assert table == {
        0: LABELS.index("motorcycle"),
        1: LABELS.index("bus"),
        2: LABELS.index("car"),
        3: LABELS.index("truck"),
    }


def test_unmapped_class_is_an_error() -> None:
    with pytest.raises(DatasetError, match="tractor"):
        id_table("atl_cctv_highway", ["bike", "tractor"])
    with pytest.raises(DatasetError, match="no class mapping"):
        id_table("unknown_set", ["car"])


def test_remap_label_text_rewrites_ids_and_drops_bad_lines() -> None:
    text = "0 0.5 0.5 0.1 0.2\n3 0.1 0.2 0.3 0.4\n\nnot a line\n9 0.1 0.1 0.1 0.1\n"
    lines, bad = remap_label_text(text, {0: 4, 3: 2})
    assert lines == ["4 0.5 0.5 0.1 0.2", "2 0.1 0.2 0.3 0.4"]
    assert bad == 2


def test_build_dataset_on_a_tiny_set(tmp_path: Path) -> None:
    src = tmp_path / "src" / "atl_cctv_highway"
    for split in ("train", "val"):
        (src / "images" / split).mkdir(parents=True)
        (src / "labels" / split).mkdir(parents=True)
        (src / "images" / split / "a.jpg").write_bytes(b"x")
        (src / "labels" / split / "a.txt").write_text("0 0.5 0.5 0.1 0.1\n3 0.2 0.2 0.1 0.1\n")
    (src / "data.yaml").write_text("names: ['bike', 'bus', 'car', 'truck']\nnc: 4\n")
    data_yaml, stats = build_dataset(tmp_path / "src", tmp_path / "out", sources=("atl_cctv_highway",))
    out = data_yaml.parent
    assert (out / "images" / "train" / "atl_cctv_highway__a.jpg").is_symlink()
    assert (out / "labels" / "val" / "atl_cctv_highway__a.txt").read_text().split("\n")[:2] == [
        "4 0.5 0.5 0.1 0.1",
        "2 0.2 0.2 0.1 0.1",
    ]
    assert "names:\n  0: car\n" in data_yaml.read_text()
    assert stats.boxes["train/motorcycle"] == 1 and stats.boxes["val/truck"] == 1


def test_real_source_sets_are_fully_mapped() -> None:
    if not TRAIN_ROOT.is_dir():
        pytest.skip(f"training data not available: {TRAIN_ROOT}")
    for source in SOURCES:
        names = read_source_names(TRAIN_ROOT / source / "data.yaml")
        assert set(source_mapping(source, names)) == set(names), source
