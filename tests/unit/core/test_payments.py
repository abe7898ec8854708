"""core.payments: HMAC signatures, callback parsing, freshness, the amount due."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from core.payments import (
    PAYABLE_STATES,
    CallbackError,
    PaymentCallback,
    check_amount,
    check_fresh,
    check_payable,
    encode_callback,
    parse_callback,
    sign,
    verify_signature,
)
from core.tickets import FineSchedule, issue
from core.types import IncidentKind, TicketState, Violation

SECRET = "s3cret-s3cret-s3cret"
CB = PaymentCallback("txn_abcdefgh", "ET-0000-0000-0000", 1500, "paid", 1_700_000_000, "nonce-123456")


def _ticket(state: TicketState = TicketState.NOTIFIED):
    v = Violation("v1", IncidentKind.OVERSPEED, "cam", "seg", 1, 0, "car", "LEA1234", 0.9, 70.0, 60.0, None, ("a", "b"))
    return replace(issue(v, FineSchedule(1500, (), 2000, 1000, 500), 0), state=state)


def test_sign_and_verify_round_trip() -> None:
    body = encode_callback(CB)
    sig = sign(SECRET, body)
    assert sig.startswith("sha256=") and len(sig) == 7 + 64
    assert verify_signature(SECRET, body, sig)
    assert verify_signature(SECRET.encode(), body, "  " + sig + " ")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda b, s: (b.replace(b"1500", b"1501"), s),  # altered body
        lambda b, s: (b, sign("another-secret-value", b)),  # another key
        lambda b, s: (b, s[:-1] + ("0" if s[-1] != "0" else "1")),  # one digit off
        lambda b, s: (b, ""),
        lambda b, s: (b, None),
        lambda b, s: (b, s.removeprefix("sha256=")),
        lambda b, s: (b, "sha256=ü"),
    ],
)
def test_verify_refuses_tampering(tamper) -> None:
    body = encode_callback(CB)
    b, s = tamper(body, sign(SECRET, body))
    assert not verify_signature(SECRET, b, s)


def test_encode_parse_round_trip_and_canonical() -> None:
    body = encode_callback(CB)
    assert parse_callback(body) == CB
    assert body == json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "JSON object"),
        (b'{"txn_id": "x"}', "missing"),
        (encode_callback(CB)[:-1] + b',"extra":1}', "unknown"),
        (encode_callback(replace(CB, amount_pkr="1500")), "integer"),  # type: ignore[arg-type]
        (encode_callback(replace(CB, ts=True)), "integer"),  # type: ignore[arg-type]
        (encode_callback(replace(CB, status="refunded")), "status"),
        (encode_callback(replace(CB, nonce="short")), "nonce"),
        (encode_callback(replace(CB, txn_id="bad txn id!")), "txn_id"),
    ],
)
def test_parse_refuses_malformed(body: bytes, words: str) -> None:
    with pytest.raises(CallbackError) as e:
        parse_callback(body)
    assert e.value.status == 400 and words in str(e.value)


def test_freshness_window() -> None:
    check_fresh(CB, CB.ts + 299, 300)
    check_fresh(CB, CB.ts - 299, 300)
    for now in (CB.ts + 301, CB.ts - 301):
        with pytest.raises(CallbackError) as e:
            check_fresh(CB, now, 300)
        assert e.value.status == 400


def test_amount_must_be_the_fine_due() -> None:
    t = _ticket()
    check_amount(t, 1500)
    for wrong in (0, 1499, 1501, 15000):
        with pytest.raises(CallbackError) as e:
            check_amount(t, wrong)
        assert e.value.status == 422 and "1500" in str(e.value)
    check_amount(replace(t, fine_pkr=1800), 1800)  # a surcharge on the fine field is what is due


def test_payable_states_follow_the_lifecycle() -> None:
    assert {TicketState.APPROVED, TicketState.NOTIFIED, TicketState.UPHELD, TicketState.OVERDUE} == PAYABLE_STATES
    for s in TicketState:
        if s in PAYABLE_STATES:
            check_payable(_ticket(s))
        else:
            with pytest.raises(CallbackError):
                check_payable(_ticket(s))
