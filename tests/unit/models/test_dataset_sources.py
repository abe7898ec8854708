"""Extra labelled sets from the committed manifest, synthetic renders as a training extra, and their scoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from core.types import LABELS, Detection
from models import dataset
from models.dataset import DatasetError, available_sources, build_dataset, extra_sources, labelled_classes
from models.synthetic_data import LABEL_OF, training_mix, write_set, yolo_lines
from sim.truth import SceneTruth, VehicleTruth
from tests.paths import REPO_ROOT


def make_set(root: Path, names: list[str], lines: str = "0 0.5 0.5 0.2 0.2\n") -> None:
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        (root / "images" / split / "a.jpg").write_bytes(b"x")
        (root / "labels" / split / "a.txt").write_text(lines)
    (root / "data.yaml").write_text(yaml.safe_dump({"names": names}))


def write_manifest(path: Path, sets: list[dict[str, object]]) -> Path:
    path.write_text(yaml.safe_dump({"sets": sets}))
    return path


def test_manifest_sets_count_only_when_present(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "m.yaml", [{"name": "here"}, {"name": "absent"}])
    make_set(tmp_path / "extra" / "here", ["car"])
    assert list(extra_sources(tmp_path / "extra", manifest)) == ["here"]
    assert extra_sources(tmp_path / "extra", tmp_path / "missing.yaml") == {}


def test_manifest_entry_without_a_name_is_an_error(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "m.yaml", [{"repo": "a/b"}])
    with pytest.raises(DatasetError, match=r"sets\[0\]: needs a name"):
        extra_sources(tmp_path, manifest)


def test_evaluation_only_sets_are_not_trained_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"name": "streets", "train": True},
            {
                "name": "bikes",
                "train": False,
                "labelled_classes": ["bicycle"],
                "mapping_to_ours": {"Bicycle": "bicycle"},
            },
        ],
    )
    extra = tmp_path / "extra"
    make_set(extra / "streets", ["car", "motorbike", "pedestrian", "tractor"], "0 0.5 0.5 0.2 0.2\n3 0.1 0.1 0.1 0.1\n")
    make_set(extra / "bikes", ["Bicycle"])
    monkeypatch.setattr(dataset, "EXTRA_ROOT", extra)
    monkeypatch.setattr(dataset, "EXTRA_MANIFEST", manifest)
    shared = tmp_path / "shared"
    shared.mkdir()
    assert available_sources(shared, extra) == ("streets",)
    assert available_sources(shared, extra, training=False) == ("streets", "bikes")
    assert labelled_classes("bikes", extra) == frozenset({"bicycle"})
    assert labelled_classes("streets", extra) is None
    with pytest.raises(DatasetError, match="tractor"):  # a class the table does not map and the manifest keeps
        build_dataset(shared, tmp_path / "out")


def test_a_manifest_can_drop_a_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = tmp_path / "extra"
    manifest = write_manifest(tmp_path / "m.yaml", [{"name": "streets", "mapping_to_ours": {"tractor": "drop"}}])
    make_set(extra / "streets", ["car", "tractor"], "0 0.5 0.5 0.2 0.2\n1 0.1 0.1 0.1 0.1\n")
    monkeypatch.setattr(dataset, "EXTRA_ROOT", extra)
    monkeypatch.setattr(dataset, "EXTRA_MANIFEST", manifest)
    shared = tmp_path / "shared"
    shared.mkdir()
    data_yaml, stats = build_dataset(shared, tmp_path / "out")
    assert (data_yaml.parent / "labels" / "train" / "streets__a.txt").read_text() == "0 0.5 0.5 0.2 0.2\n"
    assert stats.boxes["train/car"] == 1


def test_committed_manifest_names_repo_commit_licence_for_every_set() -> None:
    doc = yaml.safe_load((REPO_ROOT / "models" / "data_sources.yaml").read_text())
    assert doc["sets"], "no set in the manifest"
    for entry in doc["sets"]:
        for key in ("name", "repo", "commit", "path_in_repo", "licence", "original_classes", "mapping_to_ours"):
            assert entry.get(key), (entry.get("name"), key)
        assert len(entry["commit"]) == 40
        assert entry["licence"].startswith(("CC BY", "CC0", "MIT", "Apache", "ODbL")), entry["licence"]


def truth(*vehicles: tuple[str, tuple[float, float, float, float], bool]) -> SceneTruth:
    return SceneTruth(
        0,
        0,
        tuple(
            VehicleTruth(i, label, "LEA-1", "up", (0.0, 0.0), 30.0, box, (0.0, 0.0), visible)
            for i, (label, box, visible) in enumerate(vehicles)
        ),
    )


def test_synthetic_labels_keep_only_classes_with_real_data() -> None:
    t = truth(
        ("car", (10, 20, 40, 30), True),
        ("van", (100, 20, 40, 30), True),  # labelled car, as the real sets label vans
        ("rickshaw", (200, 20, 40, 30), True),  # never labelled (and never drawn for training)
        ("bus", (300, 20, 4, 30), True),  # too narrow
        ("truck", (300, 20, 40, 30), False),  # out of view
    )
    lines = yolo_lines(t, (100, 400))
    assert lines == [
        f"{LABELS.index('car')} 0.075000 0.350000 0.100000 0.300000",
        f"{LABELS.index('car')} 0.300000 0.350000 0.100000 0.300000",
    ]
    assert {v for v in LABEL_OF.values() if v is not None} <= {"car", "bus", "truck", "motorcycle"}


def test_synthetic_training_mix_draws_no_rickshaw() -> None:
    from config.settings import SyntheticVehicleMix

    mix = training_mix(SyntheticVehicleMix())
    assert mix.rickshaw == 0 and mix.car > 0


def test_synthetic_set_is_train_only_and_merges(tmp_path: Path) -> None:
    counts = write_set(tmp_path / "synth", frames=6, gap_s=2.0, n_scenes=5)
    assert sum(counts.values()) > 0 and "rickshaw" not in counts
    assert len(list((tmp_path / "synth" / "images" / "train").iterdir())) == 6
    shared = tmp_path / "shared"
    make_set(shared / "atl_cctv_highway", ["bike", "bus", "car", "truck"])
    data_yaml, stats = build_dataset(
        shared, tmp_path / "out", sources=("atl_cctv_highway",), synthetic=tmp_path / "synth"
    )
    assert stats.images["synthetic/train"] == 6 and "synthetic/val" not in stats.images
    val = list((data_yaml.parent / "images" / "val").iterdir())
    assert val and not any(p.name.startswith("synthetic__") for p in val)


def test_bench_synthetic_scores_against_truth() -> None:
    from bench.synthetic import score_frame, summary

    t = truth(
        ("car", (10, 10, 40, 30), True),
        ("bus", (100, 10, 60, 40), True),
        ("car", (300, 10, 8, 6), True),  # too small to score: a detection on it is not an error
        ("car", (0, 50, 30, 30), True),  # cut by the image edge: not scored
    )
    dets = [
        Detection("car", 0.9, (11, 10, 40, 30)),
        Detection("truck", 0.8, (101, 11, 60, 40)),  # found, wrong label
        Detection("car", 0.7, (300, 10, 8, 6)),
        Detection("car", 0.6, (200, 60, 30, 30)),  # nothing there
    ]
    c = score_frame(dets, t, (100, 400), min_px=12)
    assert (c["tp"], c["fn"], c["fp"], c["label_ok"]) == (2, 0, 1, 1)
    s = summary("cam", c, 1)
    assert s["recall"] == 1.0 and s["precision"] == pytest.approx(2 / 3, abs=1e-3) and s["label_accuracy"] == 0.5
    assert np.isfinite(s["recall"])
