"""Departments and user accounts: one set of rules for the admin page and the CLI.

A department code appears in index numbers (``mzj-2026-00001``), exports and URLs, so it
is lower-case ASCII; a username likewise. A password has at least ``MIN_PASSWORD``
characters of at least two kinds (letters, digits, signs) and does not contain the
username; an uploader belongs to a department. Every creation and change is audited.

People come and go: a user changes their own password (knowing the current one), an
admin sets a new one for a user who forgot theirs (temporary, like every password someone
else set: its user must choose their own before doing anything else), and deactivates the account of one
who left (never their own, never the last active admin, so nobody is locked out). A
browser session carries ``session_stamp`` of the password it was opened with: a new
password ends the account's other sessions, deactivation ends all of them.

Logins (the web form and ``/api/v1/login`` alike) go through ``attempt_login``: after
``login_max_failures`` wrong passwords in a row an account is locked for
``login_lockout_minutes`` (等保 2.0 asks for login-failure handling); while locked even the
right password is refused, with a message saying until when. A new password set by an
admin, or reactivation, unlocks it at once.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from service import audit, browser_sessions
from service.db import ROLES, Department, LoginFailure, User, dialect_insert, utcnow
from service.errors import GongkaiError
from service.index_numbers import valid_credit_code
from service.localtime import as_utc, beijing

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MIN_PASSWORD = 8


class AccountInputError(GongkaiError):
    code = "bad_request"
    http_status = 422
    message_zh = "填写有误：{what}"
    message_en = "Invalid input: {what}"


class BadCredentials(GongkaiError):
    code = "bad_credentials"
    http_status = 401
    message_zh = "用户名或密码错误。"
    message_en = "Wrong username or password."


class PasswordChangeRequired(GongkaiError):
    code = "password_change_required"
    http_status = 403
    message_zh = "{why}，请先修改密码后再使用系统。"
    message_en = "Change your password before doing anything else ({reason})."

    def __init__(self, reason: str, max_age_days: int = 0) -> None:
        super().__init__(reason=reason, why=change_reason_zh(reason, max_age_days))


def change_reason_zh(reason: str, max_age_days: int = 0) -> str:
    if reason == "expired":
        return f"您的密码已使用超过 {max_age_days} 天"
    return "您的密码是他人设置的临时密码"


def password_change_due(user: User, max_age_days: int, now: datetime | None = None) -> str | None:
    """Why ``user`` must choose a new password before anything else: "temporary" (someone else
    set it), "expired" (older than ``max_age_days``; 0 = never), or None."""
    if user.must_change_password:
        return "temporary"
    if (max_age_days and user.password_changed_at is not None
            and (now or utcnow()) - as_utc(user.password_changed_at) > timedelta(days=max_age_days)):
        return "expired"
    return None


class AccountLocked(GongkaiError):
    code = "account_locked"
    http_status = 429
    message_zh = "密码连续输错次数过多，账号已锁定至 {until}（北京时间）。请届时再试，或请管理员重置密码。"
    message_en = "Too many wrong passwords: the account is locked until {until} (Beijing time)."


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings) -> LoginPolicy:
        return cls(settings.login_max_failures, timedelta(minutes=settings.login_lockout_minutes))


def locked_until(user: User, now: datetime | None = None) -> datetime | None:
    """When the account's lock ends (Beijing time), or None if it is not locked now."""
    if user.locked_until is None or beijing(user.locked_until) <= (now or utcnow()):
        return None
    return beijing(user.locked_until)


#: Checked against when a name is no account, so that answering takes the same work
#: (a password hash) whether or not the name exists.
_NO_ACCOUNT_HASH = generate_password_hash(secrets.token_urlsafe(16))


