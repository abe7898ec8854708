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

Modules: :mod:`~models.extra_data.manifest` (reading and validating the manifest),
:mod:`~models.extra_data.snapshot` (the git snapshot), :mod:`~models.extra_data.selection`
(which images, de-duplication, split), :mod:`~models.extra_data.writing` (writing the set) and
:mod:`~models.extra_data.cli` (the command line).

Usage::

    python -m models.extra_data --list
    python -m models.extra_data --mirror /path/to/repo.git --set highway_od_idn [--out data/extra] [--force]
"""

from __future__ import annotations

from models.extra_data.cli import (
    build_parser,
    list_sets,
    main,
    rebuild,
    set_dir,
)
from models.extra_data.manifest import (
    BUILD_FIELDS,
    DEFAULT_MANIFEST,
    REPO_ROOT,
    BuildSpec,
    ExtraDataError,
    load_sets,
    spec_for,
)
from models.extra_data.selection import (
    IMAGE_EXTENSIONS,
    RF_STEM,
    Item,
    cap_evenly,
    collect,
    dedup,
    group_split,
    raw_stem,
    select,
    stem_key,
)
from models.extra_data.snapshot import (
    BlobReader,
    check_commit,
    list_blobs,
    resolve_git_dir,
)
from models.extra_data.writing import (
    JPEG_QUALITY,
    Export,
    build_set,
    class_names,
    convert_label,
    copy_sources,
    count_mismatches,
    write_image,
    write_split,
)

__all__ = [
    "BUILD_FIELDS",
    "BlobReader",
    "BuildSpec",
    "DEFAULT_MANIFEST",
    "Export",
    "ExtraDataError",
    "IMAGE_EXTENSIONS",
    "Item",
    "JPEG_QUALITY",
    "REPO_ROOT",
    "RF_STEM",
    "build_parser",
    "build_set",
    "cap_evenly",
    "check_commit",
    "class_names",
    "collect",
    "convert_label",
    "copy_sources",
    "count_mismatches",
    "dedup",
    "group_split",
    "list_blobs",
    "list_sets",
    "load_sets",
    "main",
    "raw_stem",
    "rebuild",
    "resolve_git_dir",
    "select",
    "set_dir",
    "spec_for",
    "stem_key",
    "write_image",
    "write_split",
]
