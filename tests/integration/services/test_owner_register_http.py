"""The HTTP owner register against a real local HTTP server: owner, 404, timeout, retries, bad answers, cache."""

from __future__ import annotations

from typing import Any

import pytest

from core.owners import RegisterError
from services.notices.register import CachedRegister, HttpOwnerRegister
from tests.integration.services.notice_servers import http_server

calls: dict[str, int] = {}


def _register(method: str, path: str, body: Any) -> tuple[int, Any, float]:
    plate = path.rsplit("/", 1)[-1]
    calls[plate] = calls.get(plate, 0) + 1
    if plate == "LEA1234":
        return (
            200,
            {
                "name": "Ali Khan",
                "cnic": "17301-1234567-1",
                "address": "GT Road",
                "phone": "+923001234567",
                "email": "ali@example.pk",
                "make": "Suzuki Alto",
                "colour": "silver",
            },
            0,
        )
    if plate == "SLOW1":
        return 200, {"name": "late"}, 1.0
    if plate == "FLAKY1":
        return (500, {}, 0) if calls[plate] < 3 else (200, {"name": "Sana Gul"}, 0)
    if plate == "DOWN1":
        return 503, {}, 0
    if plate == "BAD1":
        return 200, {"nom": "?"}, 0
    if plate == "AUTH1":
        return 401, {}, 0
    return 404, {"error": "no such vehicle"}, 0


def test_http_register_answers_retries_and_times_out() -> None:
    calls.clear()
    slept: list[float] = []
    with http_server(_register) as (url, log):
        reg = HttpOwnerRegister(
            url + "/vehicles", "s3cret", timeout_s=0.3, retries=2, backoff_s=0.1, sleep=slept.append
        )
        o = reg.lookup("lea-1234")
        assert o is not None and o.name == "Ali Khan" and o.source == "http"
        assert o.cnic_masked == "*****-****567-1"  # masked before anything keeps it
        assert log.requests[0][1] == "/vehicles/LEA1234"
        assert log.requests[0][2]["Authorization"] == "Bearer s3cret"
        assert reg.lookup("XYZ999") is None  # 404: no such vehicle, no retry
        assert calls["XYZ999"] == 1
        flaky = reg.lookup("FLAKY1")  # 500, 500, then an answer
        assert flaky is not None and flaky.name == "Sana Gul" and calls["FLAKY1"] == 3
        assert slept[-2:] == [0.1, 0.2]  # exponential backoff
        with pytest.raises(RegisterError, match="unreachable after 3"):
            reg.lookup("SLOW1")  # every attempt times out
        assert calls["SLOW1"] == 3
        with pytest.raises(RegisterError, match="HTTP 503"):
            reg.lookup("DOWN1")
        with pytest.raises(RegisterError, match="malformed"):
            reg.lookup("BAD1")
        with pytest.raises(RegisterError, match="HTTP 401"):
            reg.lookup("AUTH1")
        assert calls["AUTH1"] == 1  # refused: not retried


def test_cache_keeps_answers_and_misses_but_not_errors() -> None:
    calls.clear()
    now = [0.0]
    with http_server(_register) as (url, _):
        reg = CachedRegister(HttpOwnerRegister(url, retries=0, timeout_s=2), ttl_s=60, size=10, clock=lambda: now[0])
        assert reg.lookup("LEA1234") is not None and reg.lookup("LEA1234") is not None
        assert reg.lookup("NOPE1") is None and reg.lookup("NOPE1") is None
        assert calls == {"LEA1234": 1, "NOPE1": 1} and reg.hits == 2
        with pytest.raises(RegisterError):
            reg.lookup("DOWN1")
        with pytest.raises(RegisterError):
            reg.lookup("DOWN1")
        assert calls["DOWN1"] == 2  # an error is asked again
        now[0] = 61.0
        reg.lookup("LEA1234")
        assert calls["LEA1234"] == 2  # expired
