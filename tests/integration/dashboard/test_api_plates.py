"""Plate search over HTTP (real SQLite archive): results, fuzzy ranking, roles, bad input, audit log.

As in test_api_incidents.py a test header stands in for a logged-in session, so the endpoint's
own checks are what is tested; the path-based role check is dashboard.auth's (and the browser
tests go through it).
"""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest

from config.settings import DEFAULT_CONFIG, load_config
from core.types import PlateRead
from dashboard import api_tickets
from tests.integration.dashboard.apps import MakeApp

CFG = load_config(DEFAULT_CONFIG)
CAM1, CAM2 = CFG.cameras[0], CFG.cameras[1]
T0 = 1_777_624_200_000  # 2026-05-01T08:30:00Z
OP = {"X-Test-User": "op1:operator"}
ADMIN = {"X-Test-User": "boss:admin"}


@pytest.fixture
def env(make_app: MakeApp) -> SimpleNamespace:
    a = make_app(CFG, api_tickets.bp)
    arc = a.arc
    crop = arc.store_evidence(b"\xff\xd8\xff crop of LEA1234")
    seed = [
        ("LEA1234", CAM1.id, T0, crop),
        ("LEA1234", CAM2.id, T0 + 600_000, crop),
        ("LEA1284", CAM2.id, T0 + 300_000, None),  # one off, no crop
        ("LEB1284", CAM1.id, T0 + 900_000, "cd" * 32),  # two off, crop never archived
        ("KHI9999", CAM1.id, T0, None),
    ]
    for i, (plate, cam, ts, sha) in enumerate(seed):
        arc.sightings.add(PlateRead(cam, 10 + i, ts, plate, 0.9, (1.0, 2.0, 3.0, 4.0), 2, sha), f"e{i}", sha)
    return SimpleNamespace(client=a.client, arc=arc, crop=crop)


def test_exact_first_then_fuzzy_with_camera_and_crop(env: SimpleNamespace) -> None:
    r = env.client.get("/api/v1/plates?plate=lea-1234", headers=OP)
    assert r.status_code == 200, r.json
    body = r.json
    got = [(s["plate"], s["distance"], s["camera_id"], s["ts_ms"]) for s in body["sightings"]]
    assert got == [
        ("LEA1234", 0, CAM2.id, T0 + 600_000),
        ("LEA1234", 0, CAM1.id, T0),
        ("LEA1284", 1, CAM2.id, T0 + 300_000),
        ("LEB1284", 2, CAM1.id, T0 + 900_000),
    ]
    first = body["sightings"][0]
    assert first["camera_name"] == CAM2.name and first["location"] == list(CAM2.location)
    assert first["crop_url"] == f"/evidence/{env.crop}" and first["track_id"] == 11 and first["votes"] == 2
    assert first["time"] == "2026-05-01T08:40:00Z"
    assert body["crops_unavailable"] == 2  # no crop, and one that never reached the archive
    assert body["total"] == 4 and body["query"]["plate"] == "LEA1234"


@pytest.mark.parametrize(
    ("query", "n"),
    [
        (f"plate=LEA1234&camera={CAM1.id}", 2),
        ("plate=LEA1234&from=2026-05-01T08:35", 3),
        (f"plate=LEA1234&to={T0}", 1),
        ("plate=LEA1234&from=2026-05-01T08:35&to=2026-05-01T08:44Z", 2),
        ("plate=LEA1234&limit=1", 1),
        ("plate=ZZZ0000", 0),
    ],
)
def test_filters(env: SimpleNamespace, query: str, n: int) -> None:
    r = env.client.get(f"/api/v1/plates?{query}", headers=OP)
    assert r.status_code == 200, r.json
    assert len(r.json["sightings"]) == n


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", "plate: required"),
        ("plate=L", "plate: needs 2-10"),
        ("plate=LEA%271234", "plate: only letters"),
        ("plate=LEA1234&from=tuesday", "from: not a time"),
        ("plate=LEA1234&from=2000&to=1000", "to: is before from"),
        ("plate=LEA1234&camera=cam-nowhere", "camera: unknown camera"),
        ("plate=LEA1234&limit=9999", "limit: must be between"),
        ("plate=LEA1234&sort=ts", "sort: unknown parameter"),
        ("plate=LEA1234&plate=KHI9999", "at most once"),
    ],
)
def test_malformed_queries_get_400_with_a_reason(env: SimpleNamespace, query: str, reason: str) -> None:
    r = env.client.get(f"/api/v1/plates?{query}", headers=OP)
    assert r.status_code == 400
    assert reason in r.json["error"]
    assert env.arc.sightings.audit_log()[1] == 0  # nothing was searched


@pytest.mark.parametrize(("headers", "status"), [({}, 401), ({"X-Test-User": "w1:warden"}, 403)])
def test_only_operators_and_admins_search(env: SimpleNamespace, headers: dict[str, str], status: int) -> None:
    assert env.client.get("/api/v1/plates?plate=LEA1234", headers=headers).status_code == status
    assert env.client.get("/api/v1/admin/plate-searches", headers=headers).status_code == status


def test_every_search_is_audited_and_only_admins_read_the_log(env: SimpleNamespace) -> None:
    env.arc.clock = lambda: 1_800_000_000_000
    assert env.client.get("/api/v1/plates?plate=LEA1234", headers=OP).status_code == 200
    assert env.client.get(f"/api/v1/plates?plate=KHI9999&camera={CAM1.id}", headers=ADMIN).status_code == 200
    assert env.client.get("/api/v1/admin/plate-searches", headers=OP).status_code == 403
    r = env.client.get("/api/v1/admin/plate-searches", headers=ADMIN)
    assert r.status_code == 200
    assert r.json["total"] == 2
    newest, oldest = r.json["searches"]
    assert (oldest["username"], oldest["role"], oldest["source"], oldest["results"]) == ("op1", "operator", "api", 4)
    assert oldest["query"] == {"plate": "LEA1234", "from": None, "to": None, "camera": None, "limit": 100}
    assert (newest["username"], newest["query"]["camera"], newest["results"]) == ("boss", CAM1.id, 1)
    assert newest["ts_ms"] == 1_800_000_000_000


def test_the_crop_is_the_archived_file(env: SimpleNamespace) -> None:
    path = env.arc.evidence_path(env.crop)
    assert path is not None and hashlib.sha256(path.read_bytes()).hexdigest() == env.crop
