"""``/portal``: the citizen portal's pages (no login): look-up, ticket, payment, appeal, demo gateway.

Forms post with the double-submit CSRF token (:mod:`dashboard.auth`); the language is a form
field and the ``portal_lang`` cookie (``?lang=ur`` switches). Refusals are pages with the
status code (404 not found, 413/415 photo, 429 with ``Retry-After`` ...), never a crash page.
"""

from __future__ import annotations

import json
import logging
import secrets
import urllib.error
import urllib.request

import flask
from werkzeug.exceptions import RequestEntityTooLarge

from archive import Archive
from core.clock import now_ms
from core.payments import SIGNATURE_HEADER
from dashboard.auth import CSRF_COOKIE
from dashboard.context import current
from dashboard.portal import flows
from dashboard.portal import html as H
from dashboard.portal.gateway import DEMO_PATH, gateway_for
from dashboard.portal.text import lang_of, t

log = logging.getLogger("dashboard.portal")

bp = flask.Blueprint("safecity_portal", __name__)
LANG_COOKIE = "portal_lang"
RETURN_PATH = "/portal/payment/return"
CALLBACK_PATH = "/api/v1/payments/callback"
#: Seconds the demo gateway waits for the webhook to answer.
DEMO_CALLBACK_TIMEOUT_S = 10.0


def _csrf() -> str:
    token = flask.request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    flask.g.set_csrf = token
    return token


def _lang() -> str:
    req = flask.request
    return lang_of(req.form.get("lang") or req.args.get("lang") or req.cookies.get(LANG_COOKIE))


def _reply(
    lang: str, title: str, body: str, status: int = 200, headers: dict[str, str] | None = None
) -> flask.Response:
    resp = flask.Response(H.page(lang, title, body), status=status, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    if flask.request.args.get("lang") in ("en", "ur"):
        resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 86_400, samesite="Lax", path="/")
    return resp


def _refusal(lang: str, e: flows.PortalError, form: bool = False) -> flask.Response:
    """A refusal page (the look-up form again for look-up errors)."""
    kib = current().cfg.portal.appeal_photo_max_bytes // 1024
    text = t(lang, e.key, s=e.retry_after, kib=kib) if e.key else t(lang, "error", reason=str(e))
    headers = {"Retry-After": str(e.retry_after)} if e.status == 429 else {}
    body = H.lookup_form(lang, _csrf(), text) if form else H.message_page(lang, text, False, "portal-error")
    return _reply(lang, t(lang, "title"), body, e.status, headers)


