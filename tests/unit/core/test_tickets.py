"""core.tickets: idempotent numbers, PKR fines, the lifecycle; core.alerts: routing, ack, escalation."""

from __future__ import annotations

import pytest

from core.alerts import AlertDesk, AlertError, Roster, alert_id_for
from core.tickets import (
    TICKET_ID_RE,
    FineSchedule,
    FineTier,
    InvalidTransition,
    fine_for,
    issue,
    normalise_ticket_id,
    ticket_id_for,
    transition,
)
from core.types import Incident, IncidentKind, Priority, TicketState, Violation

# The demo schedule; the tiers out of order (fine_for picks the highest one reached).
FINES = FineSchedule(1500, (FineTier(40, 5000), FineTier(20, 2500)), 2000, 1000, 500)


def viol(
    kind: str = "overspeed",
    speed: float | None = 80.0,
    limit: float | None = 60.0,
    plate: str | None = "LEA1234",
    conf: float = 0.9,
    evidence: int = 3,
) -> Violation:
    return Violation(
        violation_id=f"v-{kind}-{speed}",
        kind=IncidentKind(kind),
        camera_id="cam-1",
        segment_id="seg-1",
        track_id=3,
        ts_ms=1_700_000_000_000,
        label="car",
        plate=plate,
        plate_confidence=conf,
        speed_kmh=speed,
        limit_kmh=limit,
        evidence=tuple(f"{i:064x}" for i in range(evidence)),
    )


def test_ticket_ids_are_deterministic_and_readable() -> None:
    a, b = ticket_id_for("x"), ticket_id_for("x")
    assert a == b != ticket_id_for("y")
    assert TICKET_ID_RE.match(a)
    assert not set(a[3:].replace("-", "")) & set("ILOU")
    assert normalise_ticket_id(a.lower().replace("-", " ")) == a


@pytest.mark.parametrize(
    ("kind", "speed", "limit", "amount"),
    [
        ("overspeed", 70, 60, 1500),
        ("overspeed", 80, 60, 2500),
        ("overspeed", 101, 60, 5000),
        ("overspeed", None, None, 1500),
        ("wrong_way", None, None, 2000),
        ("red_light", None, None, 1000),
        ("stalled", None, None, 500),
    ],
)
def test_fines(kind: str, speed: float | None, limit: float | None, amount: int) -> None:
    assert fine_for(viol(kind, speed, limit), FINES) == amount


def test_fine_for_unknown_kind() -> None:
    with pytest.raises(ValueError):
        fine_for(viol("sos"), FINES)


def test_issue_with_plate_is_issued() -> None:
    t = issue(viol(), FINES, 5)
    assert t.state is TicketState.ISSUED and t.plate == "LEA1234" and t.fine_pkr == 2500
    assert t.ticket_id == ticket_id_for(t.violation_id)
    assert [(x.from_state, x.to_state, x.actor) for x in t.transitions] == [(None, TicketState.ISSUED, "system")]


@pytest.mark.parametrize(("plate", "conf", "evidence"), [(None, 0.0, 3), ("LEA1", 0.2, 3), ("LEA1", 0.9, 1)])
def test_issue_without_readable_plate_or_evidence_goes_to_review(plate: str | None, conf: float, evidence: int) -> None:
    t = issue(viol(plate=plate, conf=conf, evidence=evidence), FINES, 5)
    assert t.state is TicketState.UNDER_REVIEW
    assert t.transitions[-1].actor == "system" and "manual review" in t.transitions[-1].reason


def test_lifecycle() -> None:
    t = issue(viol(), FINES, 5)
    t = transition(t, TicketState.UNDER_REVIEW, "op1", 6)
    t = transition(t, TicketState.APPROVED, "op1", 7, "evidence clear")
    t = transition(t, TicketState.PAID, "bank", 8)
    assert [x.to_state for x in t.transitions] == [
        TicketState.ISSUED,
        TicketState.UNDER_REVIEW,
        TicketState.APPROVED,
        TicketState.PAID,
    ]
    assert [(x.actor, x.ts_ms) for x in t.transitions[1:]] == [("op1", 6), ("op1", 7), ("bank", 8)]
    with pytest.raises(InvalidTransition, match="final"):
        transition(t, TicketState.VOID, "op1", 9)


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ([], TicketState.APPROVED),
        ([], TicketState.PAID),
        ([TicketState.VOID], TicketState.UNDER_REVIEW),
        ([TicketState.UNDER_REVIEW], TicketState.PAID),
        ([TicketState.UNDER_REVIEW], TicketState.NOTIFIED),
        ([TicketState.UNDER_REVIEW, TicketState.APPROVED], TicketState.APPEALED),
        ([TicketState.UNDER_REVIEW, TicketState.APPROVED, TicketState.NOTIFIED], TicketState.UPHELD),
        ([TicketState.UNDER_REVIEW, TicketState.APPROVED, TicketState.OWNER_UNKNOWN], TicketState.PAID),
        (
            [
                TicketState.UNDER_REVIEW,
                TicketState.APPROVED,
                TicketState.NOTIFIED,
                TicketState.APPEALED,
                TicketState.CANCELLED,
            ],
            TicketState.PAID,
        ),
    ],
)
def test_invalid_transitions(path: list[TicketState], bad: TicketState) -> None:
    t = issue(viol(), FINES, 5)
    for s in path:
        t = transition(t, s, "op", 6)
    with pytest.raises(InvalidTransition):
        transition(t, bad, "op", 7)


