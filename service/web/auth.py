"""Who is asking: browser sessions for people, per-department API tokens for systems.

A request is made by a ``Principal``: a user (uploader bound to a department, reviewer,
admin), a department token (acts as an uploader of that department), or the public.
Browser sessions that change something must send the session's CSRF token in the
``X-CSRF-Token`` header (or a ``csrf_token`` form field); token requests need none.

A browser session ends after ``session_idle_minutes`` without an action (等保 asks for a
connection timeout) and in any case 12 hours after sign-in. A page's background refresh
(upload status, batch progress) sends ``X-Gongkai-Poll`` and does not count as an action,
so a page left open does not keep a session alive.
"""
from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, jsonify, request, session
from sqlalchemy import select

from service import accounts, audit, browser_sessions
from service.access import PUBLIC, Principal
from service.api_tokens import token_digest
from service.db import ApiToken, User, transaction
from service.errors import GongkaiError
from service.web.inputs import json_object


class Unauthorized(GongkaiError):
    code = "unauthorized"
    http_status = 401
    message_zh = "请先登录。"
    message_en = "Authentication required."


class TokenInvalid(Unauthorized):
    code = "token_invalid"
    message_zh = "接口令牌无效或已被吊销，请向管理员索取新的令牌。"
    message_en = "The API token is unknown or revoked; ask an admin for a new one."


class SessionExpired(Unauthorized):
    code = "session_expired"
    message_zh = "长时间未操作，已自动退出，请重新登录。"
    message_en = "Signed out after a period without activity; please sign in again."


#: What a user signed in with a temporary password may call: who am I, sign out, change it.
OPEN_WHILE_TEMPORARY = {"auth.me", "auth.logout", "auth.login", "auth.change_password"}
POLL_HEADER = "X-Gongkai-Poll"


class Forbidden(GongkaiError):
    code = "forbidden"
    http_status = 403
    message_zh = "您没有执行此操作的权限。"
    message_en = "You are not allowed to do this."


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    message_zh = "页面已过期或请求来源不可信，请刷新页面后重试。"
    message_en = "CSRF token missing or wrong."


class ForeignOrigin(Forbidden):
    code = "foreign_origin"
    message_zh = "请求来自其他网站，已拒绝。请直接在本系统中操作。"
    message_en = "The request came from another site (Origin or Referer names another host)."


def check_same_origin() -> None:
    """Refuse a request that a page on another site made the browser send (login CSRF).

    Browsers name the page's site in ``Origin`` (or, from older ones, in ``Referer``); a
    request whose header names another host than the one it was sent to is refused (403), as
    is ``Origin: null`` (sandboxed or local pages). Systems calling the API send neither.
    """
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source:
        return
    try:
        host = urlsplit(source.strip()).netloc.rpartition("@")[2].lower()
    except ValueError:
        host = ""
    if not host or host != request.host.lower():
        raise ForeignOrigin(f"{source!r} is not {request.host!r}")


def _sessions():
    return current_app.extensions["gongkai"].sessions


def load_principal() -> Principal:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        digest = token_digest(header[7:].strip())
        with transaction(_sessions(), readonly=True) as s:
            tok = s.execute(select(ApiToken).where(ApiToken.token_sha256 == digest,
                                                   ApiToken.revoked_at.is_(None))).scalar_one_or_none()
            if tok is None:
                raise TokenInvalid("bad token")
            return Principal(kind="token", name=f"token:{tok.department.code}:{tok.label or tok.id}",
                             role="uploader", department_id=tok.department_id)
    user_id, sid = session.get("user_id"), session.get("sid")
    if user_id is None:
        return PUBLIC
    settings = current_app.extensions["gongkai"].settings
    idle = timedelta(minutes=settings.session_idle_minutes) if settings.session_idle_minutes else None
    principal = None
    with transaction(_sessions(), readonly=True) as s:
        found = browser_sessions.check(s, sid, idle) if sid else browser_sessions.Check("unknown")
        user = s.get(User, user_id) if found.state == "open" and found.user_id == user_id else None
        if user is not None and user.active and session.get("stamp") == accounts.session_stamp(user):
            principal = Principal(kind="user", name=user.username, role=user.role, department_id=user.department_id,
                                  user_id=user.id, password_change=accounts.password_change_due(user, _max_age_days()))
    if found.state in ("idle", "expired"):
        with transaction(_sessions()) as s:
            browser_sessions.close(s, found.row_id, found.state)
        session.clear()
        g.session_expired = True
        return PUBLIC
    if principal is None:
        session.clear()   # signed out, deactivated, or the password changed since this session began
        return PUBLIC
    if found.touch and not request.headers.get(POLL_HEADER):
        with transaction(_sessions()) as s:
            browser_sessions.touch(s, found.row_id)
    return principal


