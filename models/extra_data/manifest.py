"""The extra-data manifest: reading ``models/data_sources.yaml`` and validating a set's ``build`` mapping."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MANIFEST = REPO_ROOT / "models" / "data_sources.yaml"

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
