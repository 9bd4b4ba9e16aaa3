"""Departments and user accounts: one set of rules for the admin page and the CLI.

A department code appears in index numbers (``mzj-2026-00001``), exports and URLs, so it
is lower-case ASCII; a username likewise. A password has at least ``MIN_PASSWORD``
characters; an uploader belongs to a department. Every creation is audited.
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

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
