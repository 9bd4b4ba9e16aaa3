"""Who is asking (``Principal``) and which documents they may see. Every route asks here;
nothing is filtered only in the UI.

- admin: every document;
- reviewer and signer: documents past intake (pending_review and every state after it), all departments;
- uploader (person or department token): every document of its own department;
- the public: published documents only, and their originals only when they hold no personal data
  (the public copy is the 去标识化 text, ``analysis.masking``).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, true

from service.analysis.masking import has_added, is_personal
from service.db import Document
from service.errors import GongkaiError


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
#: Roles that see what reviewers see: reviewers (初审) and signers (签发).
STAFF_REVIEWERS = ("reviewer", "signer")


def visible(who: Principal) -> ColumnElement[bool]:
    if who.role == "admin":
        return true()
    if who.role in STAFF_REVIEWERS:
        return Document.status.in_(REVIEWER_STATES)
    if who.role == "uploader":
        return Document.department_id == who.department_id if who.department_id is not None else false()
    return Document.status == "published"


def can_see(who: Principal, doc: Document) -> bool:
    if who.role == "admin":
        return True
    if who.role in STAFF_REVIEWERS:
        return doc.status in REVIEWER_STATES
    if who.role == "uploader":
        return who.department_id is not None and doc.department_id == who.department_id
    return doc.status == "published"


class OriginalNotPublic(GongkaiError):
    code = "original_not_public"
    http_status = 403
    message_zh = "此文件含个人信息，原件不对外提供；请查看页面上已去标识化的文字。"
    message_en = "The original holds personal data and is not public; the de-identified text is."


def original_is_public(doc: Document) -> bool:
    """Whether anyone may download ``doc``'s original file: not while it holds personal data
    (the file itself is not masked; the public gets the 去标识化 text instead)."""
    return not has_added(doc.masks) and not any(is_personal(f) for f in doc.findings or [])


def check_original(who: Principal, doc: Document) -> None:
    """Raise ``OriginalNotPublic`` when ``who`` is the public and the original holds personal data."""
    if not who.authenticated and not original_is_public(doc):
        raise OriginalNotPublic(str(doc.id))
