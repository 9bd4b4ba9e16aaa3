"""Departments and user accounts: one set of rules for the admin page and the CLI.

A department code appears in index numbers (``mzj-2026-00001``), exports and URLs, so it
is lower-case ASCII; a username likewise. A password has at least ``MIN_PASSWORD``
characters; an uploader belongs to a department. Every creation and change is audited.

People come and go: a user changes their own password (knowing the current one), an
admin sets a new one for a user who forgot theirs, and deactivates the account of one
who left (never their own, never the last active admin, so nobody is locked out). A
browser session carries ``session_stamp`` of the password it was opened with: a new
password ends the account's other sessions, deactivation ends all of them.
"""
from __future__ import annotations

import hashlib
import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from service import audit
from service.db import ROLES, Department, User
from service.errors import GongkaiError

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MIN_PASSWORD = 8


class AccountInputError(GongkaiError):
    code = "bad_request"
    http_status = 422
    message_zh = "填写有误：{what}"
    message_en = "Invalid input: {what}"


def add_department(session: Session, code: str, name: str, actor: str) -> Department:
    code, name = (code or "").strip(), (name or "").strip()
    if not CODE.match(code) or not name:
        raise AccountInputError(what="部门代码须为小写字母、数字、- 或 _，名称不能为空")
    if session.execute(select(Department).where(Department.code == code)).scalar_one_or_none():
        raise AccountInputError(what=f"部门代码「{code}」已存在")
    department = Department(code=code, name=name)
    session.add(department)
    audit.append(session, actor, "department.create", code=code, name=name)
    return department


def add_user(session: Session, username: str, role: str, password: str, *, department: str | None = None,
             display_name: str = "", actor: str) -> User:
    username = (username or "").strip()
    if not CODE.match(username.lower()) or role not in ROLES or len(password or "") < MIN_PASSWORD:
        raise AccountInputError(what=f"用户名须为字母、数字、- 或 _，角色须有效，密码至少 {MIN_PASSWORD} 位")
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
                department_id=dept.id if dept else None, password_hash=generate_password_hash(password))
    session.add(user)
    audit.append(session, actor, "user.create", username=username, role=role, department=dept.code if dept else None)
    return user


def session_stamp(user: User) -> str:
    """Changes whenever the user's password does; a browser session opened before is over."""
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:16]


def _user(session: Session, username: str) -> User:
    user = session.execute(select(User).where(User.username == (username or "").strip())).scalar_one_or_none()
    if user is None:
        raise AccountInputError(what=f"没有用户「{username}」")
    return user


def _check_new_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AccountInputError(what=f"新密码至少 {MIN_PASSWORD} 位")


def change_own_password(session: Session, user_id: int, current: str, new: str) -> User:
    """The user changes their password; they must know the current one."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise AccountInputError(what="账号不存在或已停用")
    if not check_password_hash(user.password_hash, current or ""):
        raise AccountInputError(what="当前密码不正确")
    _check_new_password(new)
    if new == current:
        raise AccountInputError(what="新密码不能与当前密码相同")
    user.password_hash = generate_password_hash(new)
    audit.append(session, user.username, "user.password_change", username=user.username)
    return user


def reset_password(session: Session, username: str, new: str, actor: str) -> User:
    """An admin (or the operator's CLI) sets a new password for a user who forgot theirs."""
    user = _user(session, username)
    _check_new_password(new)
    user.password_hash = generate_password_hash(new)
    audit.append(session, actor, "user.password_reset", username=user.username)
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
    audit.append(session, actor, "user.activate" if active else "user.deactivate", username=user.username)
    return user
