"""bus.schema: round trips, idempotent ids, and strict rejection of bad messages."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

import pytest

from bus import schema
from bus.schema import SCHEMA_VERSION, STREAM_OF, SchemaError, decode, dumps, encode, event_id, loads
from core.types import (
    CameraState,
    CameraStatus,
    CongestionLevel,
    DensityReport,
    Direction,
    Incident,
    IncidentKind,
    LineCrossing,
    PlateRead,
    Priority,
    SegmentDensity,
    ZoneDensity,
)

TS = 1_700_000_000_123


def crossing(**kw: object) -> LineCrossing:
    base = LineCrossing("cam-1", "line-a", 17, "rickshaw", Direction.BACKWARD, TS)
    return replace(base, **kw)  # type: ignore[arg-type]


def density(**kw: object) -> DensityReport:
    base = DensityReport(
        camera_id="cam-1",
        segment_id="seg-gt-road",
        ts_ms=TS,
        vehicles=4.25,
        occupancy=0.3125,
        zones=(ZoneDensity("z1", 3, 0.25), ZoneDensity("z2", 0, 0.0)),
        counts=(("line-a:forward", 12), ("line-a:backward", 9)),
        by_label=(("car", 15), ("bus", 6)),
        mean_speed_kmh=37.5,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def segment(**kw: object) -> SegmentDensity:
    base = SegmentDensity("seg-gt-road", TS, 7.0, 0.55, CongestionLevel.JAMMED, ("cam-1", "cam-2"), None)
    return replace(base, **kw)  # type: ignore[arg-type]


def status(**kw: object) -> CameraStatus:
    base = CameraStatus(
        camera_id="cam-2",
        state=CameraState.OFFLINE,
        ts_ms=TS,
        worker_id="worker-a",
        fps_in=24.5,
        fps_analysed=5.0,
        frames_in=1000,
        frames_analysed=200,
        frames_skipped=800,
        frames_corrupt=3,
        reconnects=2,
        last_frame_ts_ms=TS - 5000,
        error="rtsp: connection refused — retrying",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


EVENTS = [
    pytest.param(crossing(), id="LineCrossing"),
    pytest.param(density(), id="DensityReport"),
    pytest.param(density(zones=(), counts=(), by_label=(), mean_speed_kmh=None), id="DensityReport-empty"),
    pytest.param(segment(), id="SegmentDensity"),
    pytest.param(segment(level=CongestionLevel.UNKNOWN, cameras=(), mean_speed_kmh=12.0), id="SegmentDensity-unknown"),
    pytest.param(status(), id="CameraStatus"),
    pytest.param(CameraStatus("cam-3", CameraState.STARTING, TS), id="CameraStatus-defaults"),
    pytest.param(PlateRead("cam-1", 17, TS, "LEB1234", 0.875, (10.0, 20.5, 60.0, 18.0), votes=5), id="PlateRead"),
    pytest.param(
        PlateRead("cam-1", 17, TS, "LEB1234", 0.875, (10.0, 20.5, 60.0, 18.0), votes=2, crop="ab" * 32),
        id="PlateRead-with-crop",
    ),
    pytest.param(
        Incident(
            incident_id="inc-7",
            kind=IncidentKind.OVERSPEED,
            priority=Priority.HIGH,
            ts_ms=TS,
            camera_id="cam-1",
            segment_id="seg-gt-road",
            location=(34.0123, 71.5432),
            track_id=17,
            plate="LEB1234",
            summary="92 km/h in a 60 zone",
            evidence=("ab" * 32,),
            details=(("speed_kmh", "92.5"), ("limit_kmh", "60")),
        ),
        id="Incident",
    ),
    pytest.param(Incident("inc-8", IncidentKind.SOS, Priority.CRITICAL, TS), id="Incident-minimal"),
]


@pytest.mark.parametrize("obj", EVENTS)
def test_round_trip(obj: object) -> None:
    fields = encode(obj)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())
    env = decode(fields)
    assert env.obj == obj
    assert type(env.obj) is type(obj)
    assert env.schema_version == SCHEMA_VERSION
    assert env.event_id == event_id(obj) == fields["id"]
    assert env.type == type(obj).__name__
    # enums come back as enums, nested tuples as tuples of the right dataclass
    for name in ("direction", "level", "state"):
        if hasattr(obj, name):
            assert type(getattr(env.obj, name)) is type(getattr(obj, name))
    if isinstance(obj, DensityReport):
        rep = env.obj
        assert isinstance(rep, DensityReport)
        assert all(isinstance(z, ZoneDensity) for z in rep.zones)
        assert isinstance(rep.counts, tuple) and all(isinstance(c, tuple) for c in rep.counts)


@pytest.mark.parametrize("obj", EVENTS)
def test_round_trip_bytes_and_json(obj: object) -> None:
    as_bytes = {k.encode(): v.encode() for k, v in encode(obj).items()}
    assert decode(as_bytes).obj == obj
    assert loads(dumps(obj)).obj == obj
    assert loads(dumps(obj).encode()).obj == obj


def test_envelope_fields() -> None:
    f = encode(crossing())
    assert f["v"] == str(SCHEMA_VERSION)
    assert f["type"] == "LineCrossing"
    assert f["camera_id"] == "cam-1"
    assert f["ts_ms"] == str(TS)
    assert json.loads(f["data"])["direction"] == "backward"
    s = encode(segment())
    assert s["segment_id"] == "seg-gt-road" and "camera_id" not in s
    assert "camera_id" not in encode(Incident("inc-8", IncidentKind.SOS, Priority.CRITICAL, TS))  # None: left out


def test_streams() -> None:
    assert STREAM_OF[LineCrossing] == "traffic.crossing"
    assert STREAM_OF[DensityReport] == "traffic.density"
    assert STREAM_OF[SegmentDensity] == "traffic.segment"
    assert STREAM_OF[CameraStatus] == "camera.status"
    assert STREAM_OF[PlateRead] == "plate.read"
    assert STREAM_OF[Incident] == "incident.raised"
    assert schema.stream_of(crossing()) == "traffic.crossing"


def test_encoding_is_deterministic() -> None:
    assert encode(density()) == encode(density())
    assert dumps(status()) == dumps(status())


def test_event_ids_deterministic() -> None:
    assert event_id(crossing()) == event_id(crossing())
    # non-identifying fields do not change the id (a re-sent event is the same event)
    assert event_id(crossing(label="car")) == event_id(crossing())
    assert event_id(density(vehicles=99.0)) == event_id(density())
    assert event_id(segment(level=CongestionLevel.FREE)) == event_id(segment())


@pytest.mark.parametrize(
    "other",
    [
        crossing(camera_id="cam-2"),
        crossing(line_id="line-b"),
        crossing(track_id=18),
        crossing(direction=Direction.FORWARD),
        crossing(ts_ms=TS + 1),
    ],
)
def test_crossing_ids_distinct(other: LineCrossing) -> None:
    assert event_id(other) != event_id(crossing())


def test_ids_distinct_across_types_and_keys() -> None:
    ids = {
        event_id(crossing()),
        event_id(density()),
        event_id(density(camera_id="cam-2")),
        event_id(density(ts_ms=TS + 1000)),
        event_id(segment()),
        event_id(segment(segment_id="seg-2")),
        event_id(status()),
        event_id(status(state=CameraState.ONLINE)),
        event_id(status(ts_ms=TS + 1)),
        event_id(status(camera_id="cam-1")),
    }
    assert len(ids) == 10
    assert all(len(i) == 40 and int(i, 16) >= 0 for i in ids)


def _with(obj: object, **changes: str) -> dict[str, str]:
    f = encode(obj)
    f.update(changes)
    return f


def _data(obj: object, **changes: object) -> dict[str, str]:
    f = encode(obj)
    d = json.loads(f["data"])
    d.update(changes)
    f["data"] = json.dumps(d)
    return f


def _without(obj: object, key: str) -> dict[str, str]:
    f = encode(obj)
    del f[key]
    return f


def _data_without(obj: object, key: str) -> dict[str, str]:
    f = encode(obj)
    d = json.loads(f["data"])
    del d[key]
    f["data"] = json.dumps(d)
    return f


MALFORMED = [
    pytest.param({}, id="empty"),
    pytest.param({"hello": "world"}, id="not-an-envelope"),
    pytest.param(_without(crossing(), "v"), id="no-version"),
    pytest.param(_without(crossing(), "type"), id="no-type"),
    pytest.param(_without(crossing(), "data"), id="no-data"),
    pytest.param(_without(crossing(), "id"), id="no-id"),
    pytest.param(_with(crossing(), id=""), id="empty-id"),
    pytest.param(_with(crossing(), v="2"), id="future-version"),
    pytest.param(_with(crossing(), v="0"), id="version-0"),
    pytest.param(_with(crossing(), v="one"), id="version-not-int"),
    pytest.param(_with(crossing(), type="Teleport"), id="unknown-type"),
    pytest.param(_with(crossing(), data="{not json"), id="bad-json"),
    pytest.param(_with(crossing(), data="[1, 2]"), id="data-not-object"),
    pytest.param(_data(density(), vehicles=float("nan")), id="nan"),
    pytest.param(_data(density(), occupancy=float("inf")), id="inf"),
    pytest.param(_data_without(crossing(), "track_id"), id="missing-field"),
    pytest.param(_data(crossing(), direction="sideways"), id="bad-enum"),
    pytest.param(_data(crossing(), track_id="17"), id="int-as-string"),
    pytest.param(_data(crossing(), track_id=True), id="bool-as-int"),
    pytest.param(_data(crossing(), track_id=1.5), id="float-as-int"),
    pytest.param(_data(crossing(), label=None), id="null-str"),
    pytest.param(_data(density(), zones=[{"zone_id": "z1", "vehicles": 1}]), id="nested-missing"),
    pytest.param(_data(density(), zones={"z1": 1}), id="tuple-as-object"),
    pytest.param(_data(density(), counts=[["a", 1, 2]]), id="pair-wrong-length"),
    pytest.param(_data(density(), counts=[[1, "a"]]), id="pair-wrong-types"),
    pytest.param(_data(segment(), level="gridlock"), id="bad-level"),
    pytest.param(_data(status(), state=None), id="null-enum"),
    pytest.param({b"v": b"1", b"type": b"\xff\xfe", b"id": b"x", b"data": b"{}"}, id="not-utf8"),
]


@pytest.mark.parametrize("fields", MALFORMED)
def test_malformed_raises_schema_error(fields: dict[str, str]) -> None:
    with pytest.raises(SchemaError):
        decode(fields)


@pytest.mark.parametrize("text", ["", "nope", "[]", '{"v": 1}', json.dumps({"v": "1", "type": "LineCrossing"})])
def test_loads_malformed(text: str) -> None:
    with pytest.raises(SchemaError):
        loads(text)


def test_decode_rejects_non_mapping() -> None:
    with pytest.raises(SchemaError):
        decode([("v", "1")])  # type: ignore[arg-type]


def test_missing_defaulted_field_and_unknown_extra_field_are_compatible() -> None:
    # an older producer without a defaulted field, and a newer one with an extra field, still decode
    assert decode(_data_without(status(), "reconnects")).obj == status(reconnects=0)
    assert decode(_data(crossing(), speed_kmh=42.0)).obj == crossing()
    read = PlateRead("cam-1", 17, TS, "LEB1234", 0.875, (10.0, 20.5, 60.0, 18.0), votes=5)
    assert decode(_data_without(read, "crop")).obj == read  # a plate.read from before crops were sent


def test_encode_rejects_unregistered_and_unsendable() -> None:
    @dataclass(frozen=True)
    class NotAnEvent:
        ts_ms: int

    with pytest.raises(SchemaError):
        encode(NotAnEvent(1))
    with pytest.raises(SchemaError):
        event_id(NotAnEvent(1))
    with pytest.raises(SchemaError):
        encode(density(mean_speed_kmh=float("nan")))
    with pytest.raises(SchemaError):
        encode(segment(occupancy=float("inf")))


def test_registering_a_new_event_type_is_one_call() -> None:
    @dataclass(frozen=True)
    class Roadblock:
        roadblock_id: str
        camera_id: str
        ts_ms: int
        kind: CongestionLevel
        where: tuple[float, float]
        notes: tuple[str, ...] = ()
        extra: dict[str, int] | None = None

    et = schema.register(Roadblock, "roadblock.reported", id_fields=("roadblock_id",))
    try:
        rb = Roadblock("rb-1", "cam-1", TS, CongestionLevel.HEAVY, (34.0, 71.5), ("stalled",), {"n": 2})
        assert schema.stream_of(rb) == "roadblock.reported"
        assert decode(encode(rb)).obj == rb
        assert event_id(rb) == event_id(replace(rb, notes=()))
        with pytest.raises(ValueError):
            schema.register(Roadblock, "roadblock.reported", id_fields=("roadblock_id",))
    finally:  # keep the registry as it was for other tests
        schema._BY_CLASS.pop(et.cls)
        schema._BY_NAME.pop(et.name)
        STREAM_OF.pop(et.cls)


def test_register_validates_fields() -> None:
    @dataclass(frozen=True)
    class NoTime:
        camera_id: str

    @dataclass(frozen=True)
    class Timed:
        camera_id: str
        ts_ms: int

    with pytest.raises(ValueError, match="ts_ms"):
        schema.register(NoTime, "x.y", id_fields=("camera_id",))
    with pytest.raises(ValueError, match="no field"):
        schema.register(Timed, "x.y", id_fields=("nope",))
    with pytest.raises(ValueError, match="not a dataclass"):
        schema.register(int, "x.y", id_fields=())
