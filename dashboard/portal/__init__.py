"""The citizen portal (issue 15): ``/portal`` pages, the portal/payment/appeal API, the demo gateway.

:func:`install` puts it on the dashboard's Flask server. Call it before :func:`dashboard.auth.install`:
its upload guard must run before the auth check reads a multipart body for its CSRF field, so an
oversized appeal upload is refused (413) before it is read: as JSON on the API path, as the portal's
page with the translated message on the HTML form's path (a body without Content-Length that runs past
the limit while read gets the same answers, from the blueprints' error handlers).
"""

from __future__ import annotations

import flask

from config.settings import AppConfig
from dashboard.http import json_error

#: The HTML form's upload path (its 413 is a portal page) and the API's (JSON).
FORM_UPLOAD_PATH = "/portal/appeal"
#: Paths that take an appeal photo upload.
UPLOAD_PATHS = (FORM_UPLOAD_PATH, "/api/v1/portal/appeal")
#: Room for the other form fields beside the photo.
FORM_OVERHEAD_BYTES = 64 * 1024


def install(server: flask.Flask, cfg: AppConfig) -> None:
    """Register the portal's routes and the upload size guard on ``server``."""
    from dashboard.portal import api, pages

    limit = cfg.portal.appeal_photo_max_bytes + FORM_OVERHEAD_BYTES

    def _upload_guard() -> flask.Response | None:
        req = flask.request
        if req.path not in UPLOAD_PATHS or req.method != "POST":
            return None
        req.max_content_length = limit
        if req.content_length is not None and req.content_length > limit:
            return _too_large()
        return None

    def _too_large() -> flask.Response:
        photo = cfg.portal.appeal_photo_max_bytes
        if flask.request.path == FORM_UPLOAD_PATH:
            return pages.upload_too_large(photo)
        return json_error(413, f"upload larger than {limit // 1024} KiB (photo at most {photo // 1024} KiB)")

    server.before_request(_upload_guard)
    server.register_blueprint(pages.bp)
    server.register_blueprint(api.bp)


__all__ = ["FORM_OVERHEAD_BYTES", "FORM_UPLOAD_PATH", "UPLOAD_PATHS", "install"]
