"""Choosing a set's images: source splits, stem filter, de-duplication, group split and even caps."""

from __future__ import annotations

import hashlib
import posixpath
import re
from typing import Any, NamedTuple

from models.extra_data.manifest import BuildSpec, ExtraDataError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
#: Roboflow renames ``photo.jpg`` to ``photo_jpg.rf.<hash>.jpg``; group(1) is the source stem.
RF_STEM = re.compile(r"(.*)_(jpg|jpeg|png|JPG|JPEG|PNG)\.rf\.[0-9a-f]+$")


class Item(NamedTuple):
    """One source image and its label file (paths in the repository; label None when absent)."""

    image: str
    label: str | None


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
