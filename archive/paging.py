"""One page of a table's rows and how many match in all: the list views' offset/limit query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session


def page(
    s: Session,
    model: type[Any],
    where: Sequence[ColumnElement[bool]],
    order: Sequence[Any],
    offset: int,
    limit: int,
) -> tuple[list[Any], int]:
    """The ``model`` rows matching every condition of ``where`` (AND), sorted by ``order``, from ``offset``
    (at most ``limit``), and the number that match.

    Raises:
        ValueError: a negative offset or limit.
    """
    if offset < 0 or limit < 0:
        raise ValueError("offset and limit must be >= 0")
    total = int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)
    rows = list(s.scalars(select(model).where(*where).order_by(*order).offset(offset).limit(limit)))
    return rows, total


__all__ = ["page"]
