"""The document state machine. Every transition is audited in the same transaction.

    received ─► processing ─► pending_review ─► approved ─► published ─► withdrawn
                    │                 │
                    └─► failed(code)  └─► rejected(reason)

Also allowed: failed → received (retry); processing → received (a stuck job is
re-queued); pending_review → processing (re-analysed); approved/rejected → pending_review
(review reopened); withdrawn → published (republished).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from service import audit
from service.db import Document, utcnow
from service.errors import GongkaiError

TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"processing", "failed"}),
    "processing": frozenset({"pending_review", "failed", "received"}),
    "pending_review": frozenset({"approved", "rejected", "processing"}),
    "approved": frozenset({"published", "pending_review"}),
    "published": frozenset({"withdrawn"}),
    "withdrawn": frozenset({"published"}),
    "rejected": frozenset({"pending_review"}),
    "failed": frozenset({"received"}),
}
FINAL_FOR_INTAKE = frozenset({"pending_review", "approved", "published", "withdrawn", "rejected", "failed"})


class InvalidTransition(GongkaiError):
    code = "invalid_transition"
    http_status = 409
    message_zh = "文件当前状态为「{current}」，不能执行此操作（目标状态「{target}」）。"
    message_en = "A document in state {current} cannot move to {target}."

    def __init__(self, detail: str | None = None, *, status: str | None = None, **params: object) -> None:
        super().__init__(detail, **params)
        self.status = status

    def extra(self) -> dict[str, str]:
        return {"status": self.status} if self.status else {}   # the document's state now


STATE_NAMES_ZH = {
    "received": "已接收", "processing": "处理中", "pending_review": "待审核", "approved": "已审核",
    "published": "已发布", "withdrawn": "已撤回", "rejected": "已退回", "failed": "处理失败",
}


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(f"{current} -> {target}", status=current, current=STATE_NAMES_ZH.get(current, current),
                                target=STATE_NAMES_ZH.get(target, target))


def transition_entry(document_id: int, current: str, target: str, actor: str, reason: str | None = None,
                     **detail: Any) -> tuple[str, str, int, dict[str, Any]]:
    """Check a transition and return its audit entry ``(actor, "status", document_id, detail)``."""
    check_transition(current, target)
    entry_detail: dict[str, Any] = {"from": current, "to": target, **detail}
    if reason:
        entry_detail["reason"] = reason
    return actor, "status", document_id, entry_detail


def transition(session: Session, doc: Document, target: str, actor: str, reason: str | None = None,
               **detail: Any) -> None:
    """Move ``doc`` to ``target`` and record who, when, from → to and why.

    The change is a compare-and-set on the stored state: it happens only if the row is
    still in the state ``doc`` was read in. Someone else's change committed in between
    (two reviewers, a double click) makes this one fail with ``InvalidTransition`` naming
    the state the document is in now, whatever the caller locked or read before.
    """
    current = doc.status
    entry = transition_entry(doc.id, current, target, actor, reason, **detail)
    now = utcnow()
    session.flush()
    changed = session.execute(update(Document.__table__)
                              .where(Document.__table__.c.id == doc.id, Document.__table__.c.status == current)
                              .values(status=target, status_changed_at=now)).rowcount
    if changed != 1:
        stored = session.execute(select(Document.status).where(Document.id == doc.id)).scalar_one_or_none()
        stored = stored or current
        raise InvalidTransition(f"{current} -> {target}: the document is {stored} now", status=stored,
                                current=STATE_NAMES_ZH.get(stored, stored), target=STATE_NAMES_ZH.get(target, target))
    set_committed_value(doc, "status", target)
    set_committed_value(doc, "status_changed_at", now)
    audit.append(session, *entry[:3], **entry[3])


class NotUnderReview(GongkaiError):
    code = "invalid_transition"
    http_status = 409
    message_zh = "文件当前状态为「{current}」，不能执行此操作。"
    message_en = "A document in state {current} cannot be changed this way."

    def __init__(self, status: str) -> None:
        super().__init__(status, current=STATE_NAMES_ZH.get(status, status))
        self.status = status

    def extra(self) -> dict[str, str]:
        return {"status": self.status}
