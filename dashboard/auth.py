"""Login, roles and CSRF for every request the dashboard's Flask server answers.

* **Who**: the ``sc_session`` cookie (HttpOnly, SameSite=Lax, Secure behind HTTPS) holds a
  random session token; :class:`dashboard.users.UserDirectory` looks it up in SQL.
* **What they may reach**: :func:`required_roles` maps a path to the roles allowed there
  (``None`` = public). Operator pages and APIs are the default, so a new route is closed
  until it is listed as public. Anonymous page requests are redirected to ``/login``;
  anonymous API requests get 401 and the wrong role 403, as JSON. Dash callbacks
  (``POST /_dash-update-component``) are checked by the ids of their outputs:
  ``pub-*`` public, ``wd-*`` wardens, ``adm-*`` admins, anything else operators.
* **CSRF**: every state-changing request (POST, PUT, PATCH, DELETE) from a logged-in
  browser must carry the session's CSRF token in the ``X-CSRF-Token`` header or a
  ``csrf_token`` form field. Dash sends the header itself from the ``sc_csrf`` cookie
  (readable by scripts of this origin only, SameSite=Strict). Anonymous requests need
  either the double-submit token or a JSON body (a cross-site form cannot send one
  without a CORS preflight, which this server never grants).

Also sets conservative security headers (a Content-Security-Policy that keeps the page
on this origin, no framing, no sniffing).
"""

from __future__ import annotations

import html
import json
import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlparse

import flask
from werkzeug.wrappers import Response as WResponse

from dashboard.users import LoginSession, User, UserDirectory, csrf_ok

log = logging.getLogger("dashboard.auth")

SESSION_COOKIE = "sc_session"
CSRF_COOKIE = "sc_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
EXTENSION_KEY = "safecity_auth"

OPERATORS: tuple[str, ...] = ("operator", "admin")
WARDENS: tuple[str, ...] = ("warden", "admin")
ADMINS: tuple[str, ...] = ("admin",)
Roles = tuple[str, ...] | None  # None = public

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: Path prefixes open to everyone (no login). Everything else needs a login.
PUBLIC_PREFIXES: tuple[str, ...] = (
    "/assets/",
    "/_dash-component-suites/",
    "/_dash-layout",
    "/_dash-dependencies",
    "/_favicon.ico",
    "/favicon.ico",
    "/_reload-hash",
    "/login",
    "/logout",
    "/public",
    "/healthz",
    "/metrics",
    "/api/v1/traffic",
    "/api/v1/updates",
    "/api/v1/sos",
    "/portal",
    "/api/v1/portal",
    "/api/v1/payments/callback",
)
#: Path prefixes for wardens (and admins) and for admins only.
ROLE_PREFIXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/api/v1/me", ("operator", "warden", "admin")),
    ("/warden", WARDENS),
    ("/api/v1/warden", ("operator", "warden", "admin")),  # operators may acknowledge any alert there
    ("/admin", ADMINS),
    ("/api/v1/admin", ADMINS),
    ("/api/v1/watchlist", ADMINS),
)
#: Where each role lands after logging in.
HOME_OF = {"operator": "/", "admin": "/", "warden": "/warden"}


def _matches(path: str, prefix: str) -> bool:
    if prefix.endswith("/"):
        return path.startswith(prefix)
    return path == prefix or path.startswith(prefix + "/") or path.startswith(prefix + "?")


def required_roles(path: str) -> Roles:
    """Roles allowed on a path (``None``: public). Unknown paths need an operator or admin."""
    for prefix in PUBLIC_PREFIXES:
        if _matches(path, prefix):
            return None
    for prefix, roles in ROLE_PREFIXES:
        if _matches(path, prefix):
            return roles
    return OPERATORS


def component_roles(component_id: str | dict[str, Any]) -> Roles:
    """Roles allowed to run a Dash callback that writes to this component id."""
    key = component_id if isinstance(component_id, str) else str(component_id.get("type", ""))
    if key.startswith(("_pages", "pub-")):
        return None
    if key.startswith("wd-"):
        return WARDENS
    if key.startswith("adm-"):
        return ADMINS
    return OPERATORS