def attempt_login(session: Session, username: str, password: str, policy: LoginPolicy, *,
                  ip: str | None = None) -> tuple[User | None, GongkaiError | None]:
    """Check a login and record it (audit, failure count, lock); return the user or the refusal.

    The account's row is locked for the check (SELECT … FOR UPDATE; SQLite serializes
    writers anyway): parallel guesses at one account are checked one at a time, each seeing
    the count the one before left, so at most ``policy.max_failures`` wrong passwords are
    ever checked before the lock. A name that is no account costs the same password hash
    and is counted and locked the same way (``LoginFailure``): neither the time nor the
    answers tell whether a name exists.

    The refusal is returned, not raised, so the caller commits what was recorded first.
    """
    user = session.execute(select(User).where(User.username == username).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one_or_none()
    if user is None or not user.active:
        return None, _unknown_name_failed(session, username, password, policy, ip)
    if until := locked_until(user):
        audit.append(session, username, "login.locked", ip=ip)
        return None, AccountLocked(until=until.strftime("%Y-%m-%d %H:%M"))
    if not check_password_hash(user.password_hash, password):
        audit.append(session, username or "?", "login.failed", ip=ip)
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= policy.max_failures:
            user.failed_logins, user.locked_until = 0, utcnow() + policy.lockout
            audit.append(session, "system", "user.lock", username=username,
                         minutes=int(policy.lockout.total_seconds() // 60))
        return None, BadCredentials()
    user.failed_logins, user.locked_until = 0, None
    audit.append(session, username, "login", ip=ip)
    return user, None


#: Failure records of names that are no account are dropped this long after their last use.
FAILURE_RECORDS_KEPT = timedelta(days=1)


def _unknown_name_failed(session: Session, username: str, password: str, policy: LoginPolicy,
                         ip: str | None) -> GongkaiError:
    """A login with a name that is no account (or a deactivated one): the same hash, count and lock."""
    check_password_hash(_NO_ACCOUNT_HASH, password)
    name = audit.clip_actor(username or "?")
    now = utcnow()
    session.execute(dialect_insert(session)(LoginFailure.__table__)
                    .values(username=name, failures=0, updated_at=now).on_conflict_do_nothing())
    record = session.get(LoginFailure, name, with_for_update=True, populate_existing=True)
    if record.failures == 0 and record.locked_until is None:   # new: a moment to drop stale records
        session.execute(delete(LoginFailure).where(LoginFailure.updated_at < now - FAILURE_RECORDS_KEPT)
                        .execution_options(synchronize_session=False))
    if record.locked_until is not None and as_utc(record.locked_until) > now:
        audit.append(session, name, "login.locked", ip=ip)
        return AccountLocked(until=beijing(record.locked_until).strftime("%Y-%m-%d %H:%M"))
    audit.append(session, name, "login.failed", ip=ip)
    record.failures, record.updated_at = (record.failures or 0) + 1, now
    if record.failures >= policy.max_failures:
        record.failures, record.locked_until = 0, now + policy.lockout
    return BadCredentials()


def add_department(session: Session, code: str, name: str, actor: str, credit_code: str | None = None) -> Department:
    code, name = (code or "").strip(), (name or "").strip()
    if not CODE.match(code) or not name:
        raise AccountInputError(what="部门代码须为小写字母、数字、- 或 _，名称不能为空")
    if session.execute(select(Department).where(Department.code == code)).scalar_one_or_none():
        raise AccountInputError(what=f"部门代码「{code}」已存在")
    credit = _checked_credit_code(session, credit_code)
    department = Department(code=code, name=name, credit_code=credit)
    session.add(department)
    audit.append(session, actor, "department.create", code=code, name=name, credit_code=credit)
    return department


def _checked_credit_code(session: Session, credit_code: str | None, department_id: int | None = None) -> str | None:
    """``credit_code`` upper-cased and checked (GB 32100), or None when empty."""
    credit = (credit_code or "").strip().upper()
    if not credit:
        return None
    if not valid_credit_code(credit):
        raise AccountInputError(what=f"统一社会信用代码「{credit}」无效（须为 18 位，末位校验码须正确）")
    holder = session.execute(select(Department).where(Department.credit_code == credit)).scalar_one_or_none()
    if holder is not None and holder.id != department_id:
        raise AccountInputError(what=f"统一社会信用代码「{credit}」已属于部门「{holder.name}」")
    return credit


def set_credit_code(session: Session, code: str, credit_code: str | None, actor: str) -> Department:
    """Set (or with an empty value clear) a department's 统一社会信用代码; audited. Numbers already
    given keep their form (``service.index_numbers``)."""
    department = session.execute(select(Department).where(Department.code == code)).scalar_one_or_none()
    if department is None:
        raise AccountInputError(what=f"部门代码「{code}」不存在")
    credit = _checked_credit_code(session, credit_code, department.id)
    if credit != department.credit_code:
        audit.append(session, actor, "department.credit_code", code=code, before=department.credit_code, after=credit)
        department.credit_code = credit
    return department


def add_user(session: Session, username: str, role: str, password: str, *, department: str | None = None,
             display_name: str = "", actor: str, temporary: bool = True) -> User:
    """A new account. Its password is ``temporary`` unless its user chose it: they must then
    change it at their first sign-in (the operator's CLI can say ``--permanent``)."""
    username = (username or "").strip()
    if not CODE.match(username.lower()) or role not in ROLES:
        raise AccountInputError(what="用户名须为字母、数字、- 或 _，角色须有效")
    _check_new_password(password, username, label="密码")
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise AccountInputError(what=f"用户名「{username}」已存在")
    dept = None
    if department:
        dept = session.execute(select(Department).where(Department.code == department)).scalar_one_or_none()
        if dept is None:
            raise AccountInputError(what=f"没有部门 {department}")
    if role == "uploader" and dept is None:
        raise AccountInputError(what="经办人必须属于一个部门")
    user = User(username=username, display_name=(display_name or "").strip() or username, role=role,
                department_id=dept.id if dept else None, password_hash=generate_password_hash(password),
                must_change_password=temporary)
    session.add(user)
    audit.append(session, actor, "user.create", username=username, role=role, department=dept.code if dept else None,
                 temporary=temporary)
    return user


def session_stamp(user: User) -> str:
    """Changes whenever the user's password does; a browser session opened before is over."""
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:16]


def _user(session: Session, username: str) -> User:
    user = session.execute(select(User).where(User.username == (username or "").strip())).scalar_one_or_none()
    if user is None:
        raise AccountInputError(what=f"没有用户「{username}」")
    return user


def _check_new_password(password: str, username: str, label: str = "新密码") -> None:
    """At least ``MIN_PASSWORD`` characters of at least two kinds (letters, digits, other signs),
    and not containing the username — the usual 等保 rule for 口令复杂度."""
    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise AccountInputError(what=f"{label}至少 {MIN_PASSWORD} 位")
    kinds = (any(c.isascii() and c.isalpha() for c in password), any(c.isdigit() for c in password),
             any(not (c.isascii() and c.isalnum()) for c in password))
    if sum(kinds) < 2:
        raise AccountInputError(what=f"{label}须包含字母、数字、符号中的至少两种")
    if username and username.lower() in password.lower():
        raise AccountInputError(what=f"{label}不能包含用户名")


def random_password(username: str) -> str:
    """A password the rules accept, for an account the system creates (the first-start admin)."""
    while True:
        password = secrets.token_urlsafe(12)
        try:
            _check_new_password(password, username)
        except AccountInputError:
            continue
        return password


def change_own_password(session: Session, user_id: int, current: str, new: str) -> User:
    """The user changes their password; they must know the current one."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise AccountInputError(what="账号不存在或已停用")
    if not check_password_hash(user.password_hash, current or ""):
        raise AccountInputError(what="当前密码不正确")
    _check_new_password(new, user.username)
    if new == current:
        raise AccountInputError(what="新密码不能与当前密码相同")
    user.password_hash = generate_password_hash(new)
    user.must_change_password, user.password_changed_at = False, utcnow()
    browser_sessions.end_all(session, user.id, "password")   # the caller opens one for this browser
    audit.append(session, user.username, "user.password_change", username=user.username)
    return user


def reset_password(session: Session, username: str, new: str, actor: str, temporary: bool = True) -> User:
    """An admin (or the operator's CLI) sets a new password for a user who forgot theirs;
    it is temporary: the user chooses their own at the next sign-in."""
    user = _user(session, username)
    _check_new_password(new, user.username)
    user.password_hash = generate_password_hash(new)
    user.failed_logins, user.locked_until = 0, None  # the way back in for a locked account
    user.must_change_password, user.password_changed_at = temporary, utcnow()
    browser_sessions.end_all(session, user.id, "password")
    audit.append(session, actor, "user.password_reset", username=user.username, temporary=temporary)
    return user


def set_active(session: Session, username: str, active: bool, actor: str) -> User:
    """Deactivate (staff who left: their sessions end, their history stays) or reactivate an account."""
    user = _user(session, username)
    if user.active == active:
        return user
    if not active:
        if user.username == actor:
            raise AccountInputError(what="不能停用自己的账号")
        if user.role == "admin":
            others = session.execute(select(User).where(User.role == "admin", User.active.is_(True),
                                                        User.id != user.id)).first()
            if others is None:
                raise AccountInputError(what="这是最后一个可用的管理员账号，不能停用")
    user.active = active
    user.failed_logins, user.locked_until = 0, None
    if not active:
        browser_sessions.end_all(session, user.id, "deactivated")
    audit.append(session, actor, "user.activate" if active else "user.deactivate", username=user.username)
    return user
