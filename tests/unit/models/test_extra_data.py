"""models.extra_data: rebuilding a manifest set from a throwaway git repo with a Roboflow-like export."""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from models import extra_data
from models.extra_data import ExtraDataError, Item, cap_evenly, main, spec_for, stem_key

BASE = "exports/roads-3"
NAMES = {0: "bus", 1: "car", 2: "motorbike"}


def png(w: int = 8, h: int = 6, shade: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (shade, 100, 200)).save(buf, format="PNG")
    return buf.getvalue()


def git(repo: Path, *args: str) -> str:
    cmd = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def make_repo(root: Path, files: dict[str, bytes]) -> tuple[Path, str]:
    """A git repo with ``files`` (paths under BASE) committed; returns (repo, commit)."""
    repo = root / "src"
    for rel, data in files.items():
        path = repo / BASE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (repo / "README.md").parent.mkdir(parents=True, exist_ok=True)
    (repo / "README.md").write_text("code\n")
    git(root, "init", "-q", str(repo))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "export")
    return repo, git(repo, "rev-parse", "HEAD")


def export_files() -> dict[str, bytes]:
    """Roboflow-like layout: train with augmented copies of one photo, valid + test, data.yaml, README."""
    f: dict[str, bytes] = {
        "data.yaml": yaml.safe_dump({"nc": 3, "names": NAMES, "roboflow": {"license": "CC BY 4.0"}}).encode(),
        "README.dataset.txt": b"License: CC BY 4.0\n",
    }
    for i, stem in enumerate(["a_jpg.rf.aa11", "a_jpg.rf.bb22", "b_jpg.rf.cc33", "c_png.rf.dd44", "d", "e", "f"]):
        f[f"train/images/{stem}.jpg"] = png(shade=i)
        f[f"train/labels/{stem}.txt"] = f"{i % 3} 0.5 0.5 0.2 0.2\n".encode()
    f["train/labels/b_jpg.rf.cc33.txt"] = b"1  0.5 0.5  0.25 0.25\n0 0.1 0.1 0.2 0.3 0.3 0.2\n7 0.5 0.5 0.1 0.1\nbad\n"
    del f["train/labels/f.txt"]  # an image without a label file
    f["train/images/big_jpg.rf.ee55.jpg"] = png(64, 40)
    f["train/labels/big_jpg.rf.ee55.txt"] = b"2 0.5 0.5 0.5 0.5\n"
    for split, stem in (("valid", "v1_jpg.rf.1111"), ("valid", "v2_jpg.rf.2222"), ("test", "t1_jpg.rf.3333")):
        f[f"{split}/images/{stem}.jpg"] = png(shade=50)
        f[f"{split}/labels/{stem}.txt"] = b"0 0.5 0.5 0.3 0.3\n"
    f["train/labels.cache"] = b"\0binary"
    return f


def build_fields(**over: Any) -> dict[str, Any]:
    b: dict[str, Any] = {
        "train_splits": ["train"],
        "val_splits": ["valid", "test"],
        "stem_regex": None,
        "key_strip_regex": None,
        "dedup_val": False,
        "group_regex": None,
        "val_fraction": None,
        "max_train": 100,
        "max_val": 100,
        "max_side": 32,
        "names_file": "data.yaml",
        "copy_files": ["data.yaml", "README.dataset.txt"],
    }
    b.update(over)
    return b


def write_manifest(path: Path, commit: str, build: dict[str, Any] | None, name: str = "roads") -> Path:
    entry: dict[str, Any] = {"name": name, "repo": "someone/roads", "commit": commit, "path_in_repo": BASE + "/"}
    entry["licence"] = "CC BY 4.0"
    if build is not None:
        entry["build"] = build
    path.write_text(yaml.safe_dump({"sets": [entry]}))
    return path


def rebuild(tmp_path: Path, files: dict[str, bytes], **over: Any) -> Path:
    repo, commit = make_repo(tmp_path, files)
    manifest = write_manifest(tmp_path / "m.yaml", commit, build_fields(**over))
    assert (
        main(["--manifest", str(manifest), "--mirror", str(repo), "--set", "roads", "--out", str(tmp_path / "out")])
        == 0
    )
    return tmp_path / "out" / "roads"


