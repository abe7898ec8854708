"""HTML of the citizen portal: plain server-rendered pages and forms (no script), phone-first.

Urdu pages are ``<html lang="ur" dir="rtl">`` in the vendored Lateef font (``assets/fonts``, OFL),
falling back to the system's Urdu/Arabic fonts; nothing is fetched from elsewhere.
"""

from __future__ import annotations

import base64
import html
from datetime import UTC, datetime
from typing import Any

from dashboard.portal.flows import Photo
from dashboard.portal.text import LANGS, t

LANG_NAMES = {"en": "English", "ur": "اردو"}


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def date_utc(ms: int | None, with_time: bool = False) -> str:
    if ms is None:
        return "-"
    d = datetime.fromtimestamp(ms / 1000, UTC)
    return d.strftime("%Y-%m-%d %H:%M") if with_time else d.strftime("%Y-%m-%d")


def pkr(amount: int) -> str:
    return f"{amount:,}"


def page(lang: str, title: str, body: str, switch_to: str | None = "/portal") -> str:
    """A whole portal page in ``lang`` (``switch_to``: where the language links go; None = none)."""
    rtl = lang == "ur"
    links = ""
    if switch_to is not None:
        links = " ".join(
            f'<a class="link-light ms-2" id="portal-lang-{code}" href="{esc(switch_to)}?lang={code}"'
            f' lang="{code}">{esc(LANG_NAMES[code])}</a>'
            for code in LANGS
            if code != lang
        )
    return f"""<!doctype html>
<html lang="{lang}" dir="{"rtl" if rtl else "ltr"}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} - Safe City</title>
<link rel="stylesheet" href="/assets/00-bootstrap.min.css"><link rel="stylesheet" href="/assets/safecity.css"></head>
<body class="bg-light portal-page" id="portal-root">
<header class="d-flex align-items-center bg-dark text-light px-3 py-2">
<span class="h6 mb-0 me-auto portal-brand">Safe City</span><span class="small mx-3">{links}</span></header>
<main class="container py-3 portal-main">{body}</main></body></html>"""


