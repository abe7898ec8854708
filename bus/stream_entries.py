"""Stream entries as the bus hands them out: :class:`Message`, and reply-shape helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bus.schema import Envelope, SchemaError, decode

#: Why an entry is dead-lettered when its fields are gone (it was trimmed or deleted before being handled).
DELETED_REASON = "entry deleted (trimmed by the MAXLEN cap or XDEL) before it was acknowledged"

#: A bad entry to dead-letter: (stream, entry id, original fields, reason).
DeadEntry = tuple[str, str, Mapping[Any, Any], str]


def as_text(value: bytes | str | int | None) -> str:
    """A Redis reply value as text (bytes decoded as UTF-8 with replacement; None -> "")."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


@dataclass(frozen=True, slots=True)
class Message:
    """One decoded stream entry.

    Attributes:
        stream: Stream it came from.
        msg_id: Redis entry id (``<ms>-<seq>``), needed to acknowledge it.
        envelope: Decoded event with its id and schema version.
    """

    stream: str
    msg_id: str
    envelope: Envelope

    @property
    def obj(self) -> Any:
        """The event dataclass."""
        return self.envelope.obj

    @property
    def event_id(self) -> str:
        """Idempotent event id (stable across re-sends)."""
        return self.envelope.event_id


RawEntry = tuple[Any, Any]


def normalise_xread(resp: Any) -> list[tuple[str, list[RawEntry]]]:
    """XREAD/XREADGROUP reply (RESP2 list or RESP3 dict shapes) -> [(stream, [(id, fields)])]."""
    if not resp:
        return []
    items = resp.items() if isinstance(resp, dict) else resp
    out: list[tuple[str, list[RawEntry]]] = []
    for stream, entries in items:
        entries = entries or []
        if len(entries) == 1 and isinstance(entries[0], list):  # RESP3 legacy wrapping
            entries = entries[0]
        out.append((as_text(stream), [(e[0], e[1]) for e in entries]))
    return out


def decode_entries(got: Sequence[tuple[str, Sequence[RawEntry]]]) -> tuple[list[Message], list[DeadEntry]]:
    """Decode raw entries into messages; those that cannot be decoded come back as dead entries."""
    msgs: list[Message] = []
    dead: list[DeadEntry] = []
    for stream, entries in got:
        for raw_id, fields in entries:
            msg_id = as_text(raw_id)
            if not fields:
                dead.append((stream, msg_id, {}, DELETED_REASON))
                continue
            try:
                msgs.append(Message(stream=stream, msg_id=msg_id, envelope=decode(fields)))
            except SchemaError as e:
                dead.append((stream, msg_id, fields, str(e)))
    return msgs, dead