def names_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_rebuild_dedups_train_copies_splits_and_writes_data_yaml(tmp_path: Path) -> None:
    out = rebuild(tmp_path, export_files())
    train = names_in(out / "images" / "train")
    assert train == ["a_jpg.rf.aa11.jpg", "b_jpg.rf.cc33.jpg", "big_jpg.rf.ee55.jpg", "c_png.rf.dd44.jpg"] + [
        "d.jpg",
        "e.jpg",
        "f.jpg",
    ]  # a_jpg.rf.bb22 is a Roboflow copy of a_jpg.rf.aa11
    assert names_in(out / "images" / "val") == ["t1_jpg.rf.3333.jpg", "v1_jpg.rf.1111.jpg", "v2_jpg.rf.2222.jpg"]
    assert names_in(out / "labels" / "train") == [n.rsplit(".", 1)[0] + ".txt" for n in train]
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data == {"train": "images/train", "val": "images/val", "nc": 3, "names": ["bus", "car", "motorbike"]}
    assert (out / "source_README.dataset.txt").read_text() == "License: CC BY 4.0\n"
    assert yaml.safe_load((out / "source_data.yaml").read_text())["roboflow"]["license"] == "CC BY 4.0"
    # verbatim 5-field line (whitespace normalised), polygon -> box, bad class and bad line dropped
    assert (out / "labels" / "train" / "b_jpg.rf.cc33.txt").read_text() == (
        "1 0.5 0.5 0.25 0.25\n0 0.200000 0.200000 0.200000 0.200000\n"
    )
    assert (out / "labels" / "train" / "f.txt").read_text() == ""
    stats = json.loads((out / "_stats.json").read_text())
    assert stats["dedup_dropped"] == 1 and stats["missing_label"] == 1 and stats["bad_lines"] == 2
    assert stats["polygons_converted"] == 1 and stats["splits"]["val"]["boxes"] == 3


def test_small_images_are_copied_large_ones_downscaled(tmp_path: Path) -> None:
    files = export_files()
    out = rebuild(tmp_path, files)
    assert (out / "images" / "train" / "d.jpg").read_bytes() == files["train/images/d.jpg"]
    with Image.open(out / "images" / "train" / "big_jpg.rf.ee55.jpg") as img:
        assert img.size == (32, 20) and img.format == "JPEG"
    assert json.loads((out / "_stats.json").read_text())["resized"] == 1


def test_caps_are_evenly_spaced_over_sorted_paths(tmp_path: Path) -> None:
    out = rebuild(tmp_path, export_files(), max_train=3, max_val=2)
    # 7 train items after dedup: indices int(i * 7 / 3) = 0, 2, 4; val (test/ sorts before valid/): 0, 1
    assert names_in(out / "images" / "train") == ["a_jpg.rf.aa11.jpg", "big_jpg.rf.ee55.jpg", "d.jpg"]
    assert names_in(out / "images" / "val") == ["t1_jpg.rf.3333.jpg", "v1_jpg.rf.1111.jpg"]
    items = [Item(str(i), None) for i in range(10)]
    assert [x.image for x in cap_evenly(items, 4)] == ["0", "2", "5", "7"]
    assert cap_evenly(items, 20) == items


def phone_files() -> dict[str, bytes]:
    """Phone-app names with an uploader id, pre-upload suffixed copies, and web images to leave out."""
    f = {"data.yaml": yaml.safe_dump({"names": ["Bicycle"]}).encode(), "README.dataset.txt": b"x\n"}
    users = [f"user{u:02d}" for u in range(8)]
    for k, user in enumerate(users):
        for j, split in enumerate(("train", "valid", "test")):
            for suffix in ("", "_grayscale", "-1-"):
                stem = f"IMG_{user}_{k}{j}{suffix}_jpg.rf.{k}{j}{len(suffix)}ab"
                f[f"{split}/images/{stem}.jpg"] = png(shade=k)
                f[f"{split}/labels/{stem}.txt"] = b"0 0.5 0.5 0.4 0.4\n"
        # the same photo in two splits (Roboflow put copies of one photo in train and test)
        f[f"test/images/IMG_{user}_{k}0_jpg.rf.ffff.jpg"] = png(shade=k)
    f["train/images/istockphoto-123_jpg.rf.9999.jpg"] = png()
    return f


