"""The disk store's link-signing key (:func:`storage.signing.load_signing_key`): from the environment when
set, else a random key created once in a file (mode 0600) and read back from it; always in a temp dir here
(the test session sets ``$SAFECITY_MEDIA_KEY``, so no test writes the repository's ``var/media.key``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import REPO_ROOT
from storage.factory import KEY_FILE
from storage.signing import load_signing_key

ENV = "SAFECITY_TEST_MEDIA_KEY"


def test_the_environment_wins_and_no_file_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "  from-the-env  ")
    key_file = tmp_path / "var" / "media.key"
    assert load_signing_key(ENV, key_file) == b"from-the-env"
    assert not key_file.exists()


def test_without_it_a_random_key_is_kept_in_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    key_file = tmp_path / "var" / "media.key"
    key = load_signing_key(ENV, key_file)
    assert len(key) == 64 and key_file.read_bytes() == key
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert load_signing_key(ENV, key_file) == key  # the next process reads the same key


def test_the_test_session_keeps_the_repository_key_file_unwritten() -> None:
    assert KEY_FILE == REPO_ROOT / "var" / "media.key"
    assert os.environ.get("SAFECITY_MEDIA_KEY", "").strip(), "tests/conftest.py sets it for every test"


def test_a_stale_empty_key_file_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    key_file = tmp_path / "media.key"
    key_file.write_bytes(b"")  # an older version crashed between creating and writing it
    key = load_signing_key(ENV, key_file)
    assert len(key) == 64 and key_file.read_bytes() == key
    assert [p.name for p in tmp_path.iterdir()] == ["media.key"], "no temporary file is left"


def test_processes_racing_to_create_the_key_agree(tmp_path: Path) -> None:
    key_file = tmp_path / "media.key"
    code = "import sys; from pathlib import Path; from storage.signing import load_signing_key; "
    code += f"sys.stdout.write(load_signing_key('{ENV}', Path(sys.argv[1])).decode())"
    env = {k: v for k, v in os.environ.items() if k != ENV}
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(key_file)], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE)
        for _ in range(6)
    ]
    keys = {p.communicate(timeout=60)[0] for p in procs}
    assert keys == {key_file.read_bytes()} and len(key_file.read_bytes()) == 64
