"""The application factory: ``create_app(test_config=None)`` builds the web application.

Settings come from defaults in code → ``GONGKAI_*`` environment variables → ``test_config``;
the runtime (database, storage, queue) and the taxonomy live in ``app.extensions``.
"""
from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, g, request, session

from service import config
from service.errors import ConfigError
from service.runtime import Runtime
from service.taxonomy import from_settings as taxonomy_from_settings
from service.web import admin, annual, api, auditlog, auth, batches, catalogue, desk, http_errors, inputs, pages, report

#: Pages load nothing from other hosts (government intranets are offline, and it keeps
#: injected markup from calling out). Inline styles are allowed; the two inline handlers
#: (print buttons, ``window.print()``; filter selects, ``this.form.submit()``) by their hashes.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-hashes' 'sha256-MguIPR6qNR8D3B+eAlK+bIRTZe8t3wkOY4B/56Me9FU=' "
    "'sha256-osjxnKEPL/pQJbFk1dKsF7PYFmTyMWGmVSiL9inhxJY='; "
    "connect-src 'self'; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'self'; "
    "object-src 'self'"
)


#: HSTS when ``GONGKAI_SECURE_COOKIES`` is on: a year, this host only (a county's other sites
#: under the same domain may not all have HTTPS).
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def _private() -> bool:
    """Whether the response was made for someone signed in (a user's session or a token)."""
    who = g.get("principal")
    if who is not None and who.authenticated:
        return True
    if request.headers.get("Authorization"):
        return True
    # a session read during the request (login, logout, pages): signed in if it names a user
    return bool(session.accessed and session.get("user_id"))


def security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.extensions["gongkai"].settings.secure_cookies:
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    if _private():
        # what a signed-in person sees is kept by no cache, the browser's included (shared
        # computers in a county office); public catalogue pages and assets stay cacheable
        response.headers["Cache-Control"] = "no-store"
    return response


def create_app(test_config: Mapping[str, Any] | None = None):
    settings = config.load(test_config)
    secret = settings.secret_key
    if not secret:
        if settings.env != "development":
            raise ConfigError(what="GONGKAI_SECRET_KEY 未设置：生产环境必须配置一个随机的密钥"
                                   "（开发环境可设 GONGKAI_ENV=development）")
        secret = secrets.token_urlsafe(32)

    app = Flask("service")   # the name Flask logs under, as before the web package held the factory
    app.config.update(
        SECRET_KEY=secret,
        # Refuse larger bodies before they are spooled (413), with room for multipart overhead.
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 64 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,   # behind HTTPS: the cookie never goes over plain HTTP
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    runtime = Runtime.from_settings(settings)
    app.extensions["gongkai"] = runtime
    app.extensions["gongkai.taxonomy"] = taxonomy_from_settings(settings)

    inputs.install(app)   # the ``id`` URL converter first: the routes below use it
    app.register_blueprint(auth.bp, url_prefix="/api/v1")
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    http_errors.register(app)
    # the pages, with HTML error pages (the API keeps its JSON errors)
    for blueprint in (pages.bp, catalogue.bp, desk.bp, admin.bp, auditlog.bp, batches.bp, report.bp, annual.bp):
        app.register_blueprint(blueprint)
    # URLs that match no route belong to no blueprint: answer by path (API → JSON).
    for status in (404, 405):
        app.register_error_handler(status, pages.http_error)
    app.after_request(security_headers)
    return app
