"""Plates in access-log lines are masked; everything else is left alone."""

from __future__ import annotations

import logging

import pytest

from dashboard.redact import PlateRedactor, redact_plates


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '"GET /api/v1/plates?plate=LEA-1234&camera=c1 HTTP/1.1" 200',
            '"GET /api/v1/plates?plate=***&camera=c1 HTTP/1.1" 200',
        ),
        (
            '"GET /api/v1/plates?camera=c1&PLATE=lea1234 HTTP/1.1" 400',
            '"GET /api/v1/plates?camera=c1&PLATE=*** HTTP/1.1" 400',
        ),
        ('"GET /api/v1/plates?plate= HTTP/1.1" 400', '"GET /api/v1/plates?plate=*** HTTP/1.1" 400'),
        ('"GET /api/v1/tickets?state=issued HTTP/1.1" 200', '"GET /api/v1/tickets?state=issued HTTP/1.1" 200'),
        ("template=abc", "template=abc"),
    ],
)
def test_redact_plates(line: str, expected: str) -> None:
    assert redact_plates(line) == expected


def test_filter_rewrites_the_record(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.redact")
    log.addFilter(PlateRedactor())
    with caplog.at_level(logging.INFO, "test.redact"):
        log.info('%s - - "%s" %s', "127.0.0.1", "GET /api/v1/plates?plate=LEA1234 HTTP/1.1", 200)
    assert "LEA1234" not in caplog.text
    assert "plate=***" in caplog.text