def split_output_key(key: str) -> list[str | dict[str, Any]]:
    """Component ids in a Dash callback's output key (``id.prop`` or ``..a.p...b.q..``)."""
    parts = key[2:-2].split("...") if key.startswith("..") and key.endswith("..") else [key]
    out: list[str | dict[str, Any]] = []
    for part in parts:
        cid = part.rsplit(".", 1)[0]
        if cid.startswith("{"):
            try:
                parsed = json.loads(cid)
            except ValueError:
                parsed = {"type": ""}
            out.append(parsed if isinstance(parsed, dict) else {"type": ""})
        else:
            out.append(cid)
    return out


def callback_roles(output_key: str) -> Roles:
    """Roles allowed to run the callback with this output key: those allowed on every output."""
    allowed: set[str] | None = None
    for cid in split_output_key(output_key):
        roles = component_roles(cid)
        if roles is None:
            continue
        allowed = set(roles) if allowed is None else allowed & set(roles)
    if allowed is None:
        return None
    return tuple(r for r in ("operator", "warden", "admin") if r in allowed)


def safe_next(target: str | None, default: str = "/") -> str:
    """A same-site relative path to go to after login (anything else becomes ``default``)."""
    if not target:
        return default
    u = urlparse(target)
    if u.scheme or u.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if target.startswith(("/login", "/logout")):
        return default
    return target


@dataclass(frozen=True)
class AuthContext:
    """Per-process handles: the user directory and cookie settings."""

    users: UserDirectory
    secure_cookies: bool
    session_ttl_s: int
    csp_extra_img: str = ""
    csp_extra_media: str = ""


def install(
    server: flask.Flask,
    users: UserDirectory,
    secure_cookies: bool,
    session_ttl_s: int,
    tile_url: str | None,
    media_origin: str = "",
) -> None:
    """Put the login/role/CSRF checks and the /login, /logout, /api/v1/me routes on a Flask app."""
    tile_origin = ""
    if tile_url:
        u = urlparse(tile_url.replace("{s}", "__s__"))
        if u.scheme and u.netloc:  # "https://{s}.tile.example.org/..." -> "https://*.tile.example.org"
            tile_origin = f"{u.scheme}://{u.netloc.replace('__s__', '*')}"
    server.extensions[EXTENSION_KEY] = AuthContext(users, secure_cookies, session_ttl_s, tile_origin, media_origin)
    server.before_request(_before_request)
    server.after_request(_after_request)
    server.register_blueprint(bp)


def auth_context() -> AuthContext:
    ctx = flask.current_app.extensions.get(EXTENSION_KEY)
    if not isinstance(ctx, AuthContext):
        raise RuntimeError("auth not installed: build the app with dashboard.app.create_app()")
    return ctx


def current_user() -> LoginSession | None:
    """The logged-in session of the current request, or None."""
    return getattr(flask.g, "login", None)


def _json_error(status: int, reason: str) -> WResponse:
    resp = flask.jsonify({"error": reason, "status": status})
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _wants_html() -> bool:
    req = flask.request
    if req.method != "GET" or req.path.startswith(("/api/", "/camera/", "/evidence/", "/_dash")):
        return False
    return "text/html" in (req.headers.get("Accept") or "text/html")


def _client_address() -> str:
    return flask.request.remote_addr or ""


def _csrf_sent() -> str | None:
    req = flask.request
    got = req.headers.get(CSRF_HEADER) or req.headers.get("X-CSRFToken")
    if got:
        return got
    if req.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return req.form.get(CSRF_FIELD)
    return None


def _csrf_valid(login: LoginSession | None) -> bool:
    req = flask.request
    sent = _csrf_sent()
    if login is not None:
        return csrf_ok(login.csrf, sent)
    if req.mimetype == "application/json":
        return True
    return csrf_ok(req.cookies.get(CSRF_COOKIE), sent)


def _is_static(path: str) -> bool:
    return path.startswith(("/assets/", "/_dash-component-suites/", "/_favicon.ico"))