def test_group_split_dedups_across_splits_and_keeps_uploaders_apart(tmp_path: Path) -> None:
    out = rebuild(
        tmp_path,
        phone_files(),
        stem_regex=r"^IMG_user\d+_",
        key_strip_regex=r"(_grayscale|-\d+-)",
        dedup_val=True,
        group_regex=r"^IMG_(user\d+)_",
        val_fraction=0.25,
    )
    train, val = names_in(out / "images" / "train"), names_in(out / "images" / "val")
    assert len(train) + len(val) == 8 * 3  # one copy per photo, web image dropped
    assert all("_grayscale" not in n and "-1-" not in n for n in train + val)  # the unsuffixed copy wins
    assert len({stem_key(n, re.compile(r"(_grayscale|-\d+-)")) for n in train + val}) == 8 * 3
    group = re.compile(r"^IMG_(user\d+)_")
    train_groups = {group.match(n).group(1) for n in train}  # type: ignore[union-attr]
    val_groups = {group.match(n).group(1) for n in val}  # type: ignore[union-attr]
    assert len(val_groups) == 2 and not train_groups & val_groups
    stats = json.loads((out / "_stats.json").read_text())
    assert stats["groups"] == {"n_groups": 8, "val_groups": sorted(val_groups)}
    assert stats["dedup_dropped"] == 8 * 3 * 2 + 8 and stats["val_dropped_in_train"] == 0


def test_stem_key_strips_roboflow_hash_and_suffixes() -> None:
    strip = re.compile(r"(_grayscale|-\d+-)")
    assert stem_key("x/train/images/p-1-_grayscale_jpg.rf.0a1b.jpg", strip) == "p"
    assert stem_key("x/train/images/p_jpg.rf.0a1b.jpg", None) == "p"
    assert stem_key("x/train/images/plain.png", None) == "plain"


def test_bare_mirror_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo, commit = make_repo(tmp_path, export_files())
    bare = tmp_path / "mirror.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    manifest = write_manifest(tmp_path / "m.yaml", commit, build_fields())
    args = ["--manifest", str(manifest), "--out", str(tmp_path / "out")]
    assert main([*args, "--mirror", str(bare), "--set", "roads"]) == 0
    assert main([*args, "--mirror", str(bare), "--set", "roads"]) == 1  # will not overwrite
    assert "use --force" in capsys.readouterr().err
    assert main([*args, "--mirror", str(bare), "--set", "roads", "--force"]) == 0
    capsys.readouterr()
    assert main([*args, "--list"]) == 0
    listed = capsys.readouterr().out
    assert "roads" in listed and "CC BY 4.0" in listed and "present" in listed


def test_errors_name_the_field_or_commit(tmp_path: Path) -> None:
    repo, commit = make_repo(tmp_path, export_files())
    manifest = write_manifest(tmp_path / "m.yaml", commit, None)
    with pytest.raises(ExtraDataError, match=r"sets\[0\] \(roads\): missing `build`"):
        spec_for(manifest, "roads")
    incomplete = build_fields()
    del incomplete["max_side"]
    with pytest.raises(ExtraDataError, match=r"build: missing field `max_side`"):
        spec_for(write_manifest(tmp_path / "m.yaml", commit, incomplete), "roads")
    with pytest.raises(ExtraDataError, match=r"build.dedup_val: expected bool"):
        spec_for(write_manifest(tmp_path / "m.yaml", commit, build_fields(dedup_val="yes")), "roads")
    with pytest.raises(ExtraDataError, match=r"build.stem_regex: not a valid regex"):
        spec_for(write_manifest(tmp_path / "m.yaml", commit, build_fields(stem_regex="(")), "roads")
    spec = spec_for(write_manifest(tmp_path / "m.yaml", "0" * 40, build_fields()), "roads")
    with pytest.raises(ExtraDataError, match=r"commit 0{40} \(manifest field `commit`\) is not in the mirror"):
        extra_data.build_set(extra_data.resolve_git_dir(repo), spec, tmp_path / "out")
    spec = spec_for(write_manifest(tmp_path / "m.yaml", commit, build_fields(copy_files=["LICENSE"])), "roads")
    with pytest.raises(ExtraDataError, match=rf"no {BASE}/LICENSE .*build.copy_files"):
        extra_data.build_set(extra_data.resolve_git_dir(repo), spec, tmp_path / "out2")
    with pytest.raises(ExtraDataError, match="not a git repository"):
        extra_data.resolve_git_dir(tmp_path)
