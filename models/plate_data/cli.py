"""``python -m models.plate_data``: rebuild the plate detector's training set from public git snapshots."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from models.extra_data.manifest import ExtraDataError
from models.plate_data.build import build
from models.plate_data.manifest import DEFAULT_MANIFEST, load_manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m models.plate_data",
        description="Rebuild data/extra/plates (one-class plate boxes) from snapshots of the repositories "
        "named in the manifest.",
    )
    ap.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST, help="manifest (default: %(default)s)")
    ap.add_argument(
        "--mirror-root", type=Path, help="folder holding one snapshot per repository as <owner>+<name>[/repo]"
    )
    ap.add_argument("--mirror", action="append", default=[], metavar="SET=DIR", help="snapshot of one set")
    ap.add_argument("--out", type=Path, help="output folder (default: the manifest's `out`)")
    ap.add_argument("--list", action="store_true", help="list the sets and their licences")
    args = ap.parse_args(argv)
    try:
        manifest = load_manifest(args.manifest)
        if args.list:
            for s in manifest.sets:
                print(f"{s.name:<20} {s.licence:<14.14} {s.repo}@{s.commit[:12]} {s.base}")
            return 0
        mirrors: dict[str, Path] = {}
        if args.mirror_root:
            for s in manifest.sets:
                mirrors[s.name] = args.mirror_root / s.repo.replace("/", "+")
        for item in args.mirror:
            name, _, path = item.partition("=")
            manifest.spec(name)
            mirrors[name] = Path(path)
        data_yaml = build(manifest, mirrors, args.out)
    except ExtraDataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {data_yaml}")
    return 0
