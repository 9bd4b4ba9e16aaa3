"""What every page shares — the ``page`` guard, the header, error pages — and the account pages.

The web pages are what clerks, reviewers and the public use, in Simplified Chinese.

Pages render on the server (Jinja templates in ``templates/``) and change things through
the same REST API as every other client (``/api/v1``), from small scripts in ``static/``
that send the session's CSRF token in the ``X-CSRF-Token`` header. Every page checks
access on the server with ``service.web.auth`` and ``service.access``; nothing is hidden only
in the browser. Every asset is served by the app itself (intranets have no internet).

- ``pages``: login, logout, the account page (own password), the header, error pages (this module);
- ``catalogue``: the public 公开目录 with full-text search (no login);
- ``desk``: upload, my submissions, document history, review queue and review page;
- ``admin``: departments and users, taxonomy, model versions, queue and workers;
- ``auditlog``: 操作日志 — the audit log filtered and paged, CSV export, hash-chain check;
- ``batches``: batch reclassification — batches with live progress, review, apply, roll back;
- ``report``: 年度统计, the annual report's statistics with a CSV export.
"""
from __future__ import annotations

import hmac
import logging
import unicodedata
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, send_file, session, url_for
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from service import accounts, localtime
from service.db import Department, User, transaction
from service.errors import GongkaiError
from service.public_copy import PublicFile
from service.receiving import display_filename
from service.states import STATE_NAMES_ZH
from service.web import auth
from service.web.auth import Forbidden, Unauthorized
from service.web.http_errors import HTTP_MESSAGES, STATUS_BY_CODE, error_response, http_headers

log = logging.getLogger(__name__)
ROLE_NAMES_ZH = {"uploader": "经办人", "reviewer": "审核人", "signer": "签发人", "admin": "管理员", "public": "访客"}

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static/web")


def runtime():
    return current_app.extensions["gongkai"]


def send_public_file(found: PublicFile, inline: bool = False):
    """A document's public file (``service.public_copy``) as a download, or shown in the page."""
    response = send_file(runtime().storage.open(found.sha256), mimetype=found.media_type,
                         as_attachment=not inline, download_name=display_filename(found.filename))
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def page(*roles: str):
    """A page for ``roles`` only: the public goes to the login page, other roles get 403."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            who = auth.current()
            if roles and not who.authenticated:
                return redirect(url_for("web.login", next=request.full_path.rstrip("?"),
                                        expired=1 if auth.session_expired() else None))
            if roles and who.role not in roles:
                raise Forbidden(f"{who.role} not in {roles}")
            if who.must_change_password and request.endpoint != "web.account":
                # a password someone else set: the user chooses their own first, then goes on
                return redirect(url_for("web.account", next=request.full_path.rstrip("?")))
            auth.check_csrf()
            return view(*args, **kwargs)
        return wrapped
    return decorator


def home_for(role: str) -> str:
    return {"uploader": "desk.upload", "reviewer": "desk.queue", "signer": "desk.queue", "admin": "desk.queue"}.get(
        role, "catalogue.index")


# Every time a page shows is Beijing time (service.localtime); the database keeps UTC.
bp.add_app_template_filter(localtime.display, "local_time")
bp.add_app_template_filter(localtime.display_date, "local_date")


@bp.app_template_filter("person")
def person(actor: str | None) -> str:
    """Who did something, as a person reads it: a user's name (王文书, not clerk), a department's
    API token as 系统接口（its label）, the service itself as 系统. The names are read once per request."""
    if not actor:
        return ""
    if actor.startswith("token:"):
        return f"系统接口（{actor.split(':', 2)[-1]}）"
    if actor.startswith("system"):
        return "系统"
    if "people" not in g:
        with transaction(runtime().sessions, readonly=True) as s:
            g.people = {name: shown or name for name, shown in s.execute(select(User.username, User.display_name))}
    return g.people.get(actor, actor)


@bp.app_context_processor
def header_context():
    who = auth.current()
    site = runtime().settings.site_name.strip()
    info = {"who": who, "role_zh": ROLE_NAMES_ZH.get(who.role, who.role), "state_zh": STATE_NAMES_ZH,
            "csrf_token": auth.csrf_token, "department_name": "", "display_name": who.name,
            "site_name": f"{site} 政府信息公开" if site else "政府信息公开平台"}
    if who.kind == "user":
        with transaction(runtime().sessions, readonly=True) as s:
            user = s.get(User, who.user_id)
            info["display_name"] = (user.display_name or user.username) if user else who.name
            dept = s.get(Department, who.department_id) if who.department_id else None
            info["department_name"] = dept.name if dept else "全县（不限部门）"
    return info


@bp.get("/")
def root():
    return redirect(url_for(home_for(auth.current().role)))


def same_site_path(target: str | None) -> str:
    """``target`` when it is a path on this site, else "": every ``next`` goes through here.

    Browsers (and werkzeug's ``redirect``) drop tabs and newlines from a URL and read a
    backslash as a slash, so ``/\t/evil.example`` and ``/\\evil.example`` lead off-site just
    as ``//evil.example`` does: a target with a control, format or space character or a
    backslash is refused, and what is left must start with one slash and have no scheme or host.
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return ""
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in target):
        return ""
    parts = urlsplit(target)
    return "" if parts.scheme or parts.netloc else target