def login_policy() -> accounts.LoginPolicy:
    return accounts.LoginPolicy.from_settings(current_app.extensions["gongkai"].settings)


def _max_age_days() -> int:
    return current_app.extensions["gongkai"].settings.password_max_age_days


def session_expired() -> bool:
    """Whether this request came with a session that had just ended for inactivity."""
    current()
    return bool(g.get("session_expired"))


def begin_session(s, user: User) -> None:
    """A fresh browser session for ``user`` (after login, or to stay signed in after a password
    change), recorded in the transaction ``s``; the browser's previous one ends."""
    end_session(s, "replaced")
    session.clear()
    session["user_id"] = user.id
    session["sid"] = browser_sessions.start(s, user.id, ip=request.remote_addr)
    session["stamp"] = accounts.session_stamp(user)
    session.permanent = True
    csrf_token()
    g.pop("principal", None)


def end_session(s, reason: str) -> int | None:
    """End this browser's session on the server (its cookie is worth nothing from then on)."""
    sid = session.get("sid")
    return browser_sessions.end(s, sid, reason) if sid else None


def current() -> Principal:
    if "principal" not in g:
        g.principal = load_principal()
        if g.get("session_expired") and request.path.startswith("/api/"):
            # the caller believes it is signed in: say so, rather than answer as to the public
            raise SessionExpired()
        if (g.principal.must_change_password and request.path.startswith("/api/")
                and request.endpoint not in OPEN_WHILE_TEMPORARY):
            raise accounts.PasswordChangeRequired(g.principal.password_change, _max_age_days())
    return g.principal


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def check_csrf() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS") or current().kind != "user":
        return
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        raise CsrfFailed()


def require(*roles: str):
    """Only principals with one of ``roles`` may call the view (401 for the public)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            who = current()
            if not who.authenticated:
                raise SessionExpired() if session_expired() else Unauthorized()
            if who.role not in roles:
                raise Forbidden(f"{who.role} not in {roles}")
            check_csrf()
            return view(*args, **kwargs)
        return wrapped
    return decorator


bp = Blueprint("auth", __name__)


@bp.post("/login")
def login():
    check_same_origin()
    data = json_object(required=True)
    username, password = str(data.get("username", "")), str(data.get("password", ""))
    with transaction(_sessions()) as s:
        user, refusal = accounts.attempt_login(s, username, password, login_policy(), ip=request.remote_addr)
        if user is not None:
            role, dept = user.role, user.department_id
            change = accounts.password_change_due(user, _max_age_days())
            begin_session(s, user)
    if refusal is not None:
        raise refusal
    return jsonify({"username": username, "role": role, "department_id": dept, "csrf_token": csrf_token(),
                    "must_change_password": change is not None, "password_change": change})


@bp.post("/logout")
def logout():
    who = current()
    if who.kind == "user":
        check_csrf()
    sign_out(who)
    return jsonify({"ok": True})


def sign_out(who: Principal) -> None:
    """End this browser's session on the server and forget the cookie's content."""
    if session.get("sid"):
        with transaction(_sessions()) as s:
            if end_session(s, "logout") is not None and who.kind == "user":
                audit.append(s, who.name, "login.logout")
    session.clear()


@bp.post("/account/password")
def change_password():
    """A signed-in user's own new password (the way on for one whose password is temporary)."""
    who = current()
    if who.kind != "user":
        raise Unauthorized()
    check_csrf()
    data = json_object(required=True)
    with transaction(_sessions()) as s:
        user = accounts.change_own_password(s, who.user_id, str(data.get("current_password", "")),
                                            str(data.get("new_password", "")))
        begin_session(s, user)   # this session goes on; the account's others end
    return jsonify({"ok": True, "csrf_token": csrf_token()})


@bp.get("/me")
def me():
    who = current()
    body = {"kind": who.kind, "name": who.name, "role": who.role, "department_id": who.department_id}
    if who.kind == "user":
        body["csrf_token"] = csrf_token()
        body["must_change_password"] = who.must_change_password
        body["password_change"] = who.password_change
    return jsonify(body)