def _before_request() -> WResponse | None:
    req = flask.request
    path = req.path
    if _is_static(path):
        return None
    ctx = auth_context()
    if req.routing_exception is not None:
        flask.g.login = None
        return None  # no such route or method: Flask answers 404/405 (nothing to protect)
    try:
        login = ctx.users.session(req.cookies.get(SESSION_COOKIE))
    except Exception as e:  # noqa: BLE001 - the user database is down: nobody is logged in
        log.warning("session lookup failed: %s", e)
        login = None
    flask.g.login = login
    if req.method not in SAFE_METHODS and path != "/login" and not _csrf_valid(login):
        return _json_error(
            403, f"CSRF check failed: send the {CSRF_HEADER} header (or {CSRF_FIELD} form field) of your session"
        )
    if path == "/_dash-update-component":
        body = req.get_json(silent=True)
        key = body.get("output") if isinstance(body, dict) else None
        if not isinstance(key, str):
            return _json_error(400, "malformed Dash callback request")
        roles = callback_roles(key)
    else:
        roles = required_roles(path)
    if roles is None:
        return None
    if login is None:
        if _wants_html():
            nxt = req.full_path if req.query_string else path
            return flask.redirect("/login?next=" + quote(nxt, safe="/"), code=302)
        return _json_error(401, "login required")
    if login.role not in roles:
        if _wants_html():
            return _html_page(
                "Not allowed",
                f"<p>Your role ({html.escape(login.role)}) cannot open this page.</p>"
                f'<p><a href="{HOME_OF.get(login.role, "/")}">Go to your page</a></p>',
                403,
            )
        return _json_error(403, f"role {login.role!r} may not use this (allowed: {', '.join(roles)})")
    return None


def _after_request(resp: flask.Response) -> WResponse:
    req = flask.request
    ctx = flask.current_app.extensions.get(EXTENSION_KEY)
    if not _is_static(req.path) and isinstance(ctx, AuthContext):
        login = current_user()
        want = login.csrf if login is not None else req.cookies.get(CSRF_COOKIE)
        if getattr(flask.g, "set_csrf", None):
            want = flask.g.set_csrf
        elif not want:
            want = secrets.token_urlsafe(24)
        if req.cookies.get(CSRF_COOKIE) != want:
            resp.set_cookie(CSRF_COOKIE, want, httponly=False, samesite="Strict", secure=ctx.secure_cookies, path="/")
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    if resp.mimetype == "text/html":
        img_extra = f" {ctx.csp_extra_img}" if isinstance(ctx, AuthContext) and ctx.csp_extra_img else ""
        media_extra = f" {ctx.csp_extra_media}" if isinstance(ctx, AuthContext) and ctx.csp_extra_media else ""
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: blob:{img_extra}; connect-src 'self' ws: wss:; font-src 'self' data:; "
            f"media-src 'self' data: blob:{media_extra}; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
    return resp


# --------------------------------------------------------------------------- login pages

bp = flask.Blueprint("safecity_auth", __name__)


def _html_page(title: str, body: str, status: int = 200) -> WResponse:
    doc = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} - Safe City</title>
<link rel="stylesheet" href="/assets/00-bootstrap.min.css"><link rel="stylesheet" href="/assets/safecity.css"></head>
<body class="bg-light"><main class="container py-5" style="max-width: 28rem">{body}</main></body></html>"""
    resp = flask.Response(doc, status=status, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _login_form(error: str = "", username: str = "", nxt: str = "", status: int = 200) -> WResponse:
    token = flask.request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    flask.g.set_csrf = token
    alert = (
        f'<div class="alert alert-danger py-2" role="alert" id="login-error">{html.escape(error)}</div>'
        if error
        else ""
    )
    body = f"""
