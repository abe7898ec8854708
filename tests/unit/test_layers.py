"""The house rules of the tree, read from the source with ``ast`` (nothing is imported).

* no module over :data:`MAX_MODULE_LINES` lines and no function over :data:`MAX_FUNCTION_LINES`
  (benchmarks and the generated first migration aside);
* no import cycle between modules, lazy (function-level) imports included: an import moved
  into a function to dodge a cycle is still a cycle (``if TYPE_CHECKING:`` blocks are skipped,
  and so is a module's import of its own parent package, which Python runs first anyway);
* no upward import: each package imports only the packages :data:`ALLOWED` lists (core
  imports no other project package, bus only core, services not dashboard ...);
* only ``bus/`` imports redis, and core imports nothing outside the standard library but
  numpy and rapidfuzz (no cv2, redis, dash, sqlalchemy, pydantic ...).

The last tests run the checks on small trees written to a temp dir, so a check that
stopped finding anything would fail.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80

#: Project package -> the project packages it may import (itself always).
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "config": frozenset(),
    "storage": frozenset({"core", "config"}),
    "bus": frozenset({"core"}),
    "vision": frozenset({"core", "config"}),
    "sim": frozenset({"core", "config"}),
    "archive": frozenset({"core", "config", "storage"}),
    "ingest": frozenset({"core", "config", "bus", "vision", "sim", "storage"}),
    "services": frozenset({"core", "config", "bus", "archive", "storage", "sim"}),
    "dashboard": frozenset({"core", "config", "bus", "archive", "storage"}),
    "models": frozenset({"core", "config", "vision", "sim"}),
    "bench": frozenset(
        {"core", "config", "bus", "vision", "sim", "ingest", "storage", "archive", "services", "dashboard", "models"}
    ),
}
#: Single modules a package may import beyond :data:`ALLOWED`: the frame-source contract is the
#: bottom of ingest (it imports only core), so the synthetic camera implements it without ingest.
ALLOWED_MODULES: dict[str, frozenset[str]] = {"sim": frozenset({"ingest.base"})}
#: Third-party packages core may import (the standard library aside).
CORE_THIRD_PARTY = frozenset({"numpy", "rapidfuzz"})
#: Third-party packages only the named project package may import.
OWNED_THIRD_PARTY: dict[str, str] = {"redis": "bus"}
#: Where size limits do not apply: benchmark scripts, and the first migration (the whole schema as DDL).
SIZE_EXEMPT = ("bench", "archive.migrations.versions.0001_initial")


@dataclass(frozen=True, slots=True)
class Import:
    """One imported name: the module it names, where, and the line."""

    target: str
    module: str
    line: int


def modules(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of the packages."""
    out: dict[str, Path] = {}
    for pkg in packages:
        for f in sorted((root / pkg).rglob("*.py")):
            parts = f.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = f
    return out


def _walk_imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            yield from (n for branch in child.orelse for n in _walk_imports_stmt(branch))
        else:
            yield from _walk_imports(child)


def _walk_imports_stmt(stmt: ast.stmt) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        yield stmt
    else:
        yield from _walk_imports(stmt)


@cache
def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def imports_of(name: str, path: Path, known: dict[str, Path]) -> list[Import]:
    """Every absolute import of a module (any depth), each resolved to a module name where it is one of ours."""
    out: list[Import] = []
    for node in _walk_imports(_parse(path)):
        if isinstance(node, ast.Import):
            out.extend(Import(a.name, name, node.lineno) for a in node.names)
        elif node.level == 0 and node.module:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                out.append(Import(full if full in known else node.module, name, node.lineno))
    return out


def resolve(target: str, known: dict[str, Path]) -> str | None:
    """The project module an import names (the longest known prefix), or None for third-party ones."""
    parts = target.split(".")
    for i in range(len(parts), 0, -1):
        candidate = ".".join(parts[:i])
        if candidate in known:
            return candidate
    return None


