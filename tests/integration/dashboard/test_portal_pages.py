"""The portal's HTML form path: an oversized or wrongly typed appeal photo gets the portal page with the
translated message (English and Urdu), never JSON, and changes nothing; the citizen's pages and JSON carry
no path to the unblurred evidence."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
import requests

from config.settings import load_config
from dashboard import auth
from dashboard.portal.text import t
from tests.integration.dashboard.apps import ApiApp, MakeApp, served
from tests.integration.dashboard.portal_helpers import make_ticket, state_of

BASE = load_config()
CFG = BASE.model_copy(
    update={"portal": BASE.portal.model_copy(update={"rate_limit": 1000, "appeal_photo_max_bytes": 100_000})}
)
PLATE = "LEA-1234"


@pytest.fixture
def env(make_app: MakeApp) -> ApiApp:
    return make_app(CFG, with_portal=True)


def _form(tid: str, lang: str, photo: bytes, name: str = "big.jpg", mime: str = "image/jpeg") -> dict[str, object]:
    return {
        "ticket": tid,
        "plate": PLATE,
        "lang": lang,
        "reason": "I was not there",
        "photo": (io.BytesIO(photo), name, mime),
    }


@pytest.mark.parametrize("lang", ["en", "ur"])
@pytest.mark.parametrize("size", [400_000, 120_000])  # refused by the size guard unread / by the photo check
def test_oversized_photo_on_the_form_is_a_translated_page(env: ApiApp, lang: str, size: int) -> None:
    tid = make_ticket(env.arc, CFG, 1)
    photo = b"\xff\xd8\xff" + b"\0" * size
    r = env.client.post(f"/portal/appeal?lang={lang}", data=_form(tid, lang, photo), content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 413 and r.mimetype == "text/html", page[:200]
    assert t(lang, "photo_too_large", kib=97) in page and 'id="portal-error"' in page
    assert f'lang="{lang}"' in page and ('dir="rtl"' in page) is (lang == "ur")
    assert state_of(env.arc, tid) == "notified" and env.arc.appeals.latest_for(tid) is None


def test_chunked_oversized_upload_is_a_page_too(env: ApiApp) -> None:
    """No Content-Length (chunked, over real HTTP): the size guard cannot tell; reading runs past the limit."""
    tid = make_ticket(env.arc, CFG, 2)
    head = (
        b'--zzz\r\nContent-Disposition: form-data; name="photo"; filename="big.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff"
    )

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(40):
            yield b"\0" * 10_000
        yield b"\r\n--zzz--\r\n"

    headers = {"Content-Type": "multipart/form-data; boundary=zzz"}
    with served(env.app) as base:
        page = requests.post(f"{base}/portal/appeal?lang=ur", data=chunks(), headers=headers, timeout=10)
        api = requests.post(f"{base}/api/v1/portal/appeal", data=chunks(), headers=headers, timeout=10)
    assert page.request.headers.get("Transfer-Encoding") == "chunked"
    assert page.status_code == 413 and page.headers["Content-Type"].startswith("text/html")
    assert t("ur", "photo_too_large", kib=97) in page.text
    assert api.status_code == 413 and "too large" in api.json()["error"]
    assert state_of(env.arc, tid) == "notified"


def test_wrong_photo_type_on_the_form_is_translated(env: ApiApp) -> None:
    tid = make_ticket(env.arc, CFG, 3)
    r = env.client.post(
        "/portal/appeal",
        data=_form(tid, "ur", b"GIF89a" + b"\0" * 50, "a.gif", "image/gif"),
        content_type="multipart/form-data",
    )
    assert r.status_code == 415 and t("ur", "photo_type") in r.get_data(as_text=True)
    assert state_of(env.arc, tid) == "notified"


def test_the_api_path_still_answers_json(env: ApiApp) -> None:
    tid = make_ticket(env.arc, CFG, 4)
    r = env.client.post(
        "/api/v1/portal/appeal",
        data=_form(tid, "en", b"\xff\xd8\xff" + b"\0" * 400_000),
        content_type="multipart/form-data",
    )
    assert r.status_code == 413 and r.is_json and "KiB" in r.json["error"]


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_no_path_to_unblurred_evidence(env: ApiApp, lang: str) -> None:
    tid = make_ticket(env.arc, CFG, 5)
    d = env.arc.get_ticket(tid)
    shas = [e.sha256 for e in d.evidence]
    page = env.client.post("/portal/ticket", data={"ticket": tid, "plate": PLATE, "lang": lang}).get_data(as_text=True)
    js = env.client.post("/api/v1/portal/lookup", json={"ticket": tid, "plate": PLATE}).get_data(as_text=True)
    assert 'id="portal-photo-frame"' in page
    for text in (page, js):
        assert not any(s in text for s in shas)
        for path in ("/evidence/", "/media/", "/clip", "/recording", "/api/v1/tickets", "/api/v1/appeals"):
            assert path not in text, path
    srcs = re.findall(r'<img[^>]*\ssrc="([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/jpeg;base64,") for s in srcs)
    for path in (f"/evidence/{shas[0]}", f"/api/v1/tickets/{tid}", "/api/v1/appeals"):
        assert auth.required_roles(path) is not None, path  # behind the operators' login
