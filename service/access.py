"""Who may see which documents. Every route asks here; nothing is filtered only in the UI.

- admin: every document;
- reviewer: documents past intake (pending_review and every state after it), all departments;
- uploader (person or department token): every document of its own department;
- the public: published documents only.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from service.auth import Principal
from service.db import Document

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
