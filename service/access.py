"""Who is asking (``Principal``) and which documents they may see. Every route asks here;
nothing is filtered only in the UI.

- admin: every document;
- reviewer: documents past intake (pending_review and every state after it), all departments;
- uploader (person or department token): every document of its own department;
- the public: published documents only.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, true

from service.db import Document


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" | "token" | "public"
    name: str
    role: str  # "uploader" | "reviewer" | "admin" | "public"
    department_id: int | None = None
    user_id: int | None = None
    password_change: str | None = None    # "temporary" / "expired": must choose a new password first

    @property
    def must_change_password(self) -> bool:
        return self.password_change is not None

    @property
    def authenticated(self) -> bool:
        return self.kind != "public"


PUBLIC = Principal(kind="public", name="public", role="public")


REVIEWER_STATES = ("pending_review", "approved", "published", "withdrawn", "rejected")


def visible(who: Principal) -> ColumnElement[bool]:
    if who.role == "admin":
        return true()
    if who.role == "reviewer":
        return Document.status.in_(REVIEWER_STATES)
    if who.role == "uploader":
        return Document.department_id == who.department_id if who.department_id is not None else false()
    return Document.status == "published"


def can_see(who: Principal, doc: Document) -> bool:
    if who.role == "admin":
        return True
    if who.role == "reviewer":
        return doc.status in REVIEWER_STATES
    if who.role == "uploader":
        return who.department_id is not None and doc.department_id == who.department_id
    return doc.status == "published"
