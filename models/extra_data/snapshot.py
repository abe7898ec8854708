"""Access to the git snapshot of a set's repository: only ``git`` is run (``rev-parse``, ``ls-tree``, ``cat-file``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from models.extra_data.manifest import BuildSpec, ExtraDataError


def _git(git_dir: Path, *args: str) -> bytes:
    """Run ``git --git-dir <git_dir> <args>`` and return its stdout."""
    proc = subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True, check=False)
    if proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip()
        raise ExtraDataError(f"{git_dir}: git {' '.join(args)} failed: {msg}")
    return proc.stdout


def resolve_git_dir(path: Path) -> Path:
    """The git directory of a bare repository, a work tree, or a folder holding one as ``repo/``.

    Raises:
        ExtraDataError: ``path`` is none of these.
    """
    for cand in (path, path / "repo"):
        if not cand.is_dir():
            continue
        proc = subprocess.run(
            ["git", "-C", str(cand), "rev-parse", "--absolute-git-dir"], capture_output=True, text=True, check=False
        )
        if proc.returncode == 0:
            git_dir = Path(proc.stdout.strip())
            if git_dir.resolve() == cand.resolve() or (cand / ".git").exists():
                return git_dir
    raise ExtraDataError(f"{path}: not a git repository (bare, with a .git, or with one in repo/)")


def check_commit(git_dir: Path, spec: BuildSpec) -> None:
    """Fail unless the manifest's commit and its ``path_in_repo`` are in the mirror."""
    proc = subprocess.run(
        ["git", "--git-dir", str(git_dir), "rev-parse", "--verify", "--quiet", f"{spec.commit}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or proc.stdout.strip() != spec.commit:
        raise ExtraDataError(
            f"set {spec.name}: commit {spec.commit} (manifest field `commit`) is not in the mirror {git_dir}; "
            f"fetch a snapshot of {spec.repo} that contains it"
        )
    if not _git(git_dir, "ls-tree", "--name-only", spec.commit, "--", spec.base).strip():
        raise ExtraDataError(f"set {spec.name}: {spec.commit} has no {spec.base}/ (manifest field `path_in_repo`)")


def list_blobs(git_dir: Path, commit: str, base: str) -> dict[str, str]:
    """Repository path -> blob id of every file under ``base`` at ``commit``."""
    out: dict[str, str] = {}
    for rec in _git(git_dir, "ls-tree", "-r", "-z", commit, "--", base + "/").split(b"\0"):
        if not rec:
            continue
        meta, path = rec.decode("utf-8", errors="surrogateescape").split("\t", 1)
        _mode, kind, oid = meta.split()
        if kind == "blob":
            out[path] = oid
    return out


class BlobReader:
    """Reads blobs through one ``git cat-file --batch`` process (one process, not one per file)."""

    def __init__(self, git_dir: Path) -> None:
        self._proc = subprocess.Popen(
            ["git", "--git-dir", str(git_dir), "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def read(self, oid: str) -> bytes:
        """The content of blob ``oid``."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(oid.encode() + b"\n")
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().split()
        if len(header) != 3:
            raise ExtraDataError(f"git cat-file: object {oid} missing")
        data = self._proc.stdout.read(int(header[2]))
        self._proc.stdout.read(1)  # the newline after the content
        return data

    def close(self) -> None:
        """End the git process."""
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
