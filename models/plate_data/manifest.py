"""The plate-set manifest (``models/plate_data_sources.yaml``): one validated spec per set."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from config.settings import REPO_ROOT
from models.extra_data.manifest import ExtraDataError

DEFAULT_MANIFEST = REPO_ROOT / "models" / "plate_data_sources.yaml"


@dataclass(frozen=True)
class VehicleCrops:
    """Write each box of ``cls`` holding a plate as a crop of its own (``margin`` of its size around it)."""

    cls: str
    margin: float = 0.05
    min_px: int = 64


@dataclass(frozen=True)
class PlateSetSpec:
    """One set of the manifest."""

    name: str
    repo: str
    commit: str
    base: str
    licence: str
    classes: dict[str, str | None]
    splits: tuple[str, ...]
    group_regex: re.Pattern[str]
    vehicle_crops: VehicleCrops | None


@dataclass(frozen=True)
class PlateManifest:
    """The whole manifest."""

    out: Path
    val_every: int
    sets: tuple[PlateSetSpec, ...]

    def spec(self, name: str) -> PlateSetSpec:
        for s in self.sets:
            if s.name == name:
                return s
        raise ExtraDataError(f"no set {name!r} in the manifest (sets: {', '.join(s.name for s in self.sets)})")


def _need(entry: dict[str, Any], key: str, where: str) -> Any:
    if key not in entry or entry[key] in (None, ""):
        raise ExtraDataError(f"{where}: field `{key}` is missing")
    return entry[key]


def load_manifest(path: Path = DEFAULT_MANIFEST) -> PlateManifest:
    """The manifest at ``path``.

    Raises:
        ExtraDataError: unreadable file or a bad field (the message names the file, set and field).
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ExtraDataError(f"{path}: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("sets"), list):
        raise ExtraDataError(f"{path}: expected a mapping with a list `sets`")
    sets = []
    for i, e in enumerate(data["sets"]):
        where = f"{path}: sets[{i}]"
        if not isinstance(e, dict):
            raise ExtraDataError(f"{where}: expected a mapping")
        name = str(_need(e, "name", where))
        where = f"{path}: set {name}"
        commit = str(_need(e, "commit", where))
        if not re.fullmatch(r"[0-9a-f]{40}", commit):
            raise ExtraDataError(f"{where}: field `commit` must be 40 hex digits")
        classes = _need(e, "classes", where)
        if not isinstance(classes, dict) or not any(v == "plate" for v in classes.values()):
            raise ExtraDataError(f"{where}: field `classes` must map at least one source class to `plate`")
        try:
            group = re.compile(str(e.get("group_regex") or r"^(.+)$"))
        except re.error as err:
            raise ExtraDataError(f"{where}: field `group_regex`: {err}") from err
        vc = e.get("vehicle_crops")
        crops = None
        if vc:
            if not isinstance(vc, dict) or "class" not in vc:
                raise ExtraDataError(f"{where}: field `vehicle_crops` needs `class`")
            crops = VehicleCrops(str(vc["class"]), float(vc.get("margin", 0.05)), int(vc.get("min_px", 64)))
        sets.append(
            PlateSetSpec(
                name=name,
                repo=str(_need(e, "repo", where)),
                commit=commit,
                base=str(_need(e, "path_in_repo", where)).strip("/"),
                licence=str(_need(e, "licence", where)),
                classes={str(k): (None if v is None else str(v)) for k, v in classes.items()},
                splits=tuple(str(s) for s in e.get("splits") or ("train", "valid", "test")),
                group_regex=group,
                vehicle_crops=crops,
            )
        )
    val_every = int(data.get("val_every", 8))
    if val_every < 2:
        raise ExtraDataError(f"{path}: field `val_every` must be at least 2")
    return PlateManifest(REPO_ROOT / str(data.get("out", "data/extra/plates")), val_every, tuple(sets))