def import_graph(known: dict[str, Path]) -> dict[str, dict[str, int]]:
    """Module -> {imported project module: line}, without imports of a module's own parent packages."""
    graph: dict[str, dict[str, int]] = {m: {} for m in known}
    for name, path in known.items():
        for imp in imports_of(name, path, known):
            dst = resolve(imp.target, known)
            if dst is not None and dst != name and not name.startswith(dst + "."):
                graph[name].setdefault(dst, imp.line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[v] = min(low[v], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def _rel(name: str, path: Path) -> str:
    """``pkg/mod.py`` of a module (``pkg/__init__.py`` of a package)."""
    n = len(name.split(".")) + (path.name == "__init__.py")
    return "/".join(path.parts[-n:])


def layer_violations(known: dict[str, Path]) -> list[str]:
    """``module:line imports X`` for each import of a project package or module the layering forbids."""
    bad: list[str] = []
    for name, targets in import_graph(known).items():
        pkg = name.split(".")[0]
        for dst, line in targets.items():
            dst_pkg = dst.split(".")[0]
            ok = dst_pkg == pkg or dst_pkg in ALLOWED.get(pkg, frozenset()) or dst in ALLOWED_MODULES.get(pkg, ())
            if not ok:
                bad.append(f"{_rel(name, known[name])}:{line} imports {dst}")
    return sorted(bad)


def third_party_violations(known: dict[str, Path]) -> list[str]:
    """Imports of third-party packages a package may not use (core: only numpy/rapidfuzz; redis: only bus)."""
    bad: list[str] = []
    for name, path in known.items():
        pkg = name.split(".")[0]
        for imp in imports_of(name, path, known):
            top = imp.target.split(".")[0]
            if resolve(imp.target, known) is not None or top in ALLOWED or top in sys.stdlib_module_names:
                continue
            owner = OWNED_THIRD_PARTY.get(top)
            if (owner is not None and owner != pkg) or (pkg == "core" and top not in CORE_THIRD_PARTY):
                bad.append(f"{name}:{imp.line} imports {top}")
    return sorted(bad)


def size_violations(known: dict[str, Path]) -> list[str]:
    """Modules over :data:`MAX_MODULE_LINES` and functions over :data:`MAX_FUNCTION_LINES` lines."""
    bad: list[str] = []
    for name, path in known.items():
        if any(name == e or name.startswith(e + ".") for e in SIZE_EXEMPT):
            continue
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_MODULE_LINES:
            bad.append(f"{name}: {n} lines")
        for node in ast.walk(_parse(path)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    bad.append(f"{name}:{node.lineno} {node.name}(): {length} lines")
    return bad


# --------------------------------------------------------------------------- the tree

PACKAGES = tuple(sorted(ALLOWED))
TREE = modules(REPO_ROOT, PACKAGES)


def test_every_top_level_package_has_a_layer() -> None:
    found = {p.name for p in REPO_ROOT.iterdir() if (p / "__init__.py").is_file() and p.name != "tests"}
    assert found == set(ALLOWED), "give a new package its place in ALLOWED"
    assert len(TREE) > 300  # the walk found the tree


def test_no_import_cycle() -> None:
    assert cycles(import_graph(TREE)) == []


def test_no_upward_import() -> None:
    assert layer_violations(TREE) == []


def test_third_party_packages_stay_in_their_layer() -> None:
    assert third_party_violations(TREE) == []


def test_modules_and_functions_are_small() -> None:
    assert size_violations(TREE) == []


# --------------------------------------------------------------------------- the checks find what they look for


def _tree(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for rel, text in files.items():
        f = root / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text, encoding="utf-8")
    return modules(root, tuple(sorted({rel.split("/")[0] for rel in files})))


def test_a_lazy_import_cycle_is_found(tmp_path: Path) -> None:
    known = _tree(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/a.py": "from core.b import x\n",
            "core/b.py": "def f():\n    from core import a\n",
            "core/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from core.a import y\n",
            "core/d.py": "import core.c\n",
        },
    )
    assert cycles(import_graph(known)) == [["core.a", "core.b"]]


def test_a_package_importing_its_submodules_is_no_cycle(tmp_path: Path) -> None:
    known = _tree(
        tmp_path, {"core/__init__.py": "from core.a import x\n", "core/a.py": "from core import b\n", "core/b.py": ""}
    )
    assert cycles(import_graph(known)) == []


def test_upward_imports_are_found(tmp_path: Path) -> None:
    known = _tree(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/x.py": "def f():\n    from config.settings import AppConfig\n",
            "config/__init__.py": "",
            "config/settings.py": "",
            "bus/__init__.py": "",
            "bus/y.py": "import core.x\nfrom config import settings\n",
            "services/__init__.py": "",
            "services/z.py": "from dashboard.app import app\nimport bus.y\n",
            "dashboard/__init__.py": "",
            "dashboard/app.py": "",
            "sim/__init__.py": "",
            "sim/s.py": "from ingest.base import FrameSource\nfrom ingest.worker import run\n",
            "ingest/__init__.py": "",
            "ingest/base.py": "",
            "ingest/worker.py": "",
        },
    )
    assert layer_violations(known) == [
        "bus/y.py:2 imports config.settings",
        "core/x.py:2 imports config.settings",
        "services/z.py:1 imports dashboard.app",
        "sim/s.py:2 imports ingest.worker",
    ]


def test_forbidden_third_party_imports_are_found(tmp_path: Path) -> None:
    known = _tree(
        tmp_path,
        {
            "core/__init__.py": "import numpy, json\nfrom rapidfuzz import process\n",
            "core/img.py": "def f():\n    import cv2\n",
            "dashboard/__init__.py": "import redis\nimport dash\n",
            "bus/__init__.py": "import redis\n",
        },
    )
    assert third_party_violations(known) == ["core.img:2 imports cv2", "dashboard:1 imports redis"]


@pytest.mark.parametrize(("lines", "flagged"), [(MAX_FUNCTION_LINES, False), (MAX_FUNCTION_LINES + 1, True)])
def test_long_functions_and_modules_are_found(tmp_path: Path, lines: int, flagged: bool) -> None:
    body = "def f():\n" + "    x = 1\n" * (lines - 1)
    known = _tree(tmp_path, {"core/__init__.py": "", "core/f.py": body, "core/big.py": "x = 1\n" * 501})
    found = size_violations(known)
    assert "core.big: 501 lines" in found
    assert any(v.startswith("core.f:1 f()") for v in found) is flagged
