"""The plate detector's training data: openly licensed plate-box sets rebuilt from public git snapshots.

The committed manifest ``models/plate_data_sources.yaml`` names each set (repo @ commit, path, licence,
class map, how Roboflow's augmented copies are grouped); :func:`build` writes the merged one-class YOLO set
(``data/extra/plates``, git-ignored) with ``data.yaml`` and ``MANIFEST.json`` (what was written, from where).

* :mod:`models.plate_data.manifest`: the manifest, validated.
* :mod:`models.plate_data.build`: snapshot -> images and labels (one copy per source photo, split by group,
  vehicle crops).
* :mod:`models.plate_data.cli`: ``python -m models.plate_data``.
"""

from models.plate_data.build import BuildStats, build
from models.plate_data.manifest import DEFAULT_MANIFEST, PlateSetSpec, load_manifest

__all__ = ["DEFAULT_MANIFEST", "BuildStats", "PlateSetSpec", "build", "load_manifest"]
