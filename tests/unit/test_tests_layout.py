"""The house rules of ``tests/``, read from the source with ``ast`` (nothing is imported).

* no module under ``tests/`` imports a test module (``test_*.py``) or a ``conftest.py``: what several
  test modules share lives in a plain helper module (``tests/paths.py``, ``tests/browser/pages.py``,
  ``tests/integration/dashboard/apps.py`` ...), fixtures in a ``conftest.py`` that pytest alone loads;
  importing a test module runs its collection-time code and drags its tests into the importer's
  namespace (pytest then collects them twice), and an imported conftest is loaded twice under two names;
* (unit tests mirror their modules, so basenames repeat across folders, e.g. ``unit/core/test_clips.py``
  and ``unit/config/test_clips.py``: :mod:`tests.unit.test_mirror` says where each belongs);
* every folder under ``tests/`` that holds Python files is a package (``__init__.py``), which is
  what lets pytest import same-named files at all.

The last tests run the checks on small trees written to a temp dir, so a check that stopped
finding anything would fail.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.paths import REPO_ROOT

TESTS = REPO_ROOT / "tests"


def is_test_module(name: str) -> bool:
    """Whether a dotted module name is one pytest loads itself: a test module (``test_*``) or a ``conftest``."""
    last = name.rsplit(".", 1)[-1]
    return last.startswith("test_") or last == "conftest"


def module_name(root: Path, path: Path) -> str:
    """Dotted name of a ``.py`` file under ``root`` (a package's ``__init__.py``: the package)."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(name: str, path: Path) -> list[tuple[str, int]]:
    """Every module an import in the file may name, any depth, relative imports resolved: ``(module, line)``.

    ``from a.b import c`` gives both ``a.b`` and ``a.b.c`` (``c`` may be a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.extend((a.name, node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                up = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join([*up, *([base] if base else [])])
            out.append((base, node.lineno))
            out.extend((f"{base}.{a.name}", node.lineno) for a in node.names if a.name != "*")
    return out


def imports_of_test_modules(root: Path, tests: str = "tests") -> list[str]:
    """``file:line imports test.module`` for each import of a test module by any module under ``root/tests``."""
    known = {module_name(root, f) for f in (root / tests).rglob("*.py")}
    bad: list[str] = []
    for f in sorted((root / tests).rglob("*.py")):
        name = module_name(root, f)
        for target, line in imported_modules(name, f):
            if target in known and is_test_module(target) and target != name:
                bad.append(f"{f.relative_to(root).as_posix()}:{line} imports {target}")
    return sorted(set(bad))


def packages_missing(tests: Path) -> list[str]:
    """Folders under ``tests`` (itself included) that hold ``.py`` files but no ``__init__.py``."""
    folders = {f.parent for f in tests.rglob("*.py")}
    return sorted(d.relative_to(tests.parent).as_posix() for d in folders if not (d / "__init__.py").is_file())


# --------------------------------------------------------------------------- the tree


def test_no_module_under_tests_imports_a_test_module() -> None:
    assert imports_of_test_modules(REPO_ROOT) == []


def test_every_test_folder_is_a_package() -> None:
    assert packages_missing(TESTS) == []


# --------------------------------------------------------------------------- the checks find what they look for


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        f = root / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text, encoding="utf-8")


def test_imports_of_test_modules_are_found(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "tests/__init__.py": "",
            "tests/conftest.py": "from tests.a.test_one import fixture_x\n",
            "tests/a/__init__.py": "",
            "tests/a/test_one.py": "from tests.a.helpers import h\nimport tests.a.helpers\n",
            "tests/a/helpers.py": "",
            "tests/a/test_two.py": "def f():\n    from .test_one import y\n",
            "tests/b/__init__.py": "",
            "tests/b/test_three.py": "from tests.a import test_one\nfrom ..a.test_one import z\nimport test_x\n",
            "tests/b/helpers.py": "from tests.a import helpers\nfrom tests.conftest import fixture_y\n",
        },
    )
    assert imports_of_test_modules(tmp_path) == [
        "tests/a/test_two.py:2 imports tests.a.test_one",
        "tests/b/helpers.py:2 imports tests.conftest",
        "tests/b/test_three.py:1 imports tests.a.test_one",
        "tests/b/test_three.py:2 imports tests.a.test_one",
        "tests/conftest.py:1 imports tests.a.test_one",
    ]
