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

from sqlalchemy.orm import Session

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
    message_zh = "文件当前状态为「{current}」，不能执行此操作（目标状态「{target}」）。"
    message_en = "A document in state {current} cannot move to {target}."


STATE_NAMES_ZH = {
    "received": "已接收", "processing": "处理中", "pending_review": "待审核", "approved": "已审核",
    "published": "已发布", "withdrawn": "已撤回", "rejected": "已退回", "failed": "处理失败",
}


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(f"{current} -> {target}", current=STATE_NAMES_ZH.get(current, current),
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
    """Move ``doc`` to ``target`` and record who, when, from → to and why."""
    entry = transition_entry(doc.id, doc.status, target, actor, reason, **detail)
    doc.status = target
    doc.status_changed_at = utcnow()
    audit.append(session, *entry[:3], **entry[3])
