"""Owner registers for the notices service: the province's HTTP API, a TTL cache, and the configured one.

:class:`HttpOwnerRegister` asks ``GET <url>/<plate>`` with a bearer token: 200 JSON is the owner
(``name``, ``cnic``, ``address``, ``phone``, ``email``, ``make``, ``colour``; the CNIC is masked here,
before anything stores it), 404 means no such vehicle, a timeout / connection error / 5xx is retried
with exponential backoff and then raised as :class:`core.owners.RegisterError` (the ticket waits and
is tried again). :class:`CachedRegister` keeps answers, "no such vehicle" too, for ``ttl_s``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import requests

from archive import Archive
from config.notices import OwnerRegisterConfig
from core.anpr import normalise_plate_text
from core.backoff import exponential_delay_s
from core.owners import OwnerRecord, OwnerRegister, RegisterError, mask_cnic
from services.sending import http_permanent

#: Longest wait between two register requests.
MAX_BACKOFF_S = 30.0


class HttpOwnerRegister:
    """A province's vehicle registration API.

    Args:
        url: Base URL (the plate is appended as a path segment).
        token: Bearer token ("" = none).
        timeout_s: Per-request timeout.
        retries: Retries after a timeout, connection error or 5xx.
        backoff_s: First retry delay (doubles).
        session: HTTP session (tests, connection reuse).
    """

    def __init__(
        self,
        url: str,
        token: str = "",
        timeout_s: float = 5.0,
        retries: int = 2,
        backoff_s: float = 0.5,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        self._headers = {"Accept": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        self.timeout_s, self.retries, self.backoff_s = timeout_s, retries, backoff_s
        self._session = session or requests.Session()
        self._sleep = sleep
        self.requests = 0

    def lookup(self, plate: str) -> OwnerRecord | None:
        plate = normalise_plate_text(plate)
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(exponential_delay_s(attempt - 1, self.backoff_s, max(MAX_BACKOFF_S, self.backoff_s)))
            self.requests += 1
            try:
                r = self._session.get(f"{self.url}/{quote(plate)}", headers=self._headers, timeout=self.timeout_s)
            except requests.RequestException as e:
                last = f"{type(e).__name__}"
                continue
            if r.status_code == 404:
                return None
            if r.status_code >= 500 or (r.status_code >= 400 and not http_permanent(r.status_code)):
                last = f"HTTP {r.status_code}"
                continue
            if r.status_code != 200:
                raise RegisterError(f"register refused {plate}: HTTP {r.status_code}")
            try:
                return _owner(plate, r.json())
            except (ValueError, TypeError, KeyError) as e:
                raise RegisterError(f"register answered {plate} with malformed JSON: {e}") from None
        raise RegisterError(f"register unreachable after {self.retries + 1} attempt(s): {last}")


def _owner(plate: str, body: Any) -> OwnerRecord:
    if not isinstance(body, dict) or not str(body.get("name", "")).strip():
        raise ValueError("an object with at least 'name' expected")
    return OwnerRecord(
        plate,
        str(body["name"]).strip()[:128],
        mask_cnic(str(body.get("cnic", ""))),
        str(body.get("address", ""))[:500],
        str(body.get("phone", ""))[:20],
        str(body.get("email", ""))[:128],
        str(body.get("make", ""))[:40],
        str(body.get("colour", ""))[:20],
        "http",
    )


class CachedRegister:
    """A register with a TTL cache of answers (owners and "no such vehicle"); errors are not cached."""

    def __init__(
        self, inner: OwnerRegister, ttl_s: float, size: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.inner, self.ttl_s, self.size, self._clock = inner, ttl_s, size, clock
        self._cache: OrderedDict[str, tuple[float, OwnerRecord | None]] = OrderedDict()
        self.hits = self.misses = 0

    def lookup(self, plate: str) -> OwnerRecord | None:
        plate = normalise_plate_text(plate)
        now = self._clock()
        hit = self._cache.get(plate)
        if hit is not None and now - hit[0] < self.ttl_s:
            self.hits += 1
            self._cache.move_to_end(plate)
            return hit[1]
        self.misses += 1
        owner = self.inner.lookup(plate)
        if self.size > 0 and self.ttl_s > 0:
            self._cache[plate] = (now, owner)
            self._cache.move_to_end(plate)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return owner

    def forget(self, plate: str) -> None:
        """Drop the cached answer for ``plate`` (the next lookup asks the register)."""
        self._cache.pop(normalise_plate_text(plate), None)


def build_register(cfg: OwnerRegisterConfig, archive: Archive) -> tuple[OwnerRegister, str]:
    """The configured register, cached, and its name for the audit log (``sql``/``http``)."""
    inner: OwnerRegister
    if cfg.kind == "http":
        inner = HttpOwnerRegister(cfg.url or "", cfg.token, cfg.timeout_s, cfg.retries, cfg.backoff_s)
    else:
        inner = archive.register
    return CachedRegister(inner, cfg.cache_ttl_s, cfg.cache_size), cfg.kind


__all__ = ["CachedRegister", "HttpOwnerRegister", "build_register"]
