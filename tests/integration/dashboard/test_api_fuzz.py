"""The public and SOS APIs under hypothesis, against a real dashboard process and Redis.

Whatever a client sends (odd paths and query strings, any JSON or bytes, wrong content
types), the answer is never a 5xx (``/healthz`` may say 503 on purpose: no camera is
online here) and every refusal is JSON ``{"error": <why>, "status": <code>}``.
``FUZZ_EXAMPLES=1000`` fuzzes longer.
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.process import DashboardProcess

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


class Client:
    """One keep-alive HTTP connection with the anonymous CSRF cookie a browser would hold."""

    def __init__(self, base: str) -> None:
        self.host, self.port = urllib.parse.urlsplit(base).hostname or "", urllib.parse.urlsplit(base).port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.csrf = ""
        status, headers, _ = self.request("GET", "/api/v1/traffic")
        cookie = headers.get("set-cookie", "")
        self.csrf = cookie.split("sc_csrf=", 1)[1].split(";", 1)[0] if "sc_csrf=" in cookie else ""
        assert self.csrf, f"no CSRF cookie from the dashboard (status {status})"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Connection": "keep-alive", **(extra or {})}
        if self.csrf:
            headers.update({"Cookie": f"sc_csrf={self.csrf}", "X-CSRF-Token": self.csrf})
        if content_type:
            headers["Content-Type"] = content_type
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def client(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    with DashboardProcess(
        redis_url=redis_server, archive_url=f"sqlite:///{tmp / 'archive.db'}", log_path=tmp / "dashboard.log"
    ) as dash:
        c = Client(dash.url)
        yield c
        c.conn.close()
    log = (tmp / "dashboard.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-4000:]


def check(status: int, body: bytes, path: str, allowed: set[int] | None = None) -> None:
    assert status < 500 or (status == 503 and path.startswith("/healthz")), (status, path, body[:300])
    if allowed is not None:
        assert status in allowed, (status, path, body[:300])
    if status >= 400 and path.startswith("/api/"):
        doc = json.loads(body)
        assert isinstance(doc, dict) and doc.get("status") == status and str(doc.get("error", "")).strip(), doc


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)
numbers = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(), st.text(max_size=8), st.none())
phones = st.one_of(st.from_regex(r"\+92 3[0-9]{2} [0-9]{7}", fullmatch=True), st.text(max_size=30), st.integers())
sos_like = st.fixed_dictionaries(
    {},
    optional={
        "location": st.one_of(
            st.fixed_dictionaries({"lat": numbers, "lon": numbers}),
            st.lists(numbers, max_size=3),
            json_values,
        ),
        "text": st.one_of(st.text(max_size=700), json_values),
        "reporter": st.one_of(
            st.fixed_dictionaries(
                {"phone": phones}, optional={"name": st.one_of(st.text(max_size=100), st.integers())}
            ),
            json_values,
        ),
        "extra": json_values,
    },
)
bodies = st.one_of(
    sos_like.map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    st.just(b"{" * 50),
    st.just(b'{"location": [NaN, Infinity]}'),
)
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", None]
)


@FUZZ
@given(
    path=st.one_of(
        st.sampled_from(["/api/v1/traffic", "/api/v1/updates", "/healthz", "/metrics", "/api/v1/sos"]),
        st.text(max_size=20).map(lambda t: "/api/" + urllib.parse.quote(t, safe="/")),
        st.text(max_size=20).map(lambda t: "/api/v1/traffic/" + urllib.parse.quote(t, safe="")),
    ),
    query=st.lists(
        st.tuples(st.sampled_from(["segment", "limit", "since", "lang", "x"]), st.text(max_size=20)), max_size=4
    ),
    method=st.sampled_from(["GET", "HEAD", "DELETE", "PUT"]),
)
def test_public_api_never_answers_5xx(client: Client, path: str, query: list[tuple[str, str]], method: str) -> None:
    url = path + ("?" + urllib.parse.urlencode(query) if query else "")
    status, _, body = client.request(method, url)
    if method == "HEAD":
        body = b'{"status": %d, "error": "-"}' % status  # HEAD has no body to check
    check(status, body, path)


@FUZZ
@given(
    body=bodies,
    content_type=content_types,
    idem=st.one_of(st.none(), st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)),
)
def test_sos_rejects_bad_reports_with_clear_4xx(
    client: Client, body: bytes, content_type: str | None, idem: str | None
) -> None:
    path = "/api/v1/sos"
    extra = {"Idempotency-Key": idem} if idem is not None else None
    status, _, data = client.request("POST", path, body, content_type, extra)
    check(status, data, path, {201, 400, 413, 415, 422, 429})


@FUZZ
@given(
    body=st.one_of(
        st.fixed_dictionaries(
            {
                "ticket": st.one_of(st.text(max_size=40), json_values),
                "plate": st.one_of(st.text(max_size=20), json_values),
            }
        ),
        json_values,
    ).map(lambda v: json.dumps(v).encode()),
    content_type=content_types,
)
def test_ticket_lookup_never_answers_5xx(client: Client, body: bytes, content_type: str | None) -> None:
    path = "/api/v1/portal/lookup"
    status, _, data = client.request("POST", path, body, content_type)
    check(status, data, path, {200, 400, 404, 413, 415, 422, 429})


def test_sos_accepts_a_good_report(client: Client) -> None:
    report = {
        "location": {"lat": 34.0, "lon": 71.55},
        "text": "Accident near the flyover",
        "reporter": {"name": "Ali", "phone": "+92 300 1234567"},
    }
    status, _, data = client.request("POST", "/api/v1/sos", json.dumps(report).encode(), "application/json")
    assert status in (201, 429), data  # 429 when the fuzzing above used up this client's quota
