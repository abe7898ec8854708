"""What each audience gets (public, warden, operators), incident state folding, chart counts, grid filters."""

from __future__ import annotations

import json
import re

import pytest

from config.settings import load_config
from core.incidents import fold_incidents
from core.types import (
    CameraState,
    CameraStatus,
    CongestionLevel,
    ETicket,
    Incident,
    IncidentKind,
    IncidentUpdate,
    Priority,
    SegmentDensity,
    TicketState,
    TrafficUpdate,
    WardenAlert,
)
from dashboard import feeds
from dashboard.incidents import IncidentFilter
from dashboard.live import LatencyHistogram, _origin_ok, entry_ms
from dashboard.series import buckets, counts_delta
from dashboard.updates import UpdateDraft, UpdateError, validate

CFG = load_config()
T = 1_700_000_000_000
PLATE_LIKE = re.compile(r"\b[A-Z]{2,4}[- ]?\d{2,4}\b")


def _incident(iid: str = "i1", seg: str = "gt-rd", kind: IncidentKind = IncidentKind.OVERSPEED) -> Incident:
    return Incident(iid, kind, Priority.HIGH, T, CFG.cameras[1].id, seg, (34.01, 71.59), 5, "LEA-1234", "fast car")


def _alert(seg: str | None, wardens: tuple[str, ...] = ()) -> WardenAlert:
    return WardenAlert("a1", "i1", seg, wardens, T, kind=IncidentKind.CONGESTION, summary="jam")


def test_public_messages_carry_no_personal_data() -> None:
    inc = _incident()
    ticket = ETicket(
        "ET-1", "v1", IncidentKind.OVERSPEED, TicketState.ISSUED, "cam", "gt-rd", T, T, "car", "LEA-1234", 0.9, 2500
    )
    for obj in (inc, _alert("gt-rd", ("warden2",)), ticket, IncidentUpdate("i1", "ack", "warden2", T)):
        assert feeds.event_message("x", obj, CFG)[feeds.PUBLIC] is None
    pub = feeds.event_message(
        "traffic.update", TrafficUpdate("u1", "GT Road slow", "Accident cleared", T, "op", "", "gt-rd", True), CFG
    )
    assert set(pub[feeds.PUBLIC]["update"]) == feeds.PUBLIC_UPDATE_KEYS  # type: ignore[index]
    draft = feeds.event_message("traffic.update", TrafficUpdate("u2", "draft", "", T, "op"), CFG)
    assert draft[feeds.PUBLIC] == {"type": "traffic_update_removed", "id": "u2"}
    assert draft[feeds.OPS]["update"]["author"] == "op"  # type: ignore[index]
    seg = feeds.segments_message(
        CFG, {"gt-rd": SegmentDensity("gt-rd", T, 9.0, 0.4, CongestionLevel.HEAVY, ("cam-x",), 20.0)}, T, 30
    )
    doc = seg["segments"][0]
    assert set(doc) == feeds.PUBLIC_SEGMENT_KEYS and doc["level"] == "heavy" and doc["name_ur"]
    assert "cam-x" not in json.dumps(seg) and not PLATE_LIKE.search(json.dumps(seg))
    stale = feeds.segments_message(
        CFG, {"gt-rd": SegmentDensity("gt-rd", T - 60_000, 9.0, 0.4, CongestionLevel.HEAVY)}, T, 30
    )
    assert stale["segments"][0]["level"] == "unknown"


def test_operators_get_incident_details() -> None:
    msg = feeds.event_message("incident.raised", _incident(), CFG)[feeds.OPS]
    assert msg is not None and msg["incident"]["plate"] == "LEA-1234" and msg["incident"]["location"] == [34.01, 71.59]
    cams = feeds.cameras_message([CameraStatus("c1", CameraState.OFFLINE, T, "w1", 0, 0, error="refused")])
    assert cams["cameras"][0]["state"] == "offline" and cams["cameras"][0]["error"] == "refused"


@pytest.mark.parametrize(
    ("viewer", "alert", "shown"),
    [
        (feeds.Viewer("warden", "warden2", frozenset({"gt-rd", "ring-rd"})), _alert("gt-rd"), True),
        (feeds.Viewer("warden", "warden1", frozenset({"university-rd"})), _alert("gt-rd"), False),
        (
            feeds.Viewer("warden", "warden1", frozenset({"university-rd"})),
            _alert("gt-rd", ("warden1",)),
            True,
        ),  # addressed
        (feeds.Viewer("warden", "warden1", frozenset({"university-rd"})), _alert(None), False),
        (feeds.Viewer("warden", "boss", frozenset(), all_zones=True), _alert("gt-rd"), True),  # admin
        (feeds.Viewer("public"), _alert("gt-rd"), False),
    ],
)
def test_wardens_see_their_zones_only(viewer: feeds.Viewer, alert: WardenAlert, shown: bool) -> None:
    assert feeds.alert_for_warden(alert, viewer) is shown


