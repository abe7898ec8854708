"""Rebuild an extra labelled set of ``models/data_sources.yaml`` from a local git snapshot of its repository.

Each manifest entry names a public repository (``repo`` @ ``commit``) holding a Roboflow-style YOLO
export under ``path_in_repo`` (``<split>/images``, ``<split>/labels``, ``data.yaml``), and a ``build``
mapping with the selection rules that were used to assemble ``data/extra/<name>/`` from it:

* ``train_splits`` / ``val_splits``: source splits read for our train / val;
* ``stem_regex``: keep only images whose file name matches (``re.search``; null: all);
* ``key_strip_regex``: removed from the source stem (the name without Roboflow's ``_jpg.rf.<hash>``)
  to form the de-duplication key, e.g. pre-upload augmentation suffixes (null: none);
* train keeps one copy per key (the copy whose own stem is the key when there is one); ``dedup_val``:
  val too, and val keys that are in train are dropped;
* ``group_regex`` + ``val_fraction``: pool all splits and split by group (``group(1)`` of the file
  name, e.g. an uploader id): the first ``round(n * val_fraction)`` groups by md5 go to val;
* ``max_train`` / ``max_val``: keep that many, evenly spaced over the sorted paths;
* ``max_side``: larger images are downscaled (LANCZOS, saved as JPEG quality 90), others copied as is;
* ``names_file``: the source yaml whose ``names`` become our ``data.yaml`` (original class names);
* ``copy_files``: files of the export copied beside the set as ``source_<name>`` (licence, README).

Label lines with 5 fields are kept verbatim; polygons become their bounding box; malformed lines,
unknown class ids and empty boxes are dropped. Only ``git`` is run (``ls-tree``, ``cat-file``).

Usage::

    python -m models.extra_data --list
    python -m models.extra_data --mirror /path/to/repo.git --set highway_od_idn [--out data/extra] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import posixpath
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MANIFEST = REPO_ROOT / "models" / "data_sources.yaml"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
#: Roboflow renames ``photo.jpg`` to ``photo_jpg.rf.<hash>.jpg``; group(1) is the source stem.
RF_STEM = re.compile(r"(.*)_(jpg|jpeg|png|JPG|JPEG|PNG)\.rf\.[0-9a-f]+$")
JPEG_QUALITY = 90

#: ``build`` fields: name -> (accepted types, may be null).
BUILD_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "train_splits": ((list,), False),
    "val_splits": ((list,), False),
    "names_file": ((str,), False),
    "stem_regex": ((str,), True),
    "key_strip_regex": ((str,), True),
    "group_regex": ((str,), True),
    "val_fraction": ((float, int), True),
    "dedup_val": ((bool,), False),
    "max_train": ((int,), False),
    "max_val": ((int,), False),
    "max_side": ((int,), False),
    "copy_files": ((list,), False),
}


class ExtraDataError(Exception):
    """The manifest, the mirror or the source export is not what a rebuild needs."""


class Item(NamedTuple):
    """One source image and its label file (paths in the repository; label None when absent)."""

    image: str
    label: str | None


@dataclass(frozen=True)
class BuildSpec:
    """Everything needed to rebuild one set: manifest entry fields plus its ``build`` mapping."""

    name: str
    repo: str
    commit: str
    base: str
    path: str
    train_splits: tuple[str, ...]
    val_splits: tuple[str, ...]
    names_file: str
    stem_regex: re.Pattern[str] | None
    key_strip_regex: re.Pattern[str] | None
    group_regex: re.Pattern[str] | None
    val_fraction: float | None
    dedup_val: bool
    max_train: int
    max_val: int
    max_side: int
    copy_files: tuple[str, ...]
    counts: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- manifest


def load_sets(manifest: Path) -> list[dict[str, Any]]:
    """The ``sets`` of a manifest file.

    Args:
        manifest: Path of ``data_sources.yaml``.

    Raises:
        ExtraDataError: The file is missing, not YAML, or has no list of named sets.
    """
    if not manifest.is_file():
        raise ExtraDataError(f"{manifest}: manifest not found")
    try:
        doc = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ExtraDataError(f"{manifest}: not valid YAML: {e}") from e
    sets = doc.get("sets") if isinstance(doc, dict) else None
    if not isinstance(sets, list):
        raise ExtraDataError(f"{manifest}: needs a list `sets`")
    for i, entry in enumerate(sets):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ExtraDataError(f"{manifest}: sets[{i}]: needs a name")
    return sets


def _regex(value: str | None, where: str) -> re.Pattern[str] | None:
    if value is None:
        return None
    try:
        return re.compile(value)
    except re.error as e:
        raise ExtraDataError(f"{where}: not a valid regex {value!r}: {e}") from e


def _check_build(build: Any, where: str) -> dict[str, Any]:
    """Validate a ``build`` mapping: every field present, no unknown field, right types."""
    if not isinstance(build, dict):
        raise ExtraDataError(f"{where}: missing `build` mapping (fields: {', '.join(BUILD_FIELDS)})")
    unknown = sorted(set(build) - set(BUILD_FIELDS))
    if unknown:
        raise ExtraDataError(f"{where}.build: unknown field(s) {unknown}")
    for key, (types, nullable) in BUILD_FIELDS.items():
        if key not in build:
            raise ExtraDataError(f"{where}.build: missing field `{key}`")
        value = build[key]
        if value is None and nullable:
            continue
        is_bool = isinstance(value, bool)
        if (types == (bool,)) != is_bool or not isinstance(value, types):
            raise ExtraDataError(f"{where}.build.{key}: expected {'/'.join(t.__name__ for t in types)}, got {value!r}")
        if isinstance(value, list) and not all(isinstance(v, str) and v for v in value):
            raise ExtraDataError(f"{where}.build.{key}: expected a list of non-empty strings, got {value!r}")
    if build["group_regex"] is not None and not 0 < float(build["val_fraction"] or 0) < 1:
        raise ExtraDataError(f"{where}.build.val_fraction: needs a number in (0, 1) with group_regex")
    for key in ("max_train", "max_val", "max_side"):
        if build[key] < 1:
            raise ExtraDataError(f"{where}.build.{key}: must be >= 1, got {build[key]}")
    return build


def spec_for(manifest: Path, name: str) -> BuildSpec:
    """The build spec of set ``name``.

    Raises:
        ExtraDataError: No such set, or its entry lacks a field a rebuild needs (named in the message).
    """
    sets = load_sets(manifest)
    index = next((i for i, e in enumerate(sets) if e["name"] == name), None)
    if index is None:
        raise ExtraDataError(f"{manifest}: no set {name!r} (sets: {', '.join(e['name'] for e in sets)})")
    entry, where = sets[index], f"{manifest}: sets[{index}] ({name})"
    for key in ("repo", "commit", "path_in_repo"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise ExtraDataError(f"{where}: missing field `{key}`")
    b = _check_build(entry.get("build"), where)
    return BuildSpec(
        name=name,
        repo=entry["repo"],
        commit=entry["commit"],
        base=entry["path_in_repo"].strip("/"),
        path=str(entry.get("path") or f"data/extra/{name}"),
        train_splits=tuple(b["train_splits"]),
        val_splits=tuple(b["val_splits"]),
        names_file=b["names_file"],
        stem_regex=_regex(b["stem_regex"], f"{where}.build.stem_regex"),
        key_strip_regex=_regex(b["key_strip_regex"], f"{where}.build.key_strip_regex"),
        group_regex=_regex(b["group_regex"], f"{where}.build.group_regex"),
        val_fraction=None if b["val_fraction"] is None else float(b["val_fraction"]),
        dedup_val=b["dedup_val"],
        max_train=b["max_train"],
        max_val=b["max_val"],
        max_side=b["max_side"],
        copy_files=tuple(b["copy_files"]),
        counts=entry.get("counts") or {},
    )


# --------------------------------------------------------------------------- git


def _git(git_dir: Path, *args: str) -> bytes:
    """Run ``git --git-dir <git_dir> <args>`` and return its stdout."""
    proc = subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True, check=False)
    if proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip()
        raise ExtraDataError(f"{git_dir}: git {' '.join(args)} failed: {msg}")
    return proc.stdout


def resolve_git_dir(path: Path) -> Path:
    """The git directory of a bare repository, a work tree, or a folder holding one as ``repo/``.

    Raises:
        ExtraDataError: ``path`` is none of these.
    """
    for cand in (path, path / "repo"):
        if not cand.is_dir():
            continue
        proc = subprocess.run(
            ["git", "-C", str(cand), "rev-parse", "--absolute-git-dir"], capture_output=True, text=True, check=False
        )
        if proc.returncode == 0:
            git_dir = Path(proc.stdout.strip())
            if git_dir.resolve() == cand.resolve() or (cand / ".git").exists():
                return git_dir
    raise ExtraDataError(f"{path}: not a git repository (bare, with a .git, or with one in repo/)")


def check_commit(git_dir: Path, spec: BuildSpec) -> None:
    """Fail unless the manifest's commit and its ``path_in_repo`` are in the mirror."""
    proc = subprocess.run(
        ["git", "--git-dir", str(git_dir), "rev-parse", "--verify", "--quiet", f"{spec.commit}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or proc.stdout.strip() != spec.commit:
        raise ExtraDataError(
            f"set {spec.name}: commit {spec.commit} (manifest field `commit`) is not in the mirror {git_dir}; "
            f"fetch a snapshot of {spec.repo} that contains it"
        )
    if not _git(git_dir, "ls-tree", "--name-only", spec.commit, "--", spec.base).strip():
        raise ExtraDataError(f"set {spec.name}: {spec.commit} has no {spec.base}/ (manifest field `path_in_repo`)")


def list_blobs(git_dir: Path, commit: str, base: str) -> dict[str, str]:
    """Repository path -> blob id of every file under ``base`` at ``commit``."""
    out: dict[str, str] = {}
    for rec in _git(git_dir, "ls-tree", "-r", "-z", commit, "--", base + "/").split(b"\0"):
        if not rec:
            continue
        meta, path = rec.decode("utf-8", errors="surrogateescape").split("\t", 1)
        _mode, kind, oid = meta.split()
        if kind == "blob":
            out[path] = oid
    return out


class BlobReader:
    """Reads blobs through one ``git cat-file --batch`` process (one process, not one per file)."""

    def __init__(self, git_dir: Path) -> None:
        self._proc = subprocess.Popen(
            ["git", "--git-dir", str(git_dir), "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def read(self, oid: str) -> bytes:
        """The content of blob ``oid``."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(oid.encode() + b"\n")
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().split()
        if len(header) != 3:
            raise ExtraDataError(f"git cat-file: object {oid} missing")
        data = self._proc.stdout.read(int(header[2]))
        self._proc.stdout.read(1)  # the newline after the content
        return data

    def close(self) -> None:
        """End the git process."""
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- selection


def _basename(path: str) -> str:
    return posixpath.basename(path)


def _stem(path: str) -> str:
    return posixpath.splitext(posixpath.basename(path))[0]


def raw_stem(path: str) -> str:
    """The source stem of an image: its stem without Roboflow's ``_jpg.rf.<hash>``."""
    m = RF_STEM.match(_stem(path))
    return m.group(1) if m else _stem(path)


def stem_key(path: str, key_strip: re.Pattern[str] | None) -> str:
    """De-duplication key: the source stem without what ``key_strip`` matches."""
    raw = raw_stem(path)
    return key_strip.sub("", raw) if key_strip else raw


def collect(files: dict[str, str], spec: BuildSpec, splits: tuple[str, ...]) -> list[Item]:
    """Images (with their label when present) of the given source splits, sorted by path."""
    out: list[Item] = []
    for split in splits:
        prefix = f"{spec.base}/{split}/images/"
        for path in files:
            if not path.startswith(prefix) or not path.lower().endswith(IMAGE_EXTENSIONS):
                continue
            if spec.stem_regex and not spec.stem_regex.search(_basename(path)):
                continue
            label = f"{spec.base}/{split}/labels/{_stem(path)}.txt"
            out.append(Item(path, label if label in files else None))
    return sorted(out)


def _group(item: Item, spec: BuildSpec) -> str:
    assert spec.group_regex is not None
    m = spec.group_regex.search(_basename(item.image))
    if not m or m.lastindex is None:
        raise ExtraDataError(f"set {spec.name}: build.group_regex has no group(1) in {item.image}")
    return m.group(1)


def group_split(pool: list[Item], spec: BuildSpec) -> tuple[list[Item], list[Item], list[str], int]:
    """Split by group: the first ``round(n * val_fraction)`` groups by md5 go to val.

    Returns:
        (train items, val items, sorted val groups, number of groups).
    """
    groups = sorted({_group(x, spec) for x in pool}, key=lambda g: hashlib.md5(g.encode()).hexdigest())
    val_groups = set(groups[: max(1, round(len(groups) * (spec.val_fraction or 0.0)))])
    train = [x for x in pool if _group(x, spec) not in val_groups]
    val = [x for x in pool if _group(x, spec) in val_groups]
    return train, val, sorted(val_groups), len(groups)


def dedup(items: list[Item], key_strip: re.Pattern[str] | None, exclude: set[str]) -> tuple[list[Item], int, int]:
    """One item per stem key, preferring the copy whose source stem is the key itself.

    Returns:
        (kept items sorted by path, duplicates dropped, items dropped because their key is in ``exclude``).
    """

    def order(x: Item) -> tuple[str, bool, str]:
        key = stem_key(x.image, key_strip)
        return key, raw_stem(x.image) != key, x.image

    seen: set[str] = set()
    kept: list[Item] = []
    dropped = excluded = 0
    for item in sorted(items, key=order):
        key = stem_key(item.image, key_strip)
        if key in seen:
            dropped += 1
        elif key in exclude:
            excluded += 1
        else:
            seen.add(key)
            kept.append(item)
    return sorted(kept), dropped, excluded


def cap_evenly(items: list[Item], cap: int) -> list[Item]:
    """At most ``cap`` items, evenly spaced over the list."""
    if len(items) <= cap:
        return items
    step = len(items) / cap
    return [items[int(i * step)] for i in range(cap)]


def select(files: dict[str, str], spec: BuildSpec, stats: dict[str, Any]) -> dict[str, list[Item]]:
    """The items of our train and val splits, following the spec; counters go into ``stats``."""
    if spec.group_regex:
        train, val, val_groups, n_groups = group_split(collect(files, spec, spec.train_splits + spec.val_splits), spec)
        stats["groups"] = {"n_groups": n_groups, "val_groups": val_groups}
    else:
        train, val = collect(files, spec, spec.train_splits), collect(files, spec, spec.val_splits)
    train, dropped, _ = dedup(train, spec.key_strip_regex, set())
    stats["dedup_dropped"] += dropped
    if spec.dedup_val:
        train_keys = {stem_key(x.image, spec.key_strip_regex) for x in train}
        val, dropped, in_train = dedup(val, spec.key_strip_regex, train_keys)
        stats["dedup_dropped"] += dropped
        stats["val_dropped_in_train"] = in_train
    chosen = {"train": cap_evenly(train, spec.max_train), "val": cap_evenly(val, spec.max_val)}
    stats["capped"] = {"train": [len(train), len(chosen["train"])], "val": [len(val), len(chosen["val"])]}
    return chosen


# --------------------------------------------------------------------------- writing


def convert_label(text: str, n_classes: int, stats: dict[str, Any]) -> list[str]:
    """YOLO box lines of a label file: 5-field lines verbatim, polygons as their box, bad lines dropped."""
    out: list[str] = []
    for line in text.splitlines():
        t = line.split()
        if not t:
            continue
        try:
            c, v = int(t[0]), [float(x) for x in t[1:]]
        except ValueError:
            stats["bad_lines"] += 1
            continue
        if len(v) >= 6 and len(v) % 2 == 0:
            xs, ys = v[0::2], v[1::2]
            x0, x1, y0, y1 = max(0, min(xs)), min(1, max(xs)), max(0, min(ys)), min(1, max(ys))
            v = [(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0]
            stats["polygons_converted"] += 1
        elif len(v) != 4:
            stats["bad_lines"] += 1
            continue
        if c < 0 or c >= n_classes or v[2] <= 0 or v[3] <= 0:
            stats["bad_lines"] += 1
            continue
        out.append(" ".join(t) if len(t) == 5 else f"{c} " + " ".join(f"{x:.6f}" for x in v))
    return out


def write_image(data: bytes, source: str, folder: Path, max_side: int) -> bool | None:
    """Write one image, downscaled to ``max_side`` (as ``<stem>.jpg``) when larger.

    Returns:
        Whether it was downscaled; None if it is not a readable image (then nothing is written).
    """
    try:
        img = Image.open(io.BytesIO(data))
        w, h = img.size
    except Exception as e:  # noqa: BLE001 - any decoder error means: skip this file
        print(f"warning: unreadable image {source}: {e}", file=sys.stderr)
        return None
    if max(w, h) <= max_side:
        (folder / _basename(source)).write_bytes(data)
        return False
    s = max_side / max(w, h)
    small = img.convert("RGB").resize((round(w * s), round(h * s)), Image.Resampling.LANCZOS)
    small.save(folder / f"{_stem(source)}.jpg", format="JPEG", quality=JPEG_QUALITY)
    return True


@dataclass
class Export:
    """The source export at the manifest's commit: its files and a reader for their contents."""

    spec: BuildSpec
    files: dict[str, str]
    blobs: BlobReader

    def read(self, rel: str, field_name: str) -> bytes:
        """Content of ``<path_in_repo>/<rel>``; ``field_name`` is the manifest field named if it is missing."""
        path = f"{self.spec.base}/{rel}"
        if path not in self.files:
            raise ExtraDataError(f"set {self.spec.name}: no {path} at {self.spec.commit} (manifest field {field_name})")
        return self.blobs.read(self.files[path])


def write_split(split: str, items: list[Item], src: Export, out: Path, names: list[str], stats: dict[str, Any]) -> None:
    """Write the images and labels of one split under ``<out>/images/<split>`` and ``<out>/labels/<split>``."""
    spec, files, blobs = src.spec, src.files, src.blobs
    img_dir, lab_dir = out / "images" / split, out / "labels" / split
    img_dir.mkdir(parents=True)
    lab_dir.mkdir(parents=True)
    boxes, images_with, n_boxes, n_empty = Counter[str](), Counter[str](), 0, 0
    for item in items:
        resized = write_image(blobs.read(files[item.image]), item.image, img_dir, spec.max_side)
        if resized is None:
            continue
        stats["resized"] += resized
        lines: list[str] = []
        if item.label is None:
            stats["missing_label"] += 1
        else:
            lines = convert_label(blobs.read(files[item.label]).decode(), len(names), stats)
        label_path = lab_dir / f"{_stem(item.image)}.txt"
        if label_path.exists():
            raise ExtraDataError(f"set {spec.name}: two source images named {_stem(item.image)} in our {split}")
        label_path.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
        n_empty += not lines
        classes = [names[int(x.split()[0])] for x in lines]
        boxes.update(classes)
        images_with.update(set(classes))
        n_boxes += len(classes)
    stats["splits"][split] = {
        "images": len(items),
        "boxes": n_boxes,
        "empty_label_images": n_empty,
        "boxes_per_class": {n: boxes.get(n, 0) for n in names},
        "images_per_class": {n: images_with.get(n, 0) for n in names},
    }


def class_names(src: Export) -> list[str]:
    """The ``names`` of the export's ``names_file`` (a list, or a dict id -> name), in id order."""
    doc = yaml.safe_load(src.read(src.spec.names_file, "build.names_file"))
    names = doc.get("names") if isinstance(doc, dict) else None
    if isinstance(names, dict):
        names = [names[k] for k in sorted(names)]
    if not isinstance(names, list) or not names:
        raise ExtraDataError(f"set {src.spec.name}: {src.spec.base}/{src.spec.names_file} has no `names`")
    return [str(n) for n in names]


def copy_sources(src: Export, out: Path) -> None:
    """Copy ``build.copy_files`` of the export beside the set as ``source_<file name>``."""
    for rel in src.spec.copy_files:
        (out / f"source_{_basename(rel)}").write_bytes(src.read(rel, "build.copy_files"))


def build_set(git_dir: Path, spec: BuildSpec, out: Path) -> dict[str, Any]:
    """Build the set into the (new or empty) folder ``out``; returns the stats also written to ``_stats.json``."""
    check_commit(git_dir, spec)
    files = list_blobs(git_dir, spec.commit, spec.base)
    stats: dict[str, Any] = {"commit": spec.commit, "names": [], "splits": {}, "dedup_dropped": 0}
    stats.update(polygons_converted=0, resized=0, missing_label=0, bad_lines=0)
    out.mkdir(parents=True, exist_ok=True)
    with BlobReader(git_dir) as blobs:
        src = Export(spec, files, blobs)
        names = stats["names"] = class_names(src)
        chosen = select(files, spec, stats)
        for split in ("train", "val"):
            write_split(split, chosen[split], src, out, names, stats)
        data = {"train": "images/train", "val": "images/val", "nc": len(names), "names": names}
        with (out / "data.yaml").open("w", encoding="utf-8") as fh:
            yaml.safe_dump(data, fh, sort_keys=False, allow_unicode=True)
        copy_sources(src, out)
    # key order as in the stats of the original assembly
    order = ["commit", "names", "splits", "dedup_dropped", "polygons_converted", "resized", "missing_label"]
    order += ["bad_lines", "val_dropped_in_train", "groups", "capped"]
    stats = {k: stats[k] for k in order if k in stats}
    (out / "_stats.json").write_text(json.dumps(stats, indent=1), encoding="utf-8")
    return stats


def count_mismatches(spec: BuildSpec, stats: dict[str, Any]) -> list[str]:
    """Differences between the built images/boxes/empty counts and the manifest's ``counts``."""
    out: list[str] = []
    for split, built in stats["splits"].items():
        want = spec.counts.get(split) or {}
        for key in ("images", "boxes", "empty_label_images"):
            if key in want and want[key] != built[key]:
                out.append(f"{split}.{key}: built {built[key]}, manifest {want[key]}")
    return out


# --------------------------------------------------------------------------- CLI


def set_dir(entry: dict[str, Any], out_root: Path | None) -> Path:
    """Folder of a set: ``<out_root>/<name>``, or the manifest's ``path`` (relative to the repo root)."""
    if out_root is not None:
        return out_root / entry["name"]
    return REPO_ROOT / str(entry.get("path") or f"data/extra/{entry['name']}")


def list_sets(manifest: Path, out_root: Path | None) -> None:
    """Print each set of the manifest: name, licence, repo @ commit, and whether it is present locally."""
    for entry in load_sets(manifest):
        folder = set_dir(entry, out_root)
        present = "present" if (folder / "data.yaml").is_file() else "absent"
        build = "build ok" if isinstance(entry.get("build"), dict) else "NO build"
        commit = str(entry.get("commit", "?"))[:12]
        print(
            f"{entry['name']:<20} {entry.get('licence', '?'):<12} {present:<8} {build:<9} {entry.get('repo')}@{commit}"
        )
        print(f"{'':<20} {folder}")


def rebuild(manifest: Path, name: str, mirror: Path, out_root: Path | None, force: bool) -> int:
    """Rebuild set ``name`` from ``mirror``; built in a side folder, moved into place when complete."""
    spec = spec_for(manifest, name)
    target = set_dir({"name": name, "path": spec.path}, out_root)
    if target.exists() and any(target.iterdir()) and not force:
        raise ExtraDataError(f"{target}: exists and is not empty (use --force to replace it)")
    git_dir = resolve_git_dir(mirror)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        stats = build_set(git_dir, spec, partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if target.exists():
        shutil.rmtree(target)
    partial.rename(target)
    for split, s in stats["splits"].items():
        print(f"{name} {split}: {s['images']} images, {s['boxes']} boxes ({s['empty_label_images']} empty labels)")
    for msg in count_mismatches(spec, stats):
        print(f"warning: {name} {msg}", file=sys.stderr)
    print(f"wrote {target}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    ap = argparse.ArgumentParser(
        prog="python -m models.extra_data",
        description="Rebuild an extra labelled set of the manifest from a local git snapshot of its repository.",
    )
    ap.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST, help="manifest (default: %(default)s)")
    ap.add_argument("--list", action="store_true", help="list the manifest's sets, licences and local presence")
    ap.add_argument("--mirror", type=Path, help="git directory (bare or work tree) of the set's repository")
    ap.add_argument("--set", dest="name", help="name of the set in the manifest")
    ap.add_argument("--out", type=Path, help="folder for <set>/ (default: the entry's `path` in the repo)")
    ap.add_argument("--force", action="store_true", help="replace an existing, non-empty set folder")
    return ap


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    ap = build_parser()
    args = ap.parse_args(argv)
    try:
        if args.list:
            list_sets(args.manifest, args.out)
            return 0
        if not args.mirror or not args.name:
            ap.error("--mirror and --set are needed (or --list)")
        return rebuild(args.manifest, args.name, args.mirror, args.out, args.force)
    except ExtraDataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
