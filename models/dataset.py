"""Build one merged YOLO detection dataset from the labelled sets in ``../shared/data/train``.

Every source set keeps its own class names; they are mapped onto the project's labels
(:data:`core.types.LABELS`, in that order) by the one class table of the project,
:data:`vision.detector.CLASS_MAP`, the same table that maps any detector's classes at run
time. A model trained on the merged set predicts our labels directly.

Besides the shared sets, every set of the extra-data manifest (``models/data_sources.yaml``: what
each set is, the repository @ commit it comes from, its licence, its class mapping) whose folder
``data/extra/<name>/`` (git-ignored; ``python -m models.extra_data`` rebuilds it) is present and
whose ``train`` is true is merged too (:func:`available_sources`).

The merged set is written to an ignored folder (default ``var/train_data``): images are
symlinks to the shared files (nothing is copied into the repository), label files are
rewritten with the new class ids, and a ``data.yaml`` for ultralytics is written next to them.

Usage::

    python -m models.dataset --out var/train_data
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from core.types import LABELS
from vision.detector import map_class_name

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_ROOT = REPO_ROOT.parent / "shared" / "data" / "train"
DEFAULT_OUT = REPO_ROOT / "var" / "train_data"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")

#: The source sets (folders of ``../shared/data/train``) merged for training. Their class
#: names (from each folder's ``data.yaml``; order there = original class id) go through
#: :func:`vision.detector.map_class_name`; a name it does not map is an error, not a silent drop.
SOURCES: tuple[str, ...] = ("trafficvision_km39_idn", "modes_of_transport_ind", "atl_cctv_highway")

#: Extra labelled sets, assembled from public repositories into this ignored folder
#: (``models/data_sources.yaml`` says from where, under which licence, and how to rebuild them).
EXTRA_ROOT = REPO_ROOT / "data" / "extra"
EXTRA_MANIFEST = REPO_ROOT / "models" / "data_sources.yaml"


def extra_sources(extra_root: Path | None = None, manifest: Path | None = None) -> dict[str, dict[str, object]]:
    """Sets of the extra-data manifest whose folder (with a ``data.yaml``) is present: name -> manifest entry.

    Args:
        extra_root: Folder of the extra sets (default :data:`EXTRA_ROOT`).
        manifest: The manifest (default :data:`EXTRA_MANIFEST`).
    """

    extra_root = EXTRA_ROOT if extra_root is None else Path(extra_root)
    manifest = EXTRA_MANIFEST if manifest is None else Path(manifest)
    return {e["name"]: e for e in _manifest_entries(manifest) if (extra_root / str(e["name"]) / "data.yaml").is_file()}


#: Parsed manifests by (path, mtime, size): every set name lookup would otherwise parse the YAML again.
_MANIFESTS: dict[tuple[str, int, int], list[dict[str, object]]] = {}


def _manifest_entries(manifest: Path) -> list[dict[str, object]]:
    """The manifest's set entries (parsed once per file version); [] when there is no manifest.

    Raises:
        DatasetError: not valid YAML, or an entry without a name.
    """
    import yaml

    if not manifest.is_file():
        return []
    st = manifest.stat()
    key = (str(manifest.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _MANIFESTS:
        try:
            doc = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise DatasetError(f"{manifest}: not valid YAML: {e}") from e
        entries = list(doc.get("sets") or [])
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise DatasetError(f"{manifest}: sets[{i}]: needs a name")
        _MANIFESTS[key] = entries
    return _MANIFESTS[key]


def available_sources(
    data_root: Path = DEFAULT_DATA_ROOT, extra_root: Path | None = None, training: bool = True
) -> tuple[str, ...]:
    """The shared sets present under ``data_root``, then the extra sets present under ``extra_root``.

    Args:
        data_root: Folder of the shared sets.
        extra_root: Folder of the extra sets.
        training: Only the sets to train on (an extra set whose manifest entry says ``train: false``,
            e.g. one that boxes only some classes, is for evaluation only).
    """
    shared = tuple(s for s in SOURCES if (Path(data_root) / s / "data.yaml").is_file())
    extra = extra_sources(extra_root)
    return shared + tuple(
        s for s, e in extra.items() if s not in shared and (not training or e.get("train", True) is not False)
    )


def labelled_classes(source: str, extra_root: Path | None = None) -> frozenset[str] | None:
    """Our labels that a set boxes wherever they appear; None: all (other objects in its frames are unboxed)."""
    entry = extra_sources(extra_root).get(source, {})
    wanted = entry.get("labelled_classes")
    return frozenset(str(v) for v in wanted) if isinstance(wanted, list) else None


def source_dir(data_root: Path, source: str, extra_root: Path | None = None) -> Path:
    """Folder of a source set: ``<data_root>/<source>`` for the shared sets, else ``<extra_root>/<source>``."""
    shared = Path(data_root) / source
    if source in SOURCES or (shared / "data.yaml").is_file():
        return shared
    return (EXTRA_ROOT if extra_root is None else Path(extra_root)) / source


def dropped_classes(source: str, extra_root: Path | None = None) -> set[str]:
    """Original classes an extra set's manifest maps to ``drop`` (not one of our labels; their boxes are left out)."""
    entry = extra_sources(extra_root).get(source, {})
    mapping = entry.get("mapping_to_ours") or {}
    return (
        {str(k) for k, v in dict(mapping).items() if str(v).lower() == "drop"} if isinstance(mapping, dict) else set()
    )