def hidden(fields: dict[str, str]) -> str:
    return "".join(f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">' for k, v in fields.items())


def lookup_form(lang: str, csrf: str, error: str = "") -> str:
    alert = f'<div class="alert alert-danger py-2" role="alert" id="portal-error">{esc(error)}</div>' if error else ""
    return f"""<h1 class="h4" id="portal-title">{esc(t(lang, "title"))}</h1>
<p>{esc(t(lang, "intro"))}</p>{alert}
<form method="post" action="/portal/ticket" class="card card-body shadow-sm" id="portal-lookup">
{hidden({"csrf_token": csrf, "lang": lang})}
<label class="form-label" for="ticket">{esc(t(lang, "ticket_label"))}</label>
<input class="form-control mb-2" id="ticket" name="ticket" dir="ltr" required placeholder="ET-XXXX-XXXX-XXXX"
 autocomplete="off" maxlength="24">
<label class="form-label" for="plate">{esc(t(lang, "plate_label"))}</label>
<input class="form-control mb-3" id="plate" name="plate" dir="ltr" required placeholder="LEA-1234" maxlength="16"
 autocomplete="off">
<button class="btn btn-primary w-100" type="submit" id="portal-lookup-submit">{esc(t(lang, "lookup"))}</button>
</form><p class="small text-muted mt-3">{esc(t(lang, "privacy"))}</p>"""


def _facts(lang: str, v: dict[str, Any]) -> str:
    rows = [
        ("offence", t(lang, f"k_{v['violation']}"), "portal-offence"),
        ("time", date_utc(v["time_ms"], True), "portal-time"),
        ("place", v["place_ur"] if lang == "ur" else v["place"], "portal-place"),
        ("fine", f"PKR {pkr(v['fine_pkr'])}", "portal-fine"),
    ]
    if v["speed_kmh"] is not None:
        lim = f" ({t(lang, 'limit')} {v['limit_kmh']:.0f})" if v["limit_kmh"] else ""
        rows.append(("speed", f"{v['speed_kmh']:.0f} {t(lang, 'km_h')}{lim}", "portal-speed"))
    if v["due_ms"] is not None:
        rows.append(("due", date_utc(v["due_ms"]), "portal-due"))
    rows.append(("state", t(lang, f"st_{v['state']}"), "portal-state"))
    cells = "".join(
        f'<tr><th class="fw-normal text-muted pe-2">{esc(t(lang, k))}</th><td id="{i}">{esc(val)}</td></tr>'
        for k, val, i in rows
    )
    return f'<table class="table table-sm portal-facts"><tbody>{cells}</tbody></table>'


def _photos(lang: str, photos: list[Photo]) -> str:
    if not photos:
        return ""
    imgs = "".join(
        f'<img class="img-fluid rounded mb-2 portal-photo portal-photo-{p.role}" id="portal-photo-{p.role}"'
        f' alt="{esc(t(lang, "photo_alt" if p.role == "frame" else "plate_photo_alt"))}"'
        f' src="data:image/jpeg;base64,{base64.b64encode(p.jpeg).decode("ascii")}">'
        for p in photos
    )
    return f'<figure class="mb-2"><figcaption class="small text-muted mb-1">{esc(t(lang, "photo"))}</figcaption>{imgs}</figure>'


def _status_note(lang: str, v: dict[str, Any]) -> str:
    key = {
        "paid": "paid_note",
        "cancelled": "appeal_cancelled",
        "upheld": "appeal_upheld",
        "appealed": "appeal_pending",
    }
    k = key.get(v["state"])
    return f'<div class="alert alert-info py-2" id="portal-status-note">{esc(t(lang, k))}</div>' if k else ""


def ticket_page(lang: str, csrf: str, v: dict[str, Any], photos: list[Photo], plate: str, max_mb: int) -> str:
    """The citizen's ticket: facts, redacted photo, pay button and appeal form as the state allows."""
    keep = {"csrf_token": csrf, "lang": lang, "ticket": v["ticket_id"], "plate": plate}
    parts = [
        f'<h1 class="h5" id="portal-ticket-id" dir="ltr">{esc(v["ticket_id"])}</h1>',
        _status_note(lang, v),
        _facts(lang, v),
        _photos(lang, photos),
    ]
    if v["payable"]:
        parts.append(
            f'<form method="post" action="/portal/pay" id="portal-pay-form">{hidden(keep)}'
            f'<button class="btn btn-success w-100 mb-3" type="submit" id="portal-pay">'
            f"{esc(t(lang, 'pay', amount=pkr(v['amount_due_pkr'])))}</button></form>"
        )
    if v["appeal_open"]:
        parts.append(
            f'<h2 class="h6 mt-2">{esc(t(lang, "appeal_title"))}</h2>'
            f'<p class="small">{esc(t(lang, "appeal_intro", date=date_utc(v["appeal_deadline_ms"]), mb=max_mb))}</p>'
            f'<form method="post" action="/portal/appeal?lang={lang}" enctype="multipart/form-data" id="portal-appeal-form"'
            f' class="card card-body">{hidden(keep)}'
            f'<label class="form-label" for="reason">{esc(t(lang, "reason_label"))}</label>'
            f'<textarea class="form-control mb-2" id="reason" name="reason" required maxlength="1000" rows="4"></textarea>'
            f'<label class="form-label" for="photo">{esc(t(lang, "photo_label"))}</label>'
            f'<input class="form-control mb-3" type="file" id="photo" name="photo" accept="image/jpeg,image/png">'
            f'<button class="btn btn-outline-primary w-100" type="submit" id="portal-appeal-submit">'
            f"{esc(t(lang, 'send_appeal'))}</button></form>"
        )
    elif v["state"] == "notified" and v["appeal_deadline_ms"] is not None:
        parts.append(f'<p class="small text-muted" id="portal-appeal-closed">{esc(t(lang, "appeal_closed"))}</p>')
    parts.append(f'<p class="mt-3"><a href="/portal?lang={lang}" id="portal-back">{esc(t(lang, "back"))}</a></p>')
    return "".join(parts)


def message_page(lang: str, key_or_text: str, ok: bool, element_id: str = "portal-message", **kw: object) -> str:
    """A short outcome (translated when ``key_or_text`` is a key) with a link back."""
    try:
        text = t(lang, key_or_text, **kw)
    except KeyError:
        text = key_or_text
    cls = "alert-success" if ok else "alert-warning"
    return (
        f'<h1 class="h5">{esc(t(lang, "title"))}</h1><div class="alert {cls}" role="status" id="{element_id}">'
        f'{esc(text)}</div><p><a href="/portal?lang={lang}" id="portal-back">{esc(t(lang, "back"))}</a></p>'
    )


def demo_gateway_page(lang: str, csrf: str, order: dict[str, str]) -> str:
    """The demo gateway: "Pay PKR 1,500 [Pay] [Cancel]", posting the signed order back to the gateway."""
    fields = hidden({**order, "csrf_token": csrf, "lang": lang})
    amount = pkr(int(order["amount"]))
    return f"""<h1 class="h5" id="gw-title">{esc(t(lang, "gw_title"))}</h1>
<p class="small text-muted">{esc(t(lang, "gw_note"))}</p>
<div class="card card-body"><p class="h4" id="gw-amount" dir="ltr">PKR {esc(amount)}</p>
<p class="small" dir="ltr">{esc(order["ticket"])}</p>
<form method="post" action="/portal/demo-gateway" class="d-flex gap-2">{fields}
<button class="btn btn-success flex-fill" name="action" value="paid" id="gw-pay">{esc(t(lang, "gw_pay"))}</button>
<button class="btn btn-outline-secondary flex-fill" name="action" value="cancelled" id="gw-cancel">{esc(t(lang, "gw_cancel"))}</button>
</form></div>"""


__all__ = ["demo_gateway_page", "esc", "lookup_form", "message_page", "page", "ticket_page"]
