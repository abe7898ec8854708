"""Plates never reach the logs: the access log's ``plate=`` query values are masked.

``GET /api/v1/plates?plate=LEA1234`` carries a plate in its URL (the API's contract); with
``python -m dashboard --access-log`` werkzeug would log it. :class:`PlateRedactor` rewrites
such log records to ``plate=***`` before any handler sees them.
"""

from __future__ import annotations

import logging
import re

#: A ``plate`` query parameter and its value (up to the next ``&``, space or quote).
PLATE_PARAM = re.compile(r"(?i)([?&]plate=)[^&\s\"']*")


def redact_plates(text: str) -> str:
    """``text`` with the value of every ``plate=`` query parameter replaced by ``***``."""
    return PLATE_PARAM.sub(r"\1***", text)


class PlateRedactor(logging.Filter):
    """A logging filter that masks plate query values (it never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        red = redact_plates(msg)
        if red != msg:
            record.msg, record.args = red, ()
        return True


def install(logger_name: str = "werkzeug") -> None:
    """Put a :class:`PlateRedactor` on a logger (the access log by default), once."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, PlateRedactor) for f in logger.filters):
        logger.addFilter(PlateRedactor())


__all__ = ["PLATE_PARAM", "PlateRedactor", "install", "redact_plates"]
