"""Unit tests mirror the package: ``tests/unit/<pkg>/.../test_<module>[_<aspect>].py`` tests ``<pkg>/.../<module>``.

So a reader finds the tests of a module without searching, and a moved module shows its orphaned
tests here. Top-level files of ``tests/unit`` test the whole tree (layers, this file).
"""

from __future__ import annotations

from pathlib import Path

from tests.paths import REPO_ROOT

UNIT = REPO_ROOT / "tests" / "unit"


def _subject(test: Path) -> Path | None:
    """The module or package a unit test file is about, or None when none matches its name."""
    rel = test.relative_to(UNIT)
    folder = REPO_ROOT / Path(*rel.parts[:-1])
    words = rel.stem.removeprefix("test_").split("_")
    for n in range(len(words), 0, -1):  # the longest name that exists: test_plate_queue -> plate_queue.py
        name = "_".join(words[:n])
        for cand in (folder / f"{name}.py", folder / name):
            if cand.exists():
                return cand
    return None


def test_every_unit_test_file_names_a_module_in_the_mirrored_folder() -> None:
    orphans = [
        str(t.relative_to(REPO_ROOT))
        for t in sorted(UNIT.rglob("test_*.py"))
        if t.parent != UNIT and _subject(t) is None
    ]
    assert not orphans, f"unit tests whose module is not in the mirrored folder: {orphans}"


def test_every_unit_test_folder_mirrors_a_package() -> None:
    folders = {t.parent for t in UNIT.rglob("test_*.py")} - {UNIT}
    missing = [str(f.relative_to(REPO_ROOT)) for f in sorted(folders) if not (REPO_ROOT / f.relative_to(UNIT)).is_dir()]
    assert not missing, f"test folders with no package of that name: {missing}"