#: Keep every n-th training image of a source (sorted by name). trafficvision_km39_idn is 5 fps
#: video: neighbouring frames are near-duplicates, so every 2nd frame keeps the content and
#: halves the CPU time per epoch. Val splits are never thinned.
DEFAULT_TRAIN_STRIDE: dict[str, int] = {"trafficvision_km39_idn": 2}


class DatasetError(Exception):
    """The source data is missing, or has a class the project's class table does not map."""


@dataclass
class BuildStats:
    """What :func:`build_dataset` wrote."""

    images: Counter[str] = field(default_factory=Counter)  # "<source>/<split>" -> n
    boxes: Counter[str] = field(default_factory=Counter)  # "<split>/<label>" -> n
    skipped_lines: int = 0


def read_source_names(data_yaml: Path) -> list[str]:
    """Original class names of one source set, in class-id order."""
    import yaml

    with data_yaml.open(encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    names = cfg["names"]
    if isinstance(names, dict):
        return [names[k] for k in sorted(names)]
    return list(names)


def source_mapping(source: str, names: list[str]) -> dict[str, str]:
    """Original class name -> our label for one source set, through the project's one class table.

    Raises:
        DatasetError: an unknown source set, or a class name the table does not map.
    """
    known = SOURCES + tuple(extra_sources())
    if source not in known:
        raise DatasetError(f"no class mapping for source set {source!r} (known: {', '.join(known)})")
    drop = dropped_classes(source) if source not in SOURCES else set()
    mapping = {n: map_class_name(n) for n in names if n not in drop}
    missing = [n for n, label in mapping.items() if label is None]
    if missing:
        raise DatasetError(f"{source}: classes {missing} are not in vision.detector.CLASS_MAP")
    return {n: label for n, label in mapping.items() if label is not None}


def id_table(source: str, names: list[str]) -> dict[int, int]:
    """Original class id -> index into :data:`LABELS` for one source set.

    Raises:
        DatasetError: see :func:`source_mapping`.
    """
    mapping = source_mapping(source, names)
    return {i: LABELS.index(mapping[n]) for i, n in enumerate(names) if n in mapping}


def remap_label_text(text: str, table: dict[int, int]) -> tuple[list[str], int]:
    """Rewrite YOLO label lines with new class ids. Returns (lines, number of bad lines dropped)."""
    out: list[str] = []
    bad = 0
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        try:
            cls = int(float(parts[0]))
            coords = [float(v) for v in parts[1:]]
        except ValueError:
            bad += 1
            continue
        if cls not in table or len(coords) != 4:
            bad += 1
            continue
        out.append(" ".join([str(table[cls]), *parts[1:5]]))
    return out, bad


def _link(src: Path, dst: Path) -> None:
    if dst.is_symlink() or dst.exists():
        dst.unlink()
    os.symlink(src, dst)


def _label_table(source: str, src_dir: Path) -> dict[int, int]:
    """Source class id -> our class id of one set (a synthetic set must already use our labels)."""
    if not (src_dir / "data.yaml").is_file():
        raise DatasetError(f"source set not available: {src_dir / 'data.yaml'}")
    names = read_source_names(src_dir / "data.yaml")
    if source == "synthetic":
        if names != list(LABELS):
            raise DatasetError(f"{src_dir / 'data.yaml'}: synthetic renders must be labelled with {list(LABELS)}")
        return {i: i for i in range(len(LABELS))}
    return id_table(source, names)


def _merge_split(
    source: str, src_dir: Path, split: str, step: int, table: dict[int, int], out: Path, stats: BuildStats
) -> list[str]:
    """Link every ``step``-th image (by name) of one split of a set into ``out`` and write its remapped labels.

    Returns:
        The paths of the linked images.
    """
    img_dir = src_dir / "images" / split
    lbl_dir = src_dir / "labels" / split
    images = sorted(p for p in img_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[::step]
    out_img = out / "images" / split
    out_lbl = out / "labels" / split
    out_img.mkdir(parents=True, exist_ok=True)
    out_lbl.mkdir(parents=True, exist_ok=True)
    linked: list[str] = []
    for img in images:
        name = f"{source}__{img.name}"
        _link(img, out_img / name)
        lbl = lbl_dir / (img.stem + ".txt")
        text = lbl.read_text(encoding="utf-8") if lbl.is_file() else ""
        lines, bad = remap_label_text(text, table)
        stats.skipped_lines += bad
        (out_lbl / (Path(name).stem + ".txt")).write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
        for line in lines:
            stats.boxes[f"{split}/{LABELS[int(line.split()[0])]}"] += 1
        linked.append(str(out_img / name))
    stats.images[f"{source}/{split}"] = len(images)
    return linked


def _data_config(out: Path, val: str) -> dict[str, object]:
    """An ultralytics data.yaml mapping for the merged set in ``out`` with this ``val`` entry."""
    return {
        "path": str(out),
        "train": "images/train",
        "val": val,
        "nc": len(LABELS),
        "names": {i: n for i, n in enumerate(LABELS)},
    }


def build_dataset(
    data_root: Path = DEFAULT_DATA_ROOT,
    out: Path = DEFAULT_OUT,
    sources: tuple[str, ...] | None = None,
    train_stride: dict[str, int] | None = None,
    synthetic: Path | None = None,
) -> tuple[Path, BuildStats]:
    """Write the merged dataset and return the path of its ``data.yaml``.

    Args:
        data_root: Folder holding the source sets (``<set>/data.yaml``, ``images/``, ``labels/``).
        out: Output folder (recreated). Images become ``<split>/<set>__<file>`` symlinks.
        sources: Source set names to use (default: :func:`available_sources`: the shared sets and
            the extra sets present).
        train_stride: Per-set stride for thinning the train split (default :data:`DEFAULT_TRAIN_STRIDE`).
        synthetic: A folder of synthetic renders (:mod:`models.synthetic_data`, labelled with our
            labels) added to the train split as ``synthetic``; never to val.

    Raises:
        DatasetError: when a source set is missing or has unmapped classes.
    """
    import yaml

    data_root = Path(data_root).resolve()
    out = Path(out).resolve()
    sources = tuple(sources or available_sources(data_root))
    stride = DEFAULT_TRAIN_STRIDE if train_stride is None else train_stride
    if out.exists():
        shutil.rmtree(out)
    stats = BuildStats()
    val_lists: dict[str, list[str]] = {}
    sets: list[tuple[str, Path]] = [(source, source_dir(data_root, source)) for source in sources]
    if synthetic is not None:
        sets.append(("synthetic", Path(synthetic).resolve()))
    for source, src_dir in sets:
        table = _label_table(source, src_dir)
        for split in ("train", "val") if source != "synthetic" else ("train",):
            step = max(1, stride.get(source, 1)) if split == "train" else 1
            files = _merge_split(source, src_dir, split, step, table, out, stats)
            if split == "val" and files:
                val_lists.setdefault(source, []).extend(files)
    # Per-source val lists so each set can be validated on its own (models.evaluate).
    for source, files in val_lists.items():
        (out / f"val_{source}.txt").write_text("\n".join(files) + "\n", encoding="utf-8")
    data_yaml = out / "data.yaml"
    header = "# Generated by models/dataset.py from " + str(data_root) + "\n"
    data_yaml.write_text(header + yaml.safe_dump(_data_config(out, "images/val"), sort_keys=False), encoding="utf-8")
    return data_yaml, stats


def source_val_yaml(data_yaml: Path, source: str) -> Path:
    """Write (once) and return a data.yaml whose val split is one source set's val images."""
    import yaml

    data_yaml = Path(data_yaml)
    out = data_yaml.parent
    lst = out / f"val_{source}.txt"
    if not lst.is_file():
        raise DatasetError(f"no val list for {source}: {lst} (build the dataset first)")
    path = out / f"data_val_{source}.yaml"
    path.write_text(yaml.safe_dump(_data_config(out, lst.name), sort_keys=False), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, default=DEFAULT_DATA_ROOT, help="folder of the source sets")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (recreated; git-ignored)")
    parser.add_argument(
        "--km39-stride",
        type=int,
        default=DEFAULT_TRAIN_STRIDE["trafficvision_km39_idn"],
        help="keep every n-th train frame of trafficvision_km39_idn (near-duplicate video frames)",
    )
    args = parser.parse_args(argv)
    try:
        data_yaml, stats = build_dataset(
            args.data_root, args.out, train_stride={"trafficvision_km39_idn": args.km39_stride}
        )
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {data_yaml}", file=sys.stderr)
    for key, n in sorted(stats.images.items()):
        print(f"  images {key}: {n}", file=sys.stderr)
    for key, n in sorted(stats.boxes.items()):
        print(f"  boxes {key}: {n}", file=sys.stderr)
    if stats.skipped_lines:
        print(f"  skipped malformed label lines: {stats.skipped_lines}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
