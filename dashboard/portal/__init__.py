"""The citizen portal (issue 15): ``/portal`` pages, the portal/payment/appeal API, the demo gateway.

:func:`install` puts it on the dashboard's Flask server. Call it before :func:`dashboard.auth.install`:
its upload guard must run before the auth check reads a multipart body for its CSRF field, so an
oversized appeal upload is refused (413) before it is read.
"""

from __future__ import annotations

import flask

from config.settings import AppConfig
from dashboard.http import json_error

#: Paths that take an appeal photo upload.
UPLOAD_PATHS = ("/portal/appeal", "/api/v1/portal/appeal")
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
            return json_error(
                413,
                f"upload larger than {limit // 1024} KiB (photo at most {cfg.portal.appeal_photo_max_bytes // 1024} KiB)",
            )
        return None

    server.before_request(_upload_guard)
    server.register_blueprint(pages.bp)
    server.register_blueprint(api.bp)


__all__ = ["FORM_OVERHEAD_BYTES", "UPLOAD_PATHS", "install"]
