"""Command line of ``python -m models.extra_data``: list the manifest's sets, rebuild one."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from models.extra_data.manifest import DEFAULT_MANIFEST, REPO_ROOT, ExtraDataError, load_sets, spec_for
from models.extra_data.snapshot import resolve_git_dir
from models.extra_data.writing import build_set, count_mismatches


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
