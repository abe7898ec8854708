"""Versioned wire format of the events on the bus.

Every event is a frozen dataclass from :mod:`core.types` (or a later module)
registered here with its stream and the fields that identify it. On the wire it
is a flat mapping of strings (a Redis stream entry)::

    {"v": "1", "type": "LineCrossing", "id": "<sha1>", "camera_id": "cam-1",
     "ts_ms": "1700000000000", "data": "<json of the dataclass>"}

SegmentDensity carries ``segment_id`` instead of ``camera_id`` (each type names
its routing key). ``data`` is compact JSON with sorted keys; enums are their
values, tuples are lists, nested dataclasses are objects; floats must be finite.

Compatibility rules (schema version :data:`SCHEMA_VERSION`):

* Adding a field **with a default** to an event is compatible: old messages
  decode with the default; unknown keys inside ``data`` are ignored.
* Removing/renaming a field or changing its meaning needs a new
  :data:`SCHEMA_VERSION`; messages from a newer version than this code knows
  raise :class:`SchemaError` (callers dead-letter them, never crash).

Adding an event type is one line (see the registrations at the end)::

    register(Violation, "violation.detected", id_fields=("violation_id",))
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from core.types import (
    CameraStatus,
    ClipSaved,
    DensityReport,
    ETicket,
    Incident,
    IncidentUpdate,
    LineCrossing,
    PlateRead,
    RecordingSegment,
    SegmentDensity,
    SignalState,
    TicketUpdate,
    TrafficUpdate,
    Violation,
    WardenAlert,
)

SCHEMA_VERSION = 1
"""Version written into every message (``v``)."""


class SchemaError(ValueError):
    """A message that cannot be encoded or decoded: malformed, unknown type, or future version."""


@dataclass(frozen=True, slots=True)
class EventType:
    """Registration of one event dataclass.

    Attributes:
        cls: The frozen dataclass.
        name: Wire name (``type`` field), the class name by default.
        stream: Stream it is published on.
        id_fields: Fields whose values identify one event (hashed into :func:`event_id`).
        key_field: Routing field copied to the envelope (``camera_id``/``segment_id``), or None.
    """

    cls: type
    name: str
    stream: str
    id_fields: tuple[str, ...]
    key_field: str | None


@dataclass(frozen=True, slots=True)
class Envelope:
    """A decoded message.

    Attributes:
        obj: The event dataclass instance.
        event_id: Idempotent id from the message (equal events have equal ids).
        schema_version: ``v`` of the message.
        type: Wire type name.
    """

    obj: Any
    event_id: str
    schema_version: int
    type: str


_BY_CLASS: dict[type, EventType] = {}
_BY_NAME: dict[str, EventType] = {}

STREAM_OF: dict[type, str] = {}
"""Event class -> stream name (filled by :func:`register`)."""


def register(
    cls: type,
    stream: str,
    id_fields: Sequence[str],
    key_field: str | None = "camera_id",
    name: str | None = None,
) -> EventType:
    """Register an event dataclass for the bus.

    Args:
        cls: A dataclass (frozen, fields of str/int/float/bool/None, enums,
            tuples, str-keyed dicts, nested dataclasses, or unions of those).
        stream: Stream name, ``<domain>.<event>``.
        id_fields: Fields that identify one event; together with the type name
            they make :func:`event_id`. Choose them so a re-sent event gets the same id.
        key_field: Field copied into the envelope for routing/filtering (left out
            of a message where its value is None), or None.
        name: Wire type name; the class name by default. Never change it once used.

    Returns:
        The registration.

    Raises:
        ValueError: ``cls`` is not a dataclass, a field is unknown, or the name/class is taken.
    """
    if not dataclasses.is_dataclass(cls):
        raise ValueError(f"{cls!r} is not a dataclass")
    field_names = {f.name for f in dataclasses.fields(cls)}
    for f in (*id_fields, *((key_field,) if key_field else ())):
        if f not in field_names:
            raise ValueError(f"{cls.__name__} has no field {f!r}")
    if "ts_ms" not in field_names:
        raise ValueError(f"{cls.__name__} must have a ts_ms field (every event carries its time)")
    wire = name or cls.__name__
    if wire in _BY_NAME or cls in _BY_CLASS:
        raise ValueError(f"event type {wire!r} / {cls.__name__} is already registered")
    et = EventType(cls=cls, name=wire, stream=stream, id_fields=tuple(id_fields), key_field=key_field)
    _BY_CLASS[cls] = et
    _BY_NAME[wire] = et
    STREAM_OF[cls] = stream
    return et


def event_types() -> tuple[EventType, ...]:
    """All registered event types."""
    return tuple(_BY_CLASS.values())


def event_type(obj_or_cls: object) -> EventType:
    """Registration of an event instance or class.

    Raises:
        SchemaError: not a registered event type.
    """
    cls = obj_or_cls if isinstance(obj_or_cls, type) else type(obj_or_cls)
    et = _BY_CLASS.get(cls)
    if et is None:
        raise SchemaError(f"{cls.__name__} is not a registered event type (see bus.schema.register)")
    return et


def stream_of(obj_or_cls: object) -> str:
    """Stream an event (instance or class) is published on."""
    return event_type(obj_or_cls).stream


# --------------------------------------------------------------------------- ids


def _id_part(value: object) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def event_id(obj: object) -> str:
    """Deterministic, idempotent id of an event.

    SHA-1 (hex) of the type name and the values of the type's ``id_fields``,
    e.g. LineCrossing: camera, line, track, direction and time. Re-publishing
    the same event gives the same id, so consumers can de-duplicate.

    Raises:
        SchemaError: not a registered event type.
    """
    et = event_type(obj)
    parts = [et.name, *(_id_part(getattr(obj, f)) for f in et.id_fields)]
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- encode


def _to_jsonable(value: object, path: str) -> object:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SchemaError(f"{path}: non-finite float {value!r} cannot be sent")
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_jsonable(getattr(value, f.name), f"{path}.{f.name}") for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_to_jsonable(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise SchemaError(f"{path}: only str keys can be encoded")
        return {k: _to_jsonable(v, f"{path}.{k}") for k, v in value.items()}
    raise SchemaError(f"{path}: cannot encode {type(value).__name__}")


def encode(obj: object) -> dict[str, str]:
    """Encode an event into stream-entry fields.

    Returns:
        ``{"v", "type", "id", <key_field>, "ts_ms", "data"}``, all strings.

    Raises:
        SchemaError: unregistered type or a value that cannot be sent (e.g. NaN).
    """
    et = event_type(obj)
    data = _to_jsonable(obj, et.name)
    out = {
        "v": str(SCHEMA_VERSION),
        "type": et.name,
        "id": event_id(obj),
    }
    if et.key_field and getattr(obj, et.key_field) is not None:
        out[et.key_field] = str(getattr(obj, et.key_field))
    out["ts_ms"] = str(int(getattr(obj, "ts_ms")))  # noqa: B009 - any registered type
    out["data"] = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return out


def dumps(obj: object) -> str:
    """One event as a JSON string of its envelope (for hashes and files)."""
    return json.dumps(encode(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------- decode


def _text(value: bytes | str, what: str) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as e:
            raise SchemaError(f"{what}: not UTF-8") from e
    if isinstance(value, str):
        return value
    raise SchemaError(f"{what}: expected bytes or str, got {type(value).__name__}")


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name}")


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        try:
            hints = typing.get_type_hints(cls)
        except Exception as e:  # unresolvable annotation: a programming error in the event class
            raise SchemaError(f"cannot resolve the field types of {cls.__name__}: {e}") from e
        _HINTS[cls] = hints
    return hints


def _from_json(value: object, tp: Any, path: str) -> object:
    """Rebuild a typed value from JSON, strictly."""
    origin = typing.get_origin(tp)
    if tp is Any or tp is object:
        return value
    if origin is typing.Union or origin is types.UnionType:
        args = typing.get_args(tp)
        if value is None:
            if type(None) in args:
                return None
            raise SchemaError(f"{path}: null not allowed")
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _from_json(value, arg, path)
            except SchemaError as e:
                errors.append(str(e))
        raise SchemaError(f"{path}: no type of {tp} matches ({'; '.join(errors)})")
    if tp is type(None):
        if value is None:
            return None
        raise SchemaError(f"{path}: expected null")
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, list):
            raise SchemaError(f"{path}: expected a list, got {type(value).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_from_json(v, args[0], f"{path}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise SchemaError(f"{path}: expected {len(args)} items, got {len(value)}")
        return tuple(_from_json(v, a, f"{path}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True)))
    if origin is dict or origin is Mapping:
        key_tp, val_tp = typing.get_args(tp) or (str, Any)
        if key_tp is not str or not isinstance(value, dict):
            raise SchemaError(f"{path}: expected an object with str keys")
        return {k: _from_json(v, val_tp, f"{path}.{k}") for k, v in value.items()}
    if isinstance(tp, type):
        if issubclass(tp, Enum):
            try:
                return tp(value)
            except ValueError as e:
                raise SchemaError(f"{path}: {value!r} is not a {tp.__name__}") from e
        if dataclasses.is_dataclass(tp):
            return _dataclass_from_json(tp, value, path)
        if tp is bool:
            if isinstance(value, bool):
                return value
        elif tp is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        elif tp is float:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
        elif tp is str:
            if isinstance(value, str):
                return value
        else:
            raise SchemaError(f"{path}: unsupported field type {tp!r}")
        raise SchemaError(f"{path}: expected {tp.__name__}, got {type(value).__name__}")
    raise SchemaError(f"{path}: unsupported field type {tp!r}")


def _dataclass_from_json(cls: type, value: object, path: str) -> object:
    if not isinstance(value, dict):
        raise SchemaError(f"{path}: expected an object, got {type(value).__name__}")
    hints = _hints(cls)
    kwargs: dict[str, object] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.name in value:
            kwargs[f.name] = _from_json(value[f.name], hints[f.name], f"{path}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise SchemaError(f"{path}: missing field {f.name!r}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise SchemaError(f"{path}: {e}") from e


def decode(fields: Mapping[bytes, bytes] | Mapping[str, str] | Mapping[bytes | str, bytes | str]) -> Envelope:
    """Decode stream-entry fields into an :class:`Envelope`.

    Args:
        fields: Mapping as returned by redis-py (bytes or str keys/values).

    Raises:
        SchemaError: missing/garbled envelope fields, unknown type, unsupported
            (e.g. future) version, or ``data`` that does not fit the type.
    """
    if not isinstance(fields, Mapping):
        raise SchemaError(f"expected a mapping of fields, got {type(fields).__name__}")
    f: dict[str, str] = {}
    for k, v in fields.items():
        f[_text(k, "field name")] = _text(v, f"field {k!r}")
    for required in ("v", "type", "id", "data"):
        if required not in f:
            raise SchemaError(f"missing envelope field {required!r} (have: {', '.join(sorted(f)) or 'none'})")
    try:
        version = int(f["v"])
    except ValueError:
        raise SchemaError(f"bad schema version {f['v']!r}") from None
    if version > SCHEMA_VERSION:
        raise SchemaError(f"schema version {version} is newer than this code understands ({SCHEMA_VERSION})")
    if version < 1:
        raise SchemaError(f"bad schema version {version}")
    et = _BY_NAME.get(f["type"])
    if et is None:
        raise SchemaError(f"unknown event type {f['type']!r}")
    if not f["id"]:
        raise SchemaError("empty event id")
    try:
        data = json.loads(f["data"], parse_constant=_reject_constant)
    except ValueError as e:
        raise SchemaError(f"{et.name}: data is not valid JSON: {e}") from None
    obj = _dataclass_from_json(et.cls, data, et.name)
    return Envelope(obj=obj, event_id=f["id"], schema_version=version, type=et.name)


def loads(text: str | bytes) -> Envelope:
    """Inverse of :func:`dumps`.

    Raises:
        SchemaError: not JSON, not an object, or :func:`decode` fails.
    """
    try:
        raw = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as e:
        raise SchemaError(f"not a JSON envelope: {e}") from None
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise SchemaError("a JSON envelope must be an object of strings")
    return decode(raw)


# --------------------------------------------------------------------------- registrations

register(LineCrossing, "traffic.crossing", id_fields=("camera_id", "line_id", "track_id", "direction", "ts_ms"))
register(DensityReport, "traffic.density", id_fields=("camera_id", "ts_ms"))
register(SegmentDensity, "traffic.segment", id_fields=("segment_id", "ts_ms"), key_field="segment_id")
register(CameraStatus, "camera.status", id_fields=("camera_id", "worker_id", "state", "ts_ms"))
register(PlateRead, "plate.read", id_fields=("camera_id", "track_id", "ts_ms", "text"))
register(Incident, "incident.raised", id_fields=("incident_id",))
register(Violation, "violation.detected", id_fields=("violation_id",))
register(ETicket, "ticket.issued", id_fields=("ticket_id",))
register(TicketUpdate, "ticket.updated", id_fields=("ticket_id", "to_state", "ts_ms"))
register(IncidentUpdate, "incident.updated", id_fields=("incident_id", "action", "actor", "ts_ms"), key_field=None)
register(WardenAlert, "alert.warden", id_fields=("alert_id", "escalated"), key_field="segment_id")
register(SignalState, "signal.state", id_fields=("signal_id", "phase", "ts_ms"), key_field="signal_id")
register(TrafficUpdate, "traffic.update", id_fields=("update_id", "ts_ms"), key_field="segment_id")
register(ClipSaved, "clip.saved", id_fields=("owner_kind", "owner_id"))
register(RecordingSegment, "recording.segment", id_fields=("camera_id", "ts_ms"))
