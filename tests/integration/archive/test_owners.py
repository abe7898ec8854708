"""The SQL vehicle register (archive/owners.py) on a real SQLite file shared with another connection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from archive import Archive
from core.owners import OwnerRecord


def owner(plate: str) -> OwnerRecord:
    return OwnerRecord(
        plate, "Ali Khan", "17301-*****-1", "Hayatabad", "+923001234567", "a@example.pk", "Suzuki", "white"
    )


def test_a_slow_record_source_does_not_hold_the_write_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    arc = Archive(url)
    other = sa.create_engine(url, connect_args={"timeout": 0.5})
    wrote: list[bool] = []

    def slow() -> Iterator[OwnerRecord]:
        yield owner("LEA1234")
        yield owner("LEB5678")
        # Another process writes while the source is still producing (the demo seed simulates traffic here).
        with other.begin() as c:
            c.execute(sa.text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
            c.execute(sa.text("INSERT INTO probe VALUES (1)"))
        wrote.append(True)
        yield owner("PEW77")

    try:
        assert arc.register.upsert(slow()) == 3
        assert wrote == [True]
        found = arc.register.lookup("lea-1234")
        assert found is not None and found.name == "Ali Khan"
        assert arc.register.count() == 3
    finally:
        other.dispose()
        arc.close()