def upload_too_large(max_photo_bytes: int) -> flask.Response:
    """The 413 page of an oversized appeal upload, in the citizen's language, without reading the body.

    The language comes from the form's action (``/portal/appeal?lang=ur``) or the ``portal_lang``
    cookie: the form fields are in the body that is refused unread.
    """
    req = flask.request
    lang = lang_of(req.args.get("lang") or req.cookies.get(LANG_COOKIE))
    text = t(lang, "photo_too_large", kib=max_photo_bytes // 1024)
    return _reply(lang, t(lang, "title"), H.message_page(lang, text, False, "portal-error"), 413)


@bp.errorhandler(RequestEntityTooLarge)
def _read_too_large(_e: RequestEntityTooLarge) -> flask.Response:
    """A chunked upload that ran past the limit while read (the size guard saw no Content-Length)."""
    return upload_too_large(current().cfg.portal.appeal_photo_max_bytes)


def _archive() -> Archive:
    arc = current().archive
    if arc is None:
        raise flows.PortalError(503, "the ticket archive is unavailable", key="unavailable")
    return arc


def _client() -> str:
    return flask.request.remote_addr or "unknown"


def _pair() -> tuple[Archive, object]:
    form = flask.request.form
    arc = _archive()
    return arc, flows.find(arc, form.get("ticket", ""), form.get("plate", ""))


@bp.get("/portal")
def portal_home() -> flask.Response:
    lang = _lang()
    return _reply(lang, t(lang, "title"), H.lookup_form(lang, _csrf()))


@bp.post("/portal/ticket")
def portal_ticket() -> flask.Response:
    lang = _lang()
    ctx = current()
    try:
        flows.rate_check(ctx, "lookup", _client())
        arc, d = _pair()
        v = flows.view(ctx.cfg, arc, d, now_ms())  # type: ignore[arg-type]
        pics = flows.photos(arc, d)  # type: ignore[arg-type]
    except flows.PortalError as e:
        return _refusal(lang, e, form=True)
    plate = flask.request.form.get("plate", "")
    mb = ctx.cfg.portal.appeal_photo_max_bytes // (1024 * 1024)
    return _reply(lang, v["ticket_id"], H.ticket_page(lang, _csrf(), v, pics, plate, mb))


def _base() -> str:
    return flask.request.host_url.rstrip("/")


@bp.post("/portal/pay")
def portal_pay() -> flask.Response:
    lang = _lang()
    ctx = current()
    pay = ctx.cfg.portal.payment
    try:
        flows.rate_check(ctx, "pay", _client())
        arc, d = _pair()
        return_url = (pay.return_url or _base() + RETURN_PATH) + f"?lang={lang}"
        url = flows.start_payment(arc, gateway_for(pay), d, return_url, pay.callback_url or _base() + CALLBACK_PATH)  # type: ignore[arg-type]
    except flows.PortalError as e:
        return _refusal(lang, e)
    return flask.redirect(url, code=303)  # type: ignore[return-value]


@bp.post("/portal/appeal")
def portal_appeal() -> flask.Response:
    lang = _lang()
    ctx = current()
    try:
        flows.rate_check(ctx, "appeal", _client())
        _arc, d = _pair()
        f = flask.request.files.get("photo")
        data = f.read() if f is not None and f.filename else None
        flows.file_appeal(ctx, d, flask.request.form.get("reason"), data, f.mimetype if f else None, now_ms())  # type: ignore[arg-type]
    except flows.PortalError as e:
        return _refusal(lang, e)
    return _reply(lang, t(lang, "title"), H.message_page(lang, "appeal_received", True, "portal-appeal-received"), 201)


@bp.get(RETURN_PATH)
def portal_return() -> flask.Response:
    lang = _lang()
    try:
        attempt = flows.payment_outcome(_archive(), flask.request.args.get("txn", ""))
    except flows.PortalError as e:
        return _refusal(lang, e)
    key = {"paid": "payment_ok", "started": "payment_pending"}.get(attempt.state if attempt else "", "payment_failed")
    return _reply(lang, t(lang, "title"), H.message_page(lang, key, key == "payment_ok", "portal-payment-result"))


# --------------------------------------------------------------------------- the demo gateway


def _demo_gateway_on() -> bool:
    return current().cfg.portal.payment.kind == "demo"


@bp.get(DEMO_PATH)
def demo_gateway() -> flask.Response:
    lang = _lang()
    gw = gateway_for(current().cfg.portal.payment)
    order = {
        k: flask.request.args.get(k, "")
        for k in ("txn", "ticket", "amount", "currency", "return_url", "callback_url", "sig")
    }
    if not _demo_gateway_on() or not gw.order_ok(order) or not order["amount"].isdigit():
        return _reply(lang, t(lang, "gw_title"), H.message_page(lang, "payment_failed", False, "gw-error"), 400)
    return _reply(lang, t(lang, "gw_title"), H.demo_gateway_page(lang, _csrf(), order))


@bp.post(DEMO_PATH)
def demo_gateway_submit() -> flask.Response:
    """Pay or cancel: sign a callback, POST it to the webhook like a real gateway, send the citizen back."""
    lang = _lang()
    form = flask.request.form
    gw = gateway_for(current().cfg.portal.payment)
    order = {k: form.get(k, "") for k in ("txn", "ticket", "amount", "currency", "return_url", "callback_url", "sig")}
    action = form.get("action", "")
    attempt = _archive().payments.get(order["txn"]) if gw.order_ok(order) else None
    if not _demo_gateway_on() or attempt is None or action not in ("paid", "cancelled"):
        return _reply(lang, t(lang, "gw_title"), H.message_page(lang, "payment_failed", False, "gw-error"), 400)
    body, sig = gw.callback(attempt, action)
    req = urllib.request.Request(
        order["callback_url"],
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: sig},
    )
    try:
        with urllib.request.urlopen(req, timeout=DEMO_CALLBACK_TIMEOUT_S) as resp:  # noqa: S310 - a URL we signed
            log.info("demo gateway: callback %s -> %s", order["txn"][:6], resp.status)
    except urllib.error.HTTPError as e:
        log.warning("demo gateway: callback refused: %s %s", e.code, json.loads(e.read() or b"{}").get("error"))
    except OSError as e:
        log.warning("demo gateway: callback not delivered: %s", e)
    sep = "&" if "?" in order["return_url"] else "?"
    return flask.redirect(order["return_url"] + f"{sep}txn={order['txn']}", code=303)  # type: ignore[return-value]


__all__ = ["CALLBACK_PATH", "LANG_COOKIE", "RETURN_PATH", "bp"]
