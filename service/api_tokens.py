"""Department API tokens: for systems (an OA, a 政务服务 platform) that upload as a department.

A token is shown once, when it is created; only its sha256 is stored. Admins list a
department's tokens by label and creation time and revoke one that leaked or whose system
is retired: from that moment it is refused. One set of rules for the API, the admin page
and the CLI; every creation and revocation is audited.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit
from service.accounts import AccountInputError
from service.db import ApiToken, Department, utcnow
from service.errors import GongkaiError
from service.localtime import beijing

MAX_LABEL = 100


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_api_token() -> str:
    return "gk_" + secrets.token_urlsafe(32)


class TokenNotFound(GongkaiError):
    code = "not_found"
    http_status = 404
    message_zh = "没有这个接口令牌：{what}"
    message_en = "No such API token: {what}"


def _department(session: Session, code: str) -> Department:
    dept = session.execute(select(Department).where(Department.code == code)).scalar_one_or_none()
    if dept is None:
        raise TokenNotFound(what=f"没有部门 {code}")
    return dept


def create(session: Session, department: str, label: str, actor: str) -> tuple[ApiToken, str]:
    """A new token for ``department``: the row and the token itself, which is never shown again."""
    label = (label or "").strip()
    if len(label) > MAX_LABEL:
        raise AccountInputError(what=f"令牌说明最多 {MAX_LABEL} 个字")
    dept = _department(session, department)
    secret = new_api_token()
    token = ApiToken(department_id=dept.id, token_sha256=token_digest(secret), label=label)
    session.add(token)
    session.flush()
    audit.append(session, actor, "token.create", department=dept.code, label=label, token_id=token.id)
    return token, secret


def listing(session: Session, department: str | None = None) -> list[dict]:
    """Tokens (never their secret), newest first, optionally of one department."""
    query = select(ApiToken).join(Department).order_by(ApiToken.id.desc())
    if department:
        query = query.where(Department.code == _department(session, department).code)
    return [to_dict(t) for t in session.execute(query).scalars()]


def revoke(session: Session, token_id: int, actor: str) -> ApiToken:
    # an id beyond the column's range names no token (PostgreSQL would refuse the query)
    token = session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    if token is None:
        raise TokenNotFound(what=str(token_id))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.append(session, actor, "token.revoke", department=token.department.code, label=token.label,
                     token_id=token.id)
    return token


def _iso(moment: datetime | None) -> str | None:
    return beijing(moment).isoformat(timespec="minutes") if moment else None


def to_dict(token: ApiToken) -> dict:
    return {"id": token.id, "department": token.department.code, "label": token.label,
            "created_at": _iso(token.created_at), "revoked_at": _iso(token.revoked_at),
            "active": token.revoked_at is None}