<h1 class="h4 mb-3">Safe City control room</h1>
<form method="post" action="/login" class="card card-body shadow-sm" id="login-form">
  {alert}
  <input type="hidden" name="{CSRF_FIELD}" value="{html.escape(token)}">
  <input type="hidden" name="next" value="{html.escape(nxt)}">
  <label class="form-label" for="username">Username</label>
  <input class="form-control mb-2" id="username" name="username" autocomplete="username" required value="{html.escape(username)}" autofocus>
  <label class="form-label" for="password">Password</label>
  <input class="form-control mb-3" id="password" name="password" type="password" autocomplete="current-password" required>
  <button class="btn btn-primary w-100" type="submit" id="login-submit">Log in</button>
</form>
<p class="mt-3 small text-muted">Operators, wardens and admins log in here.
The public road status needs no login: <a href="/public">/public</a>.</p>"""
    return _html_page("Log in", body, status)


@bp.get("/login")
def login_page() -> WResponse:
    login = current_user()
    nxt = flask.request.args.get("next", "")
    if login is not None:
        return flask.redirect(safe_next(nxt, HOME_OF.get(login.role, "/")))
    return _login_form(nxt=nxt)


@bp.post("/login")
def login_submit() -> WResponse:
    form = flask.request.form
    nxt = form.get("next", "")
    username = (form.get("username") or "").strip().lower()
    cookie = flask.request.cookies.get(CSRF_COOKIE)
    if not csrf_ok(cookie, form.get(CSRF_FIELD)):
        return _login_form("Your form expired: please try again.", username, nxt, 400)
    ctx = auth_context()
    try:
        user = ctx.users.authenticate(username, form.get("password") or "", _client_address())
    except Exception as e:  # noqa: BLE001 - database down
        log.error("login: user database unavailable: %s", e)
        return _login_form("Sign-in is unavailable (user database unreachable).", username, nxt, 503)
    if user is None:
        log.info("failed login for %r from %s", username, _client_address())
        return _login_form("Wrong username or password (or too many attempts: wait 15 minutes).", username, nxt, 401)
    return _start(user, nxt)


def _start(user: User, nxt: str) -> WResponse:
    ctx = auth_context()
    token, sess = ctx.users.start_session(user, _client_address())
    log.info("login: %s (%s)", user.username, user.role)
    resp = flask.redirect(safe_next(nxt, HOME_OF.get(user.role, "/")), code=303)
    resp.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=ctx.session_ttl_s,
        httponly=True,
        samesite="Lax",
        secure=ctx.secure_cookies,
        path="/",
    )
    flask.g.set_csrf = sess.csrf
    return resp


@bp.get("/logout")
def logout_page() -> WResponse:
    login = current_user()
    if login is None:
        return flask.redirect("/login")
    body = f"""<h1 class="h5">Log out {html.escape(login.username)}?</h1>
<form method="post" action="/logout"><input type="hidden" name="{CSRF_FIELD}" value="{html.escape(login.csrf)}">
<button class="btn btn-outline-danger" type="submit" id="logout-submit">Log out</button></form>"""
    return _html_page("Log out", body)


@bp.post("/logout")
def logout_submit() -> WResponse:
    auth_context().users.end_session(flask.request.cookies.get(SESSION_COOKIE))
    resp = flask.redirect("/login", code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    flask.g.login = None
    flask.g.set_csrf = secrets.token_urlsafe(24)
    return resp


@bp.get("/api/v1/me")
def me() -> WResponse:
    login = current_user()
    assert login is not None  # the before-request check answers 401 first
    resp = flask.jsonify({"username": login.username, "role": login.role, "zones": list(login.zones)})
    resp.headers["Cache-Control"] = "no-store"
    return resp


def allowed(roles: Iterable[str] | None) -> bool:
    """True when the current request's user may use something for ``roles`` (None: public)."""
    if roles is None:
        return True
    login = current_user()
    return login is not None and login.role in set(roles)


def require(roles: Sequence[str]) -> LoginSession:
    """The current login if its role is in ``roles``; else aborts with 401/403 (Dash callbacks, APIs)."""
    login = current_user()
    if login is None:
        flask.abort(401, "login required")
    if login.role not in roles:
        flask.abort(403, f"role {login.role!r} may not do this")
    return login
