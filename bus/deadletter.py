"""Dead-letter streams: the wire form of a dead-lettered entry, and reading it back.

A bad entry is copied to ``<stream>.dead`` (:func:`bus.keys.dead_stream`) with its
original fields plus ``dead.*`` fields saying where it came from and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bus.stream_entries import as_text


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An entry of a dead-letter stream.

    Attributes:
        msg_id: Id in the dead-letter stream.
        source_stream: Stream the bad entry was read from.
        source_msg_id: Its id there.
        reason: Why it could not be handled.
        group: Consumer group that met it ("" when not read through a group).
        consumer: Consumer that met it.
        ts_ms: When it was dead-lettered (wall clock, ms).
        fields: The original fields, decoded as UTF-8 (with replacement).
    """

    msg_id: str
    source_stream: str
    source_msg_id: str
    reason: str
    group: str
    consumer: str
    ts_ms: int
    fields: dict[str, str] = field(default_factory=dict)


def dead_letter_body(
    fields: Mapping[Any, Any], stream: str, msg_id: str, reason: str, group: str, consumer: str, now: str
) -> dict[Any, Any]:
    """Fields of the dead-letter entry for one bad entry (``now``: wall-clock ms as text)."""
    body: dict[Any, Any] = dict(fields)
    body.update(
        {
            "dead.reason": reason,
            "dead.stream": stream,
            "dead.msg_id": msg_id,
            "dead.group": group,
            "dead.consumer": consumer,
            "dead.ts_ms": now,
        }
    )
    return body


def parse_dead_letter(msg_id: Any, fields: Mapping[Any, Any] | None, stream: str) -> DeadLetter:
    """A raw entry of ``stream``'s dead-letter stream as a :class:`DeadLetter`."""
    f = {as_text(k): as_text(v) for k, v in (fields or {}).items()}
    meta = {k: f.pop(k) for k in list(f) if k.startswith("dead.")}
    return DeadLetter(
        msg_id=as_text(msg_id),
        source_stream=meta.get("dead.stream", stream),
        source_msg_id=meta.get("dead.msg_id", ""),
        reason=meta.get("dead.reason", ""),
        group=meta.get("dead.group", ""),
        consumer=meta.get("dead.consumer", ""),
        ts_ms=int(meta.get("dead.ts_ms", "0") or 0),
        fields=f,
    )