def test_incident_state_is_the_fold_of_its_updates() -> None:
    raised = [_incident("i1"), _incident("i2", "ring-rd", IncidentKind.SOS)]
    ups = [
        IncidentUpdate("i1", "assign", "op", T + 20, assignee="warden2", state="assigned"),
        IncidentUpdate("i1", "ack", "warden2", T + 10, state="acknowledged"),
        IncidentUpdate("i2", "close", "op", T + 5, note="false alarm", state="closed"),
        IncidentUpdate("zz", "close", "op", T + 5),  # unknown incident: ignored
    ]
    views = fold_incidents(raised, ups)
    assert views["i1"].state == "assigned" and views["i1"].assignee == "warden2"
    assert [h.action for h in views["i1"].history] == ["ack", "assign"]
    assert views["i2"].state == "closed"
    flt = IncidentFilter(states=("open", "acknowledged", "assigned"))
    assert [v.id for v in views.values() if flt.accepts(v)] == ["i1"]
    assert IncidentFilter(kinds=("sos",)).accepts(views["i2"]) and not IncidentFilter(segment_id="gt-rd").accepts(
        views["i2"]
    )


def test_counts_between_snapshots_survive_worker_restarts() -> None:
    assert counts_delta(None, {"main:forward": 5}) == 0
    assert counts_delta({"main:forward": 5, "main:backward": 2}, {"main:forward": 9, "main:backward": 2}) == 4
    assert counts_delta({"main:forward": 50}, {"main:forward": 3}) == 3  # counter restarted at 0
    assert buckets(T + 1234, T + 600_000, 300) == [T - T % 300_000 + i * 300_000 for i in range(3)]


def test_updates_are_validated() -> None:
    assert validate(CFG, UpdateDraft("  Title  ", " body ")).title == "Title"
    with pytest.raises(UpdateError, match="title is required"):
        validate(CFG, UpdateDraft("  "))
    with pytest.raises(UpdateError, match="unknown road segment"):
        validate(CFG, UpdateDraft("t", segment_id="atlantis"))
    with pytest.raises(UpdateError, match="too long"):
        validate(CFG, UpdateDraft("t", "x" * 5000))


def test_live_server_helpers() -> None:
    assert entry_ms("1700000000123-4") == 1700000000123 and entry_ms("bad") == 0
    assert _origin_ok("http://127.0.0.1:8050", "127.0.0.1:8765", ())
    assert not _origin_ok("http://evil.example", "127.0.0.1:8765", ())
    assert _origin_ok("https://city.example", "ws.internal:8765", ("https://city.example",))
    assert _origin_ok(None, "127.0.0.1:8765", ())  # not a browser: the cookie decides
    h = LatencyHistogram()
    for s in (0.004, 0.03, 0.2, 7.0):
        h.observe(s)
    d = h.as_dict()
    assert d["count"] == 4 and sum(d["counts"]) == 4 and d["counts"][-1] == 1


def test_ticket_grid_filters_map_to_the_archive() -> None:
    pytest.importorskip("archive")
    from dashboard.tickets_grid import FilterError, ticket_filter, ticket_sort

    f = ticket_filter(
        {
            "state": {"filterType": "text", "type": "equals", "filter": "issued, under_review"},
            "kind": {"filterType": "text", "type": "equals", "filter": "overspeed"},
            "plate": {"filterType": "text", "type": "equals", "filter": "LEA1234"},
            "ts": {
                "filterType": "date",
                "type": "inRange",
                "dateFrom": "2024-05-01 00:00:00",
                "dateTo": "2024-05-02 00:00:00",
            },
        }
    )
    assert f.states == (TicketState.ISSUED, TicketState.UNDER_REVIEW) and f.kinds == (IncidentKind.OVERSPEED,)
    assert f.plate == "LEA1234" and f.since_ms == 1714521600000 and f.until_ms == 1714694399999
    with pytest.raises(FilterError, match="unknown state"):
        ticket_filter({"state": {"filter": "paid-ish"}})
    with pytest.raises(FilterError, match="cannot filter by speed"):
        ticket_filter({"speed": {"filter": "9"}})
    assert ticket_sort([{"colId": "fine_pkr", "sort": "desc"}]) == "-fine"
    assert ticket_sort([{"colId": "ts", "sort": "asc"}]) == "ts"
    assert ticket_sort(None) == "-ts"