def _safe_next() -> str:
    """The ``next`` page to go on to: a path on this site only."""
    return same_site_path(request.args.get("next"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = _safe_next()
    error = status = None
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
            raise auth.CsrfFailed()
        username, password = request.form.get("username", ""), request.form.get("password", "")
        with transaction(runtime().sessions) as s:
            user, refusal = accounts.attempt_login(s, username, password, auth.login_policy(),
                                                   ip=request.remote_addr)
            if user is not None:
                role = user.role
                auth.begin_session(s, user)
        if refusal is None:
            return redirect(target or url_for(home_for(role)))
        error, status = refusal.message, refusal.http_status
    notice = auth.SessionExpired().message if request.args.get("expired") and not error else None
    return render_template("login.html", error=error, next=target, notice=notice), (status if error else 200)


@bp.post("/logout")
def logout():
    auth.check_csrf()
    auth.sign_out(auth.current())
    return redirect(url_for("catalogue.index"))


class PeopleOnly(Forbidden):
    code = "people_only"
    message_zh = "此页面只供登录的工作人员使用，接口令牌不能打开。"
    message_en = "This page is for a signed-in person; an API token cannot open it."


@bp.route("/account", methods=["GET", "POST"])
@page("uploader", "reviewer", "admin")
def account():
    """The signed-in user's account: who they are, and a new password (other sessions end)."""
    who, error, done, target = auth.current(), None, False, _safe_next()
    if who.kind != "user":   # a department token has no account of its own
        raise PeopleOnly()
    if request.method == "POST":
        form = request.form
        try:
            if form.get("new_password", "") != form.get("repeat_password", ""):
                raise accounts.AccountInputError(what="两次输入的新密码不一致")
            with transaction(runtime().sessions) as s:
                user = accounts.change_own_password(s, who.user_id, form.get("current_password", ""),
                                                    form.get("new_password", ""))
                auth.begin_session(s, user)  # this browser stays signed in; the others are signed out
            if who.must_change_password:   # a temporary password replaced: on to where they were going
                return redirect(target or url_for(home_for(who.role)))
            done = True
        except accounts.AccountInputError as exc:
            error = exc.message
    with transaction(runtime().sessions, readonly=True) as s:
        user = s.get(User, who.user_id)
        info = {"username": user.username, "name": user.display_name or user.username,
                "role": ROLE_NAMES_ZH.get(user.role, user.role),
                "department": user.department.name if user.department else "全县（不限部门）"}
    reason = (accounts.change_reason_zh(who.password_change, runtime().settings.password_max_age_days)
              if who.password_change else "")
    return render_template("account.html", user=info, error=error, done=done, next=target, must_change=reason,
                           min_password=accounts.MIN_PASSWORD), (422 if error else 200)


def error_page(status: int, title: str, message: str, headers: dict | None = None):
    return render_template("error.html", status=status, title=title, message=message), status, headers or {}


TITLES = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "页面不存在", 405: "不支持的请求", 409: "操作被拒绝",
          413: "文件过大", 422: "请求有误"}


def _gongkai_error(exc: GongkaiError):
    if isinstance(exc, Unauthorized) and not auth.current().authenticated:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    status = getattr(exc, "http_status", None) or STATUS_BY_CODE.get(exc.code, 422)
    return error_page(status, TITLES.get(status, "出错了"), exc.message)


def http_error(exc: HTTPException):
    code, message = HTTP_MESSAGES.get(exc.code or 500, ("http_error", "请求失败。"))
    if request.path.startswith("/api/"):
        return error_response(code, message, exc.code or 500, http_headers(exc))
    return error_page(exc.code or 500, TITLES.get(exc.code or 500, "出错了"), message, http_headers(exc))


def _internal_error(exc: Exception):
    log.exception("unhandled error on a page")
    return error_page(500, "服务器内部错误", "服务器内部错误，请稍后重试或联系管理员。")


def error_pages(blueprint: Blueprint) -> Blueprint:
    """Errors inside ``blueprint``'s pages render as HTML pages (called once, where it is defined)."""
    blueprint.register_error_handler(GongkaiError, _gongkai_error)
    blueprint.register_error_handler(HTTPException, http_error)
    blueprint.register_error_handler(Exception, _internal_error)
    return blueprint


error_pages(bp)