@pytest.mark.parametrize(
    "path",
    [
        [TicketState.NOTIFIED, TicketState.PAID],
        [TicketState.NOTIFIED, TicketState.OVERDUE, TicketState.PAID],
        [TicketState.NOTIFIED, TicketState.APPEALED, TicketState.UPHELD, TicketState.PAID],
        [TicketState.NOTIFIED, TicketState.APPEALED, TicketState.UPHELD, TicketState.OVERDUE, TicketState.PAID],
        [TicketState.NOTIFIED, TicketState.APPEALED, TicketState.CANCELLED],
        [TicketState.NOTIFIED, TicketState.OVERDUE, TicketState.APPEALED, TicketState.CANCELLED],
        [TicketState.OWNER_UNKNOWN, TicketState.NOTIFIED, TicketState.PAID],
        [TicketState.OWNER_UNKNOWN, TicketState.VOID],
    ],
)
def test_citizen_side_lifecycle(path: list[TicketState]) -> None:
    t = transition(
        transition(issue(viol(), FINES, 5), TicketState.UNDER_REVIEW, "op", 6), TicketState.APPROVED, "op", 7
    )
    for i, s in enumerate(path):
        t = transition(t, s, "citizen" if s is TicketState.APPEALED else "system", 8 + i)
    assert t.state is path[-1] and len(t.transitions) == 3 + len(path)


def test_approve_without_plate_needs_one() -> None:
    t = issue(viol(plate=None), FINES, 5)
    with pytest.raises(InvalidTransition, match="plate"):
        transition(t, TicketState.APPROVED, "op", 6)
    t = transition(t, TicketState.APPROVED, "op", 6, "read from the frames", plate="KHI777")
    assert t.plate == "KHI777" and t.state is TicketState.APPROVED


def test_blank_actor_rejected() -> None:
    with pytest.raises(InvalidTransition, match="actor"):
        transition(issue(viol(), FINES, 5), TicketState.VOID, " ", 6)


# --------------------------------------------------------------------------- alerts


def inc(seg: str | None = "seg-1", iid: str = "i1") -> Incident:
    return Incident(iid, IncidentKind.CONGESTION, Priority.MEDIUM, 0, segment_id=seg, summary="jam")


def desk(runtime: dict | None = None) -> AlertDesk:
    return AlertDesk(Roster.build([("ali", ["seg-1"]), ("sara", ["seg-1", "seg-2"])], runtime), escalate_after_s=60)


def test_routing_by_segment() -> None:
    d = desk()
    a = d.raise_for(inc(), 1000)
    assert a is not None and a.wardens == ("ali", "sara") and not a.escalated and a.deadline_ms == 61_000
    assert a.alert_id == alert_id_for("i1")
    assert d.raise_for(inc(), 2000) is None  # idempotent


def test_runtime_assignment_overrides_config() -> None:
    d = desk({"ali": ["seg-2"]})
    a = d.raise_for(inc(), 0)
    assert a is not None and a.wardens == ("sara",)


def test_no_warden_goes_to_control_room_at_once() -> None:
    a = desk().raise_for(inc(seg="seg-9"), 0)
    assert a is not None and a.wardens == () and a.escalated


def test_ack_stops_escalation() -> None:
    d = desk()
    a = d.raise_for(inc(), 0)
    assert a is not None
    d.ack(a.alert_id, "ali", 30_000)
    assert d.due(120_000) == []
    assert d.open[a.alert_id].acked_by == "ali"


def test_unacked_escalates_once() -> None:
    d = desk()
    a = d.raise_for(inc(), 0)
    assert a is not None
    assert d.due(59_999) == []
    (e,) = d.due(60_000)
    assert e.escalated and e.incident_id == "i1"
    assert d.due(70_000) == []


@pytest.mark.parametrize(
    ("user", "allow_any", "ok"), [("ali", False, True), ("bob", False, False), ("bob", True, True)]
)
def test_ack_permissions(user: str, allow_any: bool, ok: bool) -> None:
    d = desk()
    a = d.raise_for(inc(), 0)
    assert a is not None
    if ok:
        assert d.ack(a.alert_id, user, 1, allow_any=allow_any).acked_by == user
    else:
        with pytest.raises(AlertError):
            d.ack(a.alert_id, user, 1, allow_any=allow_any)
    with pytest.raises(AlertError, match="unknown"):
        d.ack("nope", "ali", 1)


def test_alert_round_trip() -> None:
    d = desk()
    a = d.raise_for(inc(), 0)
    assert a is not None and AlertDesk.from_dict(AlertDesk.to_dict(a)) == a
