"""A red-light ticket's video clip plays on its ticket page in headless Chromium (H.264 MP4 via the operator link).

Real parts: frames of the synthetic camera through :class:`ingest.clips.recorder.ClipRecorder` (ring, encoder,
disk blob store), the clips service's recording step, a SQLite archive, ``python -m dashboard`` on Redis, and
Debian's Chromium, which must decode the clip: the test reads the ``<video>``'s duration and plays it.
"""

from __future__ import annotations

import threading
import urllib.request
from pathlib import Path
from typing import Any

import cv2
import pytest
import yaml

from archive import Archive
from config.settings import CameraConfig, load_config
from core.clock import now_ms
from core.tickets import issue
from core.types import ClipSaved, IncidentKind, Violation
from dashboard.process import REPO_ROOT, DashboardProcess
from ingest.clips.recorder import ClipRecorder
from ingest.sources import open_source
from services.clips import ClipsService
from services.fines import fine_schedule
from storage.disk import DiskStore
from tests.browser.conftest import CHROMIUM
from tests.browser.test_control_room import login_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install chromium (make browser-deps)"
    ),
]

PRE_S, POST_S, FPS = 2.0, 2.0, 10


def _clip_of_synthetic_red_light(cfg: Any, store: DiskStore, arc: Archive) -> tuple[str, ClipSaved]:
    cam = CameraConfig.model_validate(
        {**cfg.cameras[0].model_dump(), "source": {"kind": "synthetic", "seed": 7, "realtime": False, "fps": FPS}}
    )
    got: list[ClipSaved] = []
    done = threading.Event()
    rec = ClipRecorder(
        cam.id,
        cfg.clips.model_copy(update={"pre_s": PRE_S, "post_s": POST_S, "fps": FPS, "max_width": 640}),
        store,
        lambda evs: (got.extend(evs), done.set()),
        clock=lambda: 0,
    )
    src = open_source(cam)
    src.open()
    stills: list[str] = []
    moment = 0
    for i in range(60):
        f = src.read()
        if i == 25:
            moment = f.ts_ms
            vid = f"rl-{moment}"
            rec.request("violation", vid, moment)
        if i in (20, 25, 30):
            ok, buf = cv2.imencode(".jpg", f.image)
            stills.append(arc.store_evidence(buf.tobytes()))
        rec.add(f)
    src.close()
    assert done.wait(30), "clip not written"
    rec.flush()
    v = Violation(
        violation_id=vid,
        kind=IncidentKind.RED_LIGHT,
        camera_id=cam.id,
        segment_id=cam.segment,
        track_id=4,
        ts_ms=moment,
        label="car",
        plate="PRA-2201",
        plate_confidence=0.9,
        location=cam.location,
        evidence=tuple(stills),
        details=(("evidence_roles", "frame,frame,frame"), ("signal_phase", "red")),
    )
    ticket = issue(v, fine_schedule(cfg.fines), now_ms())
    assert arc.add_ticket(ticket, ["frame", "frame", "frame"])
    svc = ClipsService(cfg, bus=None, archive=arc)  # type: ignore[arg-type]
    assert svc.handle_one(got[0])
    return ticket.ticket_id, got[0]


def test_red_light_ticket_page_plays_its_clip(
    browser: Any, redis_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFECITY_MEDIA_KEY", "browser-test-media-key-0123456789")
    raw = yaml.safe_load((REPO_ROOT / "config" / "default.yaml").read_text(encoding="utf-8"))
    raw.setdefault("archive", {})["evidence_dir"] = str(tmp_path / "evidence")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    cfg = load_config(config)
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    store = DiskStore(tmp_path / "evidence")
    arc = Archive(url, tmp_path / "evidence", store=store)
    ticket_id, clip = _clip_of_synthetic_red_light(cfg, store, arc)
    arc.close()
    with DashboardProcess(redis_server, config=config, archive_url=url, log_path=tmp_path / "dash.log") as dash:
        base = dash.url
        with urllib.request.urlopen(f"{base}/clip/violation/{clip.owner_id}", timeout=10) as r:
            assert "/login" in r.geturl() and b"ftyp" not in r.read(64)  # anonymous: sent to log in, no video
        context = browser.new_context(viewport={"width": 1500, "height": 1000})
        page = context.new_page()
        try:
            login_page(page, base, "operator", "operator-demo")
            page.goto(base + "/tickets")
            row = page.locator(".ag-center-cols-container .ag-row", has_text="red_light").first
            row.wait_for(timeout=30_000)
            row.click()
            page.locator("#tk-clip-video").wait_for(timeout=15_000)
            page.wait_for_function("() => document.querySelector('#tk-clip-video').readyState >= 1", timeout=20_000)
            duration, error = page.evaluate(
                "() => { const v = document.querySelector('#tk-clip-video'); return [v.duration, v.error && v.error.code]; }"
            )
            assert error is None
            assert duration == pytest.approx(PRE_S + POST_S, abs=0.4)
            assert duration == pytest.approx(clip.duration_s, abs=0.15)
            page.evaluate("() => document.querySelector('#tk-clip-video').play()")
            page.wait_for_function("() => document.querySelector('#tk-clip-video').currentTime > 0.5", timeout=15_000)
            assert clip.sha256 in page.locator("#tk-clip").inner_text()
            # the stable /clip/ path hands the operator a short-lived signed link; altered, it is refused
            hop = page.request.get(f"{base}/clip/violation/{clip.owner_id}", max_redirects=0)
            assert hop.status == 302
            link = hop.headers["location"]
            assert link.startswith("/media/clips/") and "exp=" in link and "sig=" in link
            ok = page.request.get(base + link)
            assert ok.status == 200 and ok.headers["content-type"] == "video/mp4" and len(ok.body()) == clip.size
            assert page.request.get(base + link.replace("sig=", "sig=0")).status == 403
        finally:
            context.close()
