"""models.plate_data: the plate set rebuilt from a throwaway git repo with a Roboflow-like export."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from models.extra_data.manifest import ExtraDataError
from models.plate_data import build, load_manifest
from models.plate_data.cli import main

BASE = "Lp"


def jpg(w: int = 200, h: int = 160) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((h, w, 3), 120, np.uint8))
    assert ok
    return buf.tobytes()


def git(repo: Path, *args: str) -> str:
    cmd = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def make_repo(root: Path) -> tuple[Path, str]:
    files = {
        "data.yaml": b"names: ['license-plate', 'vehicle']\nnc: 2\n",
        # two Roboflow copies of one photo (one kept), a car box with its plate (also written as a crop)
        "train/images/car1_jpg.rf.aaa111.jpg": jpg(),
        "train/labels/car1_jpg.rf.aaa111.txt": b"0 0.5 0.7 0.2 0.05\n1 0.5 0.5 0.8 0.8\n",
        "valid/images/car1_jpg.rf.bbb222.jpg": jpg(),
        "valid/labels/car1_jpg.rf.bbb222.txt": b"0 0.5 0.7 0.2 0.05\n",
        # a bad label line is counted, not fatal
        "test/images/car2_jpg.rf.ccc333.jpg": jpg(),
        "test/labels/car2_jpg.rf.ccc333.txt": b"0 0.4 0.4 0.1 0.05\nnot a label\n",
    }
    repo = root / "src"
    for rel, data in files.items():
        p = repo / BASE / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    git(root, "init", "-q", str(repo))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "export")
    return repo, git(repo, "rev-parse", "HEAD")


def write_manifest(path: Path, commit: str, out: Path, **over: object) -> Path:
    entry = {
        "name": "lp",
        "repo": "someone/plates",
        "commit": commit,
        "path_in_repo": BASE,
        "licence": "CC BY 4.0",
        "classes": {"license-plate": "plate", "vehicle": None},
        "group_regex": r"^(.+?)_(?:jpe?g|png)\.rf\.[0-9a-f]+$",
        "vehicle_crops": {"class": "vehicle", "margin": 0.05, "min_px": 32},
        **over,
    }
    path.write_text(yaml.safe_dump({"out": str(out), "val_every": 2, "sets": [entry]}))
    return path


def test_build_keeps_one_copy_per_photo_writes_crops_and_manifest(tmp_path: Path) -> None:
    repo, commit = make_repo(tmp_path)
    manifest = load_manifest(write_manifest(tmp_path / "m.yaml", commit, tmp_path / "out"))
    data_yaml = build(manifest, {"lp": repo}, progress=lambda _m: None)
    data = yaml.safe_load(data_yaml.read_text())
    assert data["names"] == {0: "plate"}
    out = data_yaml.parent
    images = sorted(p.name for p in out.glob("images/*/*.jpg"))
    assert len([n for n in images if "__v" not in n]) == 2  # car1 once, car2 once
    assert len([n for n in images if "__v" in n]) == 1  # the car box of car1, with its plate
    crop_label = next(out.glob("labels/*/*__v0.txt")).read_text().split()
    assert crop_label[0] == "0" and 0.4 < float(crop_label[1]) < 0.6  # the plate, in crop coordinates
    record = json.loads((out / "MANIFEST.json").read_text())["sets"]["lp"]
    assert record["commit"] == commit and record["duplicate_copies_skipped"] == 1
    assert record["bad_label_lines"] == 1
    for label in out.glob("labels/*/*.txt"):  # every box is class 0
        assert all(line.split()[0] == "0" for line in label.read_text().splitlines())


def test_cli_rebuilds_and_errors_name_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo, commit = make_repo(tmp_path)
    m = write_manifest(tmp_path / "m.yaml", commit, tmp_path / "out")
    assert main(["--manifest", str(m), "--mirror", f"lp={repo}"]) == 0
    assert (tmp_path / "out" / "data.yaml").is_file()
    bad = write_manifest(tmp_path / "bad.yaml", "abc", tmp_path / "o2")
    with pytest.raises(ExtraDataError, match="`commit`"):
        load_manifest(bad)
    nothing = write_manifest(tmp_path / "np.yaml", commit, tmp_path / "o3", classes={"vehicle": None})
    with pytest.raises(ExtraDataError, match="`classes`"):
        load_manifest(nothing)
    assert main(["--manifest", str(m)]) == 2  # no snapshot given for the set
    assert "no snapshot" in capsys.readouterr().err


def test_shipped_manifest_is_valid() -> None:
    manifest = load_manifest()
    assert [s.name for s in manifest.sets] == ["openimages_plates"]
    assert all(len(s.commit) == 40 for s in manifest.sets)
